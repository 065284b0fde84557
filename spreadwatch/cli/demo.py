"""`spreadwatch demo`: the founding case replayed end to end (see spreadwatch/demo/runner.py)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import click

from spreadwatch.cli.context import AppContext
from spreadwatch.cli.params import Duration
from spreadwatch.demo import DEFAULT_ROUND, DEFAULT_SPEED, DEMO_INCIDENT_FILE


@click.command("demo")
@click.option(
    "--speed",
    type=click.FloatRange(min=0.01),
    default=DEFAULT_SPEED,
    show_default=True,
    help="Simulated hours per wall-clock second between rounds (the default paces the 12 days "
    "over two minutes; a round's crawls that take longer than its pace stretch it: about 4½ "
    "minutes in all on a 2-core machine).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo-out"),
    show_default=True,
    help="Folder for the HTML report, the alert e-mails (.eml), the Kibana NDJSON and the story.",
)
@click.option(
    "--clean",
    is_flag=True,
    help="Remove what the last demo indexed (its incident's posts, activity, runs and alerts) "
    "and stop; nothing is played.",
)
@click.option(
    "--every",
    type=Duration(minimum=timedelta(minutes=1)),
    default=f"{int(DEFAULT_ROUND.total_seconds() // 3600)}h",
    show_default=True,
    help="Simulated time between crawl rounds (each round crawls every source once, then runs the alerts).",
)
@click.option(
    "--no-pace",
    is_flag=True,
    help="Do not wait between rounds: play as fast as the machine allows.",
)
@click.pass_obj
def demo(
    app: AppContext, *, speed: float, out: Path, clean: bool, every: timedelta, no_pace: bool
) -> None:
    """Replay the October 2024 ByteDance-intern rumour end to end (a reconstruction, not real posts).

    Starts the replay servers, a local SMTP server and crawls on a simulated clock against the
    configured Elasticsearch (the embedded node by default); Ctrl-C stops everything it started.
    What it indexes stays in the normal indices under the incident id
    bytedance-intern-2024-demo (a new demo replaces it) for search, timeline, report and Kibana.
    """
    if clean:
        _clean(app)
        return
    from spreadwatch.demo.display import Display
    from spreadwatch.demo.runner import DemoOptions, run_demo
    from spreadwatch.demo.story import render_story

    options = DemoOptions(out=out, speed=speed, every=every, pace=not no_pace)
    settings = app.settings  # loaded (and logging configured) before the display takes over
    if not app.debug:
        _quiet_logs()
    with Display() as display:
        result = run_demo(settings, options, display)
    click.echo("")
    click.echo(render_story(result.story))
    click.echo("")
    for _source, problem in sorted(result.crawl_failures.items()):
        click.echo(f"crawl problem: {problem}")
    click.echo(f"played {result.rounds} rounds in {result.wall_s:.0f}s. Wrote:")
    for path in result.written:
        click.echo(f"  {path}")
    click.echo("")
    click.echo(next_steps(result.incident, out))


def next_steps(incident: str, out: Path) -> str:
    """What to try next on what the demo left indexed (the commands work as printed)."""
    return "\n".join(
        [
            f"The demo's posts stay indexed as incident {incident}. Explore them:",
            f'  spreadwatch search "8000 H100" --incident {incident} --sort oldest --limit 10',
            f"  spreadwatch search Praktikanten --incident {incident}",
            f"  spreadwatch timeline {incident}",
            f"  spreadwatch report {incident} --out {out / 'report.html'}",
            f"  spreadwatch search '*' --incident {incident} --format xlsx --out posts.xlsx",
            f"  spreadwatch kibana export --incident {DEMO_INCIDENT_FILE} --out dashboards.ndjson",
            "  spreadwatch demo --clean      (removes them)",
        ]
    )


def _clean(app: AppContext) -> None:
    from indexer.purge import delete_incident
    from spreadwatch.incident import load_incident

    incident = load_incident(DEMO_INCIDENT_FILE)
    deleted = delete_incident(app.client, app.names, incident.id)
    click.echo(f"removed {sum(deleted.values())} documents of {incident.id}")


#: Loggers whose routine INFO lines would scroll the live display away (shown with --debug).
_CHATTY = (
    "mail.log",
    "indexer",
    "alerts",
    "spreadwatch.replay",
    "spreadwatch.demo",
    "elastic_transport",
)


def _quiet_logs() -> None:
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)


commands = [demo]
