"""`spreadwatch crawl INCIDENT [--source NAME ...]`: crawl now, index, and show what happened."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from spreadwatch.cli._output import escape
from spreadwatch.cli.context import AppContext, format_option, incidents_dir_option
from spreadwatch.cli.params import SECONDS, bad_name

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from crawlers.launch import CrawlOutcome
    from spreadwatch.incident import Incident

FAILED = ("failed", "timeout")


@click.command("crawl")
@click.argument("incident", metavar="INCIDENT")
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Crawl only this source (github, feeds, pages, ...); repeatable. Default: every enabled one.",
)
@incidents_dir_option
@click.option(
    "--timeout",
    type=SECONDS,
    default=None,
    help="Time before a source's crawl is stopped: 600 (seconds), 10m "
    "(default: SPREADWATCH_CRAWL_TIMEOUT).",
)
@click.option(
    "--spider-module",
    "spider_modules",
    multiple=True,
    metavar="MODULE",
    help="Extra Python module holding spiders (plugins, tests); repeatable.",
)
@format_option(
    "table", "json", help="Summary as a table, or one JSON object per source (for scripts)."
)
@click.pass_obj
def crawl(
    app: AppContext,
    *,
    incident: str,
    sources: tuple[str, ...],
    incidents_dir: Path,
    timeout: float | None,
    spider_modules: tuple[str, ...],
    fmt: str,
) -> None:
    """Crawl INCIDENT (a path to its file, or its id) now, one process per source.

    Every post is indexed (or spooled if Elasticsearch is down), every run is written to the
    runs index; ends with a table: indexed, updated, dropped by reason, HTTP statuses, duration.
    Exits 1 when any source's crawl failed.
    """
    from rich.console import Console

    from spreadwatch.incident import resolve_incident

    model = resolve_incident(incident, [incidents_dir])
    names = list(sources) or list(model.sources.enabled())
    known = list(type(model.sources).model_fields)
    unknown = [name for name in names if name not in known]
    if unknown and not spider_modules:
        raise bad_name("source", unknown[0], known, "--source")
    if not names:
        raise click.UsageError(
            f"incident {model.id} has no enabled sources; add one or use --source"
        )
    console = Console(stderr=True)
    outcomes = [
        _crawl_one(
            app,
            model,
            name,
            index=index,
            total=len(names),
            timeout=timeout,
            spider_modules=spider_modules,
            console=console,
        )
        for index, name in enumerate(names, start=1)
    ]
    if fmt == "json":
        for outcome in outcomes:
            click.echo(
                json.dumps({"source": outcome.source, **outcome.summary}, ensure_ascii=False)
            )
    else:
        out = Console()
        if not out.is_terminal:  # piped or captured: do not squeeze the table to 80 columns
            out = Console(width=200)
        out.print(summary_table(model.id, outcomes))
    _label_stances(app, model)
    spooled = sum(int(o.summary.get("items_spooled") or 0) for o in outcomes)
    if spooled:
        spool = app.settings.data_dir / "spool" / f"{app.settings.index_prefix}.jsonl"
        click.echo(
            f"note: {spooled} documents are waiting in {spool}; the next crawl writes them",
            err=True,
        )
    if any(o.status in FAILED for o in outcomes):
        raise click.exceptions.Exit(1)


def _label_stances(app: AppContext, incident: Incident) -> None:
    """The learned head labels what the crawls wrote with the lexicon's provisional label
    (`SPREADWATCH_STANCE_DEFERRED`; the monitor's `stance:` job does this when it runs)."""
    from spreadwatch.cli.deferred import deferred_head, label_pass

    head = deferred_head(app.settings)
    if head is None:
        return
    run = label_pass(app, incident, head)
    if run is None:
        click.echo(
            "note: the model's stance labels are not written yet (the log above says why); "
            "the monitor's stance job or `spreadwatch stance label` writes them",
            err=True,
        )
    elif run.labelled:
        click.echo(
            f"stance: {run.labelled} posts labelled by the model ({run.seconds:.1f}s)", err=True
        )


def _crawl_one(
    app: AppContext,
    model: Incident,
    source: str,
    *,
    index: int,
    total: int,
    timeout: float | None,
    spider_modules: tuple[str, ...],
    console: Console,
) -> CrawlOutcome:
    from crawlers.launch import incident_path, run_crawl

    label = f"[{index}/{total}] {source}"
    with console.status(f"{label}: crawling…") as status:
        outcome = run_crawl(
            app.settings,
            incident_path(model.path or model.id),
            source,
            incident_id=model.id,
            spider_modules=spider_modules,
            timeout=timeout,
            on_wait=lambda seconds: status.update(f"{label}: crawling… {seconds:.0f}s"),
        )
    summary = outcome.summary
    line = f"{label}: {outcome.status}"
    if summary.get("error"):
        line += f" — {escape(str(summary['error']))[:200]}"
    console.print(line, markup=False, highlight=False)
    return outcome


def summary_table(incident_id: str, outcomes: list[CrawlOutcome]) -> Table:
    """One row per source: the figures an operator checks after a crawl."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"crawl of {incident_id}")
    for column in ("source", "status", "indexed", "updated", "unchanged", "spooled"):
        table.add_column(column, justify="left" if column in ("source", "status") else "right")
    table.add_column("dropped")
    table.add_column("HTTP")
    table.add_column("duration", justify="right")
    for outcome in outcomes:
        s = outcome.summary
        cells = [
            outcome.source,
            outcome.status,
            _number(s, "items_indexed"),
            _number(s, "items_updated"),
            _number(s, "items_unchanged"),
            _number(s, "items_spooled"),
            _pairs(s.get("drops")),
            _pairs(s.get("http_status")),
            f"{s['duration_s']:.1f}s" if isinstance(s.get("duration_s"), int | float) else "-",
        ]
        table.add_row(*(Text(cell) for cell in cells))  # Text: no markup from crawled values
    return table


def _number(summary: dict[str, Any], key: str) -> str:
    value = summary.get(key)
    return str(value) if value is not None else "-"


def _pairs(counts: Any) -> str:
    if not isinstance(counts, dict) or not counts:
        return "-"
    return ", ".join(f"{escape(str(k))} {v}" for k, v in sorted(counts.items()))


commands = [crawl]
