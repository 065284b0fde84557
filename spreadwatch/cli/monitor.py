"""`spreadwatch run` (the monitor) and `spreadwatch status` (what it is doing)."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from spreadwatch.cli._output import count, escape
from spreadwatch.cli.context import AppContext, format_option
from spreadwatch.cli.params import SECONDS


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
    type=SECONDS,
    default=None,
    help="Time before a crawl is killed and recorded as timeout: 900 (seconds), 15m "
    "[default: SPREADWATCH_CRAWL_TIMEOUT].",
)
@click.option(
    "--shutdown-grace",
    type=SECONDS,
    default="15s",
    show_default=True,
    help="After SIGTERM/SIGINT running crawls may finish for this long; then they are asked to "
    "stop (they save their work) and killed 10 s later. Keep it well below Docker's "
    "stop_grace_period.",
)
@click.option(
    "--watch-interval",
    type=SECONDS,
    default="5s",
    show_default=True,
    help="Time between checks of the incident files for changes.",
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
    "in [default: python -m spreadwatch stream {incident} --source {source} --no-label].",
)
@click.pass_obj
def run(app: AppContext, paths: tuple[Path, ...], **options: Any) -> None:
    """Monitor every incident file in PATHS (files or folders; default: ./incidents).

    Crawls each source at its interval, evaluates alert rules and sends alert e-mails until
    stopped with SIGTERM or Ctrl-C. Edited, added or removed incident files take effect
    without a restart. With SPREADWATCH_SCRAPYD_URLS, crawls run on those Scrapyd daemons.
    Several monitors on one cluster: one runs the jobs, the others stand by (docs/scaling.md).
    """
    from alerts.mailer import sender_from_settings
    from indexer.templates import ShardLayout
    from indexer.templates import init as init_indices
    from scheduler.runtime import DEFAULT_CRAWL_COMMAND, DEFAULT_STREAM_COMMAND, Runtime
    from scheduler.scrapyd import ScrapydDispatcher
    from scheduler.service import Monitor

    settings = app.settings
    init_indices(app.client, app.names, ShardLayout.from_settings(settings))
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
        scrapyd=ScrapydDispatcher.from_settings(settings),
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
    """Is the monitor running; jobs and next runs; last run per source; spool; open alerts.

    Exits 0 when all is well, 1 on a warning (overdue jobs, invalid incident files, alerts that
    could not be delivered, posts waiting minutes for the stance model), 2 when no monitor is
    running: usable from cron or Nagios.
    """
    from scheduler.status import collect

    state = collect(app.settings, app.client, datetime.now(UTC))
    if fmt == "json":
        click.echo(json.dumps(state, ensure_ascii=False, indent=2))
    else:
        click.echo(_table(state))
    code = state["health"]["exit_code"]
    if code:
        raise click.exceptions.Exit(code)


def _monitor_lines(state: dict[str, Any]) -> list[str]:
    monitor = state["monitor"]
    lines = []
    for m in monitor["monitors"]:
        who = f"{m['host']} (pid {m['pid']}, spreadwatch {m['version']})"
        if m["state"] == "running":
            role = f" ({m['role']})" if m.get("role") else ""
            lines.append(
                f"monitor running on {who} since {m['since']}; "
                f"last heartbeat {m['last_seen']}{role}"
            )
        else:
            how = "stopped cleanly" if m["state"] == "stopped" else "heartbeat lost"
            lines.append(f"monitor NOT running (last seen {m['last_seen']} on {who}; {how})")
    if not monitor["monitors"]:
        lines.append("monitor NOT running (never seen with this job store)")
    lease = monitor.get("lease")
    if lease:
        lines.append(f"jobs run by {lease['holder']} (lease renewed {lease['@timestamp']})")
    for error in monitor["incident_errors"]:
        running = "running its last good version" if error["running_last_good"] else "not running"
        lines.append(
            f"  INVALID incident file since {error['since']} ({running}): {error['error']}"
        )
    return lines


def _table(state: dict[str, Any]) -> str:
    cluster = state["cluster"]
    lines = _monitor_lines(state)
    lines.append(
        f"cluster: {cluster['status']}, {cluster['number_of_nodes']} nodes "
        f"({cluster['number_of_data_nodes']} data), {cluster['unassigned_shards']} unassigned shards"
    )
    lines.append(f"jobs ({len(state['jobs'])}) in {state['job_store']}")
    for job in state["jobs"]:
        mark = "  OVERDUE" if job.get("overdue") else ""
        lines.append(
            f"  {job['id']:<48} next {job['next_run'] or 'paused':<32} {job['schedule']}{mark}"
        )
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
    for prefix, s in spool["by_prefix"].items():
        if s.get("dead_letters"):
            lines.append(
                f"  dead letters ({prefix}): {s['dead_letters']} documents refused for their "
                f"content twice, kept in {s['dead_letter_file']}"
            )
    stance = state["stance"]
    per = ", ".join(f"{incident} {n}" for incident, n in stance["by_incident"].items())
    lines.append(
        f"stance: {stance['posts']} posts waiting for the model ({per}), oldest since "
        f"{stance['oldest']}"
        if stance["posts"]
        else "stance: no post waiting for the model"
    )
    lines.append(_archive_line(state.get("evidence") or {}))
    lines.append(f"open alerts ({len(state['open_alerts'])})")
    for alert in state["open_alerts"]:
        lines.append(f"  {alert['state']:<8} {alert['raised']}  {alert['subject']}")
        lines.append(f"           why: {alert['why']}")
    health = state["health"]
    lines.append(f"health: {health['status'].upper()}")
    lines.extend(f"  {problem}" for problem in health["problems"])
    return escape("\n".join(lines), keep_lines=True)


commands = [run, status]


def _archive_line(archives: dict[str, dict[str, int]]) -> str:
    """Only the incidents whose archive holds a WARC file: a folder with only its ledger (an
    incident that never captured a post) is no archive to look at, and there may be hundreds."""
    kept = {name: sizes for name, sizes in archives.items() if sizes["files"]}
    if not kept:
        return "evidence archive: empty"
    total = sum(sizes["bytes"] for sizes in kept.values())
    each = ", ".join(
        f"{name} {_mib(sizes['bytes'])} in {count(sizes['files'], 'file')}"
        for name, sizes in kept.items()
    )
    return f"evidence archive: {_mib(total)} for {count(len(kept), 'incident')} ({each})"


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.0f} KiB"
