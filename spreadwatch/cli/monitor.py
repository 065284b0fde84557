"""`spreadwatch run` (the monitor) and `spreadwatch status` (what it is doing)."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from alerts.mailer import sender_from_settings
from indexer.templates import init as init_indices
from scheduler.runtime import DEFAULT_CRAWL_COMMAND, DEFAULT_STREAM_COMMAND, Runtime
from scheduler.service import Monitor
from scheduler.status import collect
from spreadwatch.cli.context import AppContext, format_option


@click.command("run")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Jobs (crawls, alert evaluations) that may run at the same time.",
)
@click.option(
    "--crawl-timeout",
    type=click.FloatRange(min=1),
    default=None,
    help="Seconds before a crawl is killed and recorded as timeout "
    "[default: SPREADWATCH_CRAWL_TIMEOUT].",
)
@click.option(
    "--shutdown-grace",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds running crawls may go on after SIGTERM/SIGINT before they are killed.",
)
@click.option(
    "--watch-interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between checks of the incident files for changes.",
)
@click.option(
    "--crawl-command",
    default=None,
    help="Command that runs one crawl, with {incident}, {source} and {run_id} "
    "filled in [default: python -m crawlers.run --incident {incident} ...].",
)
@click.option(
    "--stream-command",
    default=None,
    help="Command kept running for each streamed source, with {incident} and {source} filled "
    "in [default: python -m spreadwatch stream {incident} --source {source}].",
)
@click.pass_obj
def run(app: AppContext, paths: tuple[Path, ...], **options: Any) -> None:
    """Monitor every incident file in PATHS (files or folders; default: ./incidents).

    Crawls each source at its interval, evaluates alert rules and sends alert e-mails until
    stopped with SIGTERM or Ctrl-C. Edited, added or removed incident files take effect
    without a restart.
    """
    settings = app.settings
    init_indices(app.client, app.names)
    sender = sender_from_settings(settings.secret("smtp_url"), settings.smtp_timeout)
    command = options["crawl_command"]
    rt = Runtime(
        settings=settings,
        client=app.client,
        names=app.names,
        sender=sender,
        crawl_command=tuple(shlex.split(command)) if command else DEFAULT_CRAWL_COMMAND,
        crawl_timeout=options["crawl_timeout"] or settings.crawl_timeout,
        shutdown_grace=options["shutdown_grace"],
    )
    stream = options["stream_command"]
    monitor = Monitor(
        rt,
        list(paths) or [Path("incidents")],
        workers=options["workers"],
        watch_interval=options["watch_interval"],
        stream_command=tuple(shlex.split(stream)) if stream else DEFAULT_STREAM_COMMAND,
    )
    monitor.run_until_signalled()
    click.echo("monitor stopped")


@click.command("status")
@format_option("table", "json", help="A table for people, or JSON for scripts.")
@click.pass_obj
def status(app: AppContext, fmt: str) -> None:
    """Jobs and next runs, the last run per source, the spool, and open alerts."""
    state = collect(app.settings, app.client, datetime.now(UTC))
    if fmt == "json":
        click.echo(json.dumps(state, ensure_ascii=False, indent=2))
        return
    click.echo(_table(state))


def _table(state: dict[str, Any]) -> str:
    lines = [f"jobs ({len(state['jobs'])}) in {state['job_store']}"]
    for job in state["jobs"]:
        lines.append(f"  {job['id']:<48} next {job['next_run'] or 'paused':<32} {job['schedule']}")
    lines.append(f"last runs ({len(state['last_runs'])})")
    for row in state["last_runs"]:
        error = f"  error: {row['error']}" if row["error"] else ""
        lines.append(
            f"  {row['incident']}/{row['source']:<12} {row['status'] or '?':<8} {row['started']}"
            f"  items {row['items_scraped'] or 0} indexed {row['items_indexed'] or 0} "
            f"dropped {row['items_dropped'] or 0} errors {row['error_count'] or 0}{error}"
        )
    spool = state["spool"]
    waiting = ", ".join(f"{prefix} {s['documents']}" for prefix, s in spool["by_prefix"].items())
    lines.append(
        f"spool: {spool['documents']} documents waiting" + (f" ({waiting})" if waiting else "")
    )
    lines.append(f"open alerts ({len(state['open_alerts'])})")
    for alert in state["open_alerts"]:
        lines.append(
            f"  {alert['state']:<8} {alert['raised']}  {alert['subject']}"
            + (f"  ({alert['last_error']})" if alert["last_error"] else "")
        )
    return "\n".join(lines)


commands = [run, status]
