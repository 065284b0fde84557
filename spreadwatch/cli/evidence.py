"""`spreadwatch evidence export|verify|recheck|prune`: the archive of what was said.

Imports of the library happen inside the commands, so `spreadwatch --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from spreadwatch.cli.context import EXIT_FAILED, AppContext, format_option, incidents_dir_option
from spreadwatch.cli.params import check_out


@click.group("evidence")
def evidence_group() -> None:
    """Archived copies of posts: export them, verify a package, re-check posts, prune."""


@evidence_group.command("export")
@click.argument("incident_ref", metavar="INCIDENT")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="FILE.wacz (a web archive package) or FILE.warc.gz; index and manifest go beside it.",
)
@incidents_dir_option
@click.pass_obj
def export_command(app: AppContext, incident_ref: str, out: Path, incidents_dir: Path) -> None:
    """Export every archived record of INCIDENT with an index page and a CSV manifest."""
    from evidence.export import export
    from indexer.evidence_queries import archived_posts
    from indexer.templates import init
    from spreadwatch.incident import resolve_incident

    check_out(out, {"wacz": (".wacz", ".warc.gz")})
    incident = resolve_incident(incident_ref, [incidents_dir])
    init(app.client, app.names)
    posts = archived_posts(app.client, app.names, incident.id)
    done = export(app.settings.data_dir, incident.id, incident.title, posts, out)
    click.echo(
        f"wrote {done['out']}: {done['posts']} archived posts from {done['warcs']} WARC files, "
        f"{done['bytes']:,} bytes; manifest {out.name}.manifest.csv, index {out.name}.index.html"
    )


@evidence_group.command("verify")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@format_option("text", "json")
def verify_command(file: Path, fmt: str) -> None:
    """Re-check FILE (.wacz or .warc.gz): every record's digest, the manifest, the package."""
    from evidence.export import verify

    report = verify(file)
    if fmt == "json":
        click.echo(json.dumps({**report.__dict__, "ok": report.ok}, indent=2))
    elif report.problem:
        click.echo(f"{file}: verification FAILED: {report.problem}")
    else:
        package = {None: "", True: "; package hashes valid", False: "; PACKAGE INVALID"}
        click.echo(
            f"{report.records} records checked, {len(report.mismatched)} digest mismatches; "
            f"manifest: {report.manifest_rows} rows, {len(report.manifest_missing)} without "
            f"their record{package[report.package_valid]}"
        )
        for record in report.mismatched:
            click.echo(f"  digest mismatch: {record}")
        for post in report.manifest_missing:
            click.echo(f"  record missing for: {post}")
    if not report.ok:
        raise SystemExit(EXIT_FAILED)


@evidence_group.command("recheck")
@click.argument("incident_ref", metavar="INCIDENT")
@incidents_dir_option
@click.option(
    "--min-reach",
    type=int,
    default=None,
    help="Re-check matched posts reaching at least this many (default: the setting).",
)
@click.pass_obj
def recheck_command(
    app: AppContext, incident_ref: str, incidents_dir: Path, min_reach: int | None
) -> None:
    """Re-check INCIDENT's posts of interest now: which were deleted, which edited."""
    from crawlers.launch import incident_path, run_crawl
    from evidence.recheck import prepare, render_pages
    from indexer.templates import init
    from spreadwatch.incident import resolve_incident

    incident = resolve_incident(incident_ref, [incidents_dir])
    init(app.client, app.names)
    reach = app.settings.evidence_recheck_min_reach if min_reach is None else min_reach
    count = prepare(app.client, app.names, app.settings.data_dir, incident.id, reach)
    click.echo(f"re-checking {count} posts of {incident.id}")
    ref = incident_path(incident.path or incident.id)
    outcome = run_crawl(app.settings, ref, "recheck", incident_id=incident.id)
    summary: dict[str, Any] = outcome.summary or {}
    click.echo(
        f"{outcome.status}: {summary.get('deleted', 0)} deleted, {summary.get('edited', 0)} "
        f"edited, {summary.get('evidence_captured', 0)} new captures"
    )
    if incident.evidence.render:
        counts = render_pages(app.client, app.names, app.settings, incident.id, incident.evidence.render)  # fmt: skip
        click.echo(
            f"rendered captures: {counts['rendered']} new, {counts['unchanged']} unchanged, "
            f"{counts['failed']} failed, {counts['refused']} refused (private network)"
        )
    if outcome.status in ("failed", "timeout"):
        raise SystemExit(EXIT_FAILED)


@evidence_group.command("prune")
@click.argument("incident_ref", metavar="INCIDENT")
@incidents_dir_option
@click.option(
    "--days",
    type=int,
    default=None,
    help="Prune day files older than this (default: SPREADWATCH_EVIDENCE_RETENTION_DAYS).",
)
@click.pass_obj
def prune_command(
    app: AppContext, incident_ref: str, incidents_dir: Path, days: int | None
) -> None:
    """Drop archived records of INCIDENT no post refers to, from day files past retention."""
    from evidence.retention import prune
    from indexer.evidence_queries import referenced_records
    from indexer.templates import init
    from spreadwatch.incident import resolve_incident

    incident = resolve_incident(incident_ref, [incidents_dir])
    init(app.client, app.names)
    keep = referenced_records(app.client, app.names, incident.id)
    age = app.settings.evidence_retention_days if days is None else days
    report = prune(app.settings.data_dir, incident.id, keep, age)
    click.echo(
        f"{report.files} day files older than {age} days: {report.removed_records} records "
        f"removed, {report.bytes_before:,} → {report.bytes_after:,} bytes"
    )


commands = [evidence_group]
