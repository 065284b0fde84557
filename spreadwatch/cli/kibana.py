"""`spreadwatch kibana export|import`: dashboards as saved objects, built in code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from spreadwatch.cli.context import EXIT_FAILED, AppContext, incidents_dir_option
from spreadwatch.cli.params import check_out

if TYPE_CHECKING:
    from spreadwatch.incident import Incident


@click.group("kibana")
def kibana() -> None:
    """Kibana dashboards: export saved objects as NDJSON, or import them over the API."""


def _incidents(refs: tuple[str, ...], folder: Path) -> list[Incident]:
    from spreadwatch.incident import load_incidents, resolve_incident

    if refs:
        return [resolve_incident(ref, [folder]) for ref in refs]
    return load_incidents([folder]) if folder.is_dir() else []


def _bundle(app: AppContext, refs: tuple[str, ...], folder: Path) -> list[dict]:
    """Saved objects for the incidents; on a fresh cluster the indices are created first, so
    every data view points at an index that exists and the figures are simply "none yet"."""
    from indexer.kibana import build_bundle
    from indexer.kibana.facts import dashboard_facts
    from indexer.kibana.objects import DashboardFacts
    from indexer.templates import ShardLayout
    from indexer.templates import init as init_indices

    incidents = _incidents(refs, folder)
    init_indices(app.client, app.names, ShardLayout.from_settings(app.settings))
    facts: list[DashboardFacts] = [
        dashboard_facts(app.client, app.names, incident) for incident in incidents
    ]
    if not facts:
        click.echo(f"note: no incident files in {folder}: no dashboard exported", err=True)
    return build_bundle(app.settings.index_prefix, facts)


_incident_option = click.option(
    "--incident",
    "incident_refs",
    multiple=True,
    metavar="ID|PATH",
    help="Incident to build a dashboard for (repeatable); default: every file in --incidents-dir.",
)


@kibana.command("export")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="File to write; must end in .ndjson (Kibana's import refuses other names).",
)
@_incident_option
@incidents_dir_option
@click.pass_obj
def export(app: AppContext, out: Path, incident_refs: tuple[str, ...], incidents_dir: Path) -> None:
    """Write data views, Lens panels, saved searches and one dashboard per incident."""
    from indexer.kibana import write_ndjson

    check_out(out, {"ndjson": (".ndjson",)}, exact_case=True)  # Kibana takes only `.ndjson`
    objects = _bundle(app, incident_refs, incidents_dir)
    write_ndjson(objects, out)
    click.echo(f"wrote {len(objects)} saved objects to {out}")


@kibana.command("import")
@click.option(
    "--url", help="Kibana base URL, e.g. http://localhost:5601 (default: SPREADWATCH_KIBANA_URL)."
)
@click.option("--space", help="Kibana space id to import into (default: the default space).")
@click.option(
    "--api-key",
    help="Kibana API key (encoded form); default: SPREADWATCH_KIBANA_API_KEY. Prefer the variable.",
)
@click.option(
    "--user",
    help="Kibana user for basic auth (e.g. elastic); password from SPREADWATCH_KIBANA_PASSWORD "
    "or a prompt. Ignored when an API key is given.",
)
@click.option(
    "--file",
    "bundle_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Import this exported .ndjson file instead of building the bundle now.",
)
@_incident_option
@incidents_dir_option
@click.pass_obj
def import_(
    app: AppContext,
    *,
    url: str | None,
    space: str | None,
    api_key: str | None,
    user: str | None,
    bundle_file: Path | None,
    incident_refs: tuple[str, ...],
    incidents_dir: Path,
) -> None:
    """Send the saved objects to Kibana (overwriting earlier copies); list every failed object."""
    from indexer.kibana import to_ndjson
    from indexer.kibana.importer import import_objects

    target = url or app.settings.kibana_url
    if not target:
        raise click.UsageError("give --url or set SPREADWATCH_KIBANA_URL")
    if bundle_file is not None:
        ndjson, filename = bundle_file.read_text(encoding="utf-8"), bundle_file.name
    else:
        ndjson, filename = (
            to_ndjson(_bundle(app, incident_refs, incidents_dir)),
            "spreadwatch.ndjson",
        )
    key = api_key or app.settings.secret("kibana_api_key")
    result = import_objects(
        ndjson,
        target,
        space=space,
        api_key=key,
        basic_auth=None if key or not user else (user, _password(app)),
        filename=filename,
    )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if result.success:
        click.echo(f"imported {result.success_count} saved objects into {target}")
        return
    click.echo(
        f"import incomplete: {result.success_count} imported, {len(result.errors)} failed", err=True
    )
    for problem in result.errors:
        click.echo(f"  {problem.describe()}", err=True)
    raise SystemExit(EXIT_FAILED)


def _password(app: AppContext) -> str:
    """The basic-auth password: from the settings, else asked for (never an option: shell history)."""
    return app.settings.secret("kibana_password") or click.prompt(
        "Kibana password", hide_input=True
    )


commands = [kibana]
