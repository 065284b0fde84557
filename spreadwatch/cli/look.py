"""`spreadwatch search`, `timeline` and `reclassify`: looking at what has been collected."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from elasticsearch import NotFoundError

from indexer import analytics
from indexer.documents import STANCES
from indexer.intervals import auto_interval
from indexer.phases import phases
from indexer.reclassify import reclassify as reclassify_posts
from indexer.scope import IncidentScope
from indexer.search import MAX_LIMIT, SORTS, QuerySyntaxError, SearchRequest, parse_when
from indexer.search import search_posts as run_search
from spreadwatch.cli._output import (
    escape,
    json_text,
    render_chart,
    render_phases,
    render_search,
)
from spreadwatch.cli.context import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    AppContext,
    echo_error,
    format_option,
    incidents_dir_option,
)
from spreadwatch.incident import ConfigFileError, resolve_incident

CHART_BUCKETS = 48


@contextlib.contextmanager
def _indices_needed(app: AppContext) -> Iterator[None]:
    """A missing posts index is a setup step not yet done, not an Elasticsearch failure."""
    try:
        yield
    except NotFoundError as error:
        if "index_not_found" not in str(error.message):
            raise
        raise click.ClickException(
            f"no posts index {app.names.posts!r} yet; run `spreadwatch init` (or a crawl) first"
        ) from None


def _when(_ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_when(value)
    except ValueError as error:
        raise click.BadParameter(str(error), param=param) from None


@click.command("search")
@click.argument("query")
@click.option("--incident", help="Only posts of this incident id.")
@click.option("--platform", multiple=True, help="Only this platform (repeatable).")
@click.option(
    "--stance", multiple=True, type=click.Choice(STANCES), help="Only this stance (repeatable)."
)
@click.option(
    "--since", callback=_when, help="From this time: 2024-10-18, 2024-10-18T12:00Z, 3d, 12h."
)
@click.option("--until", callback=_when, help="Before this time (same forms as --since).")
@click.option(
    "--sort", type=click.Choice(list(SORTS)), default="newest", show_default=True, help="Order."
)
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=20,
    show_default=True,
    help="Most posts to show.",
)
@format_option(
    "table",
    "json",
    "ndjson",
    "csv",
    help="Output format; columns: time platform kind stance author reach id url text.",
)
@click.pass_obj
def search(app: AppContext, query: str, fmt: str, **filters: Any) -> None:
    """Search posts with Lucene query-string syntax over text, title and author.

    Terms are ANDed; use OR, quotes for phrases, and field:value (platform:reddit,
    stance:denial, reach:>1000). QUERY "*" lists everything.
    """
    request = SearchRequest(
        query=query,
        incident=filters["incident"],
        platform=list(filters["platform"]),
        stance=list(filters["stance"]),
        since=filters["since"],
        until=filters["until"],
        sort=filters["sort"],
        limit=filters["limit"],
    )
    try:
        with _indices_needed(app):
            result = run_search(app.client, app.names, request)
    except QuerySyntaxError as error:
        _show_query_error(error)
        raise click.exceptions.Exit(EXIT_BAD_INPUT) from None
    output = render_search(result, fmt)
    if output:
        click.echo(output)


def _show_query_error(error: QuerySyntaxError) -> None:
    echo_error(f"bad query: {escape(error.reason)}")
    click.echo(f"  {escape(error.query)}", err=True)
    if error.column:
        click.echo("  " + " " * (error.column - 1) + "^", err=True)


def _incident_scope(ref: str, folder: Path) -> IncidentScope:
    """INCIDENT's id and window from its file, or the bare id when no file has it."""
    try:
        return IncidentScope.of(resolve_incident(ref, [folder]))
    except ConfigFileError:
        if Path(ref).suffix in (".yml", ".yaml") or "/" in ref:
            raise
        return IncidentScope(ref)


def _interval(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[1-9]\d*[smhd]", value):
        raise click.BadParameter(f"{value!r} is not an interval like 30m, 1h or 1d", param=param)
    return value


@click.command("timeline")
@click.argument("incident", metavar="INCIDENT")
@click.option(
    "--interval", callback=_interval, help="Bucket length for phases and chart: 30m, 1h, 1d..."
)
@format_option("text", "json", help="Text with a chart, or the phases and timeline as JSON.")
@incidents_dir_option
@click.pass_obj
def timeline(
    app: AppContext, incident: str, interval: str | None, fmt: str, incidents_dir: Path
) -> None:
    """Phases, measures and a terminal chart of INCIDENT (a path to its file, or its id)."""
    scope = _incident_scope(incident, incidents_dir)
    incident_id = scope.id
    with _indices_needed(app):
        found = phases(app.client, app.names, scope, interval=interval)
        chart_interval = interval
        if chart_interval is None and found.span is not None:
            chart_interval = auto_interval(
                found.span.start, found.span.end, max_buckets=CHART_BUCKETS
            )
        series = analytics.timeline(app.client, app.names, scope, interval=chart_interval)
        origin = analytics.first_seen(app.client, app.names, scope)
    if fmt == "json":
        payload = {"incident": incident_id, "phases": found, "timeline": series, "origin": origin}
        click.echo(json_text(_plain(payload), indent=2))
        return
    click.echo(render_phases(incident_id, found, origin))
    chart = render_chart(series, found)
    if chart:
        click.echo("")
        click.echo(chart)


def _plain(value: Any) -> Any:
    """Dataclasses, datetimes and durations as JSON-ready values (durations in seconds)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


@click.command("reclassify")
@click.argument("incident", metavar="INCIDENT")
@incidents_dir_option
@click.pass_obj
def reclassify(app: AppContext, incident: str, incidents_dir: Path) -> None:
    """Recompute matches and stance of every post of INCIDENT from its current file.

    Run after editing the incident's claims, queries or official sources. Only posts whose
    values change are written.
    """
    model = resolve_incident(incident, [incidents_dir])
    with _indices_needed(app):
        result = reclassify_posts(app.client, app.names, model)
    stances = ", ".join(f"{k} {v}" for k, v in sorted(result.stances.items())) or "none"
    click.echo(
        f"{model.id}: {result.scanned} posts scanned, {result.changed} changed, "
        f"{result.failed} failed; stances now: {stances}"
    )
    for (before, after), count in sorted(result.moves.items()):
        click.echo(f"  {before or '(none)'} → {after}: {count}")
    if result.failed:
        raise click.exceptions.Exit(EXIT_FAILED)


commands = [search, timeline, reclassify]
