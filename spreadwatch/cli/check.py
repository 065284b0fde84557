"""`spreadwatch check [PATH ...]`: read incident files as the monitor will, before it does.

A comms team edits an incident file by hand; the monitor would refuse a broken one (or go on
with its last good version) and a source without its credential would crawl little or nothing.
This says both at once, with no Elasticsearch and nothing crawled, as `promtool check` or
`nginx -t` do: each file valid or not (file, line, field), ids used twice, and what each valid
file will not do as things stand (a source's missing credential, alerts that reach nobody).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from spreadwatch.cli._output import count, escape
from spreadwatch.cli.context import EXIT_BAD_INPUT, AppContext, format_option

if TYPE_CHECKING:
    from spreadwatch.incident import Incident
    from spreadwatch.settings import Settings


@dataclass
class FileCheck:
    """One file's verdict: its error, or what it sets up and the notes on what it will not do."""

    file: str
    error: str | None = None
    id: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@format_option("table", "json", help="Lines for people, or a JSON list (a file each) for scripts.")
@click.pass_obj
def check(app: AppContext, paths: tuple[Path, ...], fmt: str) -> None:
    """Check incident files (PATHS: files or folders; default: incidents/) as the monitor reads
    them, without Elasticsearch: each valid or not (file, line, field), ids used by two files,
    and for each valid one what it will not do as things stand: no source enabled, a source
    whose credential is set neither in the settings nor in the variable the file names, alerts
    with no recipient or no SMTP server. Secrets are only looked for, never shown. Exits 2
    when a file is invalid."""
    from spreadwatch.incident import incident_files

    looked = list(paths) or [Path("incidents")]
    files = incident_files(looked)
    if not files:
        where = ", ".join(str(p) for p in looked)
        raise click.BadParameter(f"no incident file (*.yml, *.yaml) in {where}", param_hint="PATHS")
    checks = _check_files(files, app.settings)
    if fmt == "json":
        click.echo(json.dumps([asdict(c) for c in checks], ensure_ascii=False, indent=2))
    else:
        click.echo(_lines(checks))
    if any(c.error for c in checks):
        raise click.exceptions.Exit(EXIT_BAD_INPUT)


def _check_files(files: list[Path], settings: Settings) -> list[FileCheck]:
    from spreadwatch.incident import ConfigFileError, load_incident
    from spreadwatch.readiness import incident_notes

    checks: list[FileCheck] = []
    first_with: dict[str, str] = {}
    for file in files:
        try:
            incident = load_incident(file)
        except ConfigFileError as error:
            checks.append(FileCheck(str(file), error=str(error)))
            continue
        if incident.id in first_with:
            twice = f"{file}: id {incident.id!r} is also the id of {first_with[incident.id]}"
            checks.append(FileCheck(str(file), error=twice, id=incident.id))
            continue
        first_with[incident.id] = str(file)
        checks.append(
            FileCheck(
                str(file),
                id=incident.id,
                summary=_summary(incident),
                notes=incident_notes(incident, settings),
            )
        )
    return checks


def _summary(incident: Incident) -> dict[str, Any]:
    return {
        "queries": len(incident.queries),
        "languages": sorted({q.lang for q in incident.queries}),
        "claims": len(incident.claims),
        "sources": list(incident.sources.enabled()),
        "alert_rules": len(incident.alerts.rules),
        "recipients": len(incident.alerts.recipients),
        "reports": len(incident.reports),
    }


def _lines(checks: list[FileCheck]) -> str:
    lines = []
    for one in checks:
        if one.error:
            lines.append(f"INVALID  {one.error}")
            continue
        s = one.summary
        lines.append(
            f"ok       {one.file}  {one.id}: {count(s['queries'], 'query', 'queries')} "
            f"({', '.join(s['languages'])}), {count(s['claims'], 'claim')}, sources "
            f"{', '.join(s['sources']) or 'none'}, {count(s['alert_rules'], 'alert rule')} "
            f"for {count(s['recipients'], 'recipient')}, "
            f"{count(s['reports'], 'scheduled report')}"
        )
        lines += [f"  note: {note}" for note in one.notes]
    invalid = sum(1 for c in checks if c.error)
    lines.append(f"{count(len(checks), 'file')}: {len(checks) - invalid} valid, {invalid} invalid")
    return escape("\n".join(lines), keep_lines=True)


commands = [check]
