"""`spreadwatch report INCIDENT --out FILE.html`: the self-contained story of one incident."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from spreadwatch.cli.context import AppContext, format_option, incidents_dir_option
from spreadwatch.cli.params import check_out

if TYPE_CHECKING:
    from indexer.scope import IncidentScope
    from spreadwatch.incident import Claim


def _describe(
    app: AppContext, ref: str, folder: Path
) -> tuple[IncidentScope, str | None, str, list[Claim]]:
    """Incident scope (id, window), title, description and claims from its file; a bare id
    with no file still works when posts of it are indexed (else a usage error, as for
    `timeline`)."""
    from indexer.scope import IncidentScope
    from spreadwatch.incident import ConfigFileError, resolve_incident

    try:
        incident = resolve_incident(ref, [folder])
    except ConfigFileError:
        if Path(ref).suffix in (".yml", ".yaml") or "/" in ref:
            raise
        from spreadwatch.cli.look import _check_incident

        _check_incident(app, ref, folder, "INCIDENT")
        click.echo(
            f"note: no incident file for {ref!r} in {folder}; using indexed data only", err=True
        )
        return IncidentScope(ref), None, "", []
    return IncidentScope.of(incident), incident.title, incident.description, incident.claims


#: What `--out` ends in per `--format`.
REPORT_FILES = {"html": (".html", ".htm"), "pdf": (".pdf",)}


@click.command("report")
@click.argument("incident", metavar="INCIDENT")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="File to write: .html (one self-contained file: inline CSS and SVG charts, no network) "
    "or .pdf with --format pdf.",
)
@format_option("html", "pdf", help="A self-contained HTML page, or a PDF of it (A4 pages).")
@incidents_dir_option
@click.pass_obj
def report(app: AppContext, incident: str, out: Path, fmt: str, incidents_dir: Path) -> None:
    """Write the report of INCIDENT (a path to its file, or its id), as HTML or PDF.

    Phases with the denial marked, platform order, top posts per phase, amplifiers, GitHub
    activity and near-duplicate clusters, from what is indexed now.
    """
    from spreadwatch.report import collect, write_report

    check_out(out, REPORT_FILES, fmt)
    scope, title, description, claims = _describe(app, incident, incidents_dir)
    data = collect(
        app.client,
        app.names,
        scope,
        title=title,
        description=description,
        claims=claims or None,
        replay_url=app.settings.evidence_replay_url,
    )
    if fmt == "pdf":
        from spreadwatch.report.pdf import write_pdf

        write_pdf(data, out)
    else:
        write_report(data, out)
    posts = data.phases.span.posts if data.phases.span else 0
    click.echo(f"wrote {out} ({posts} posts of {scope.id})")


commands = [report]
