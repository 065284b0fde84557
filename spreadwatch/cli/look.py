"""`spreadwatch search`, `timeline` and `reclassify`: looking at what has been collected."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from spreadwatch.cli.context import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    AppContext,
    echo_error,
    format_option,
    incidents_dir_option,
    indices_needed,
)
from spreadwatch.cli.params import WHEN, Duration, Name, bad_name, check_out, format_named
from spreadwatch.durations import duration_text
from spreadwatch.names import PLATFORMS, SEARCH_SORTS, STANCES

if TYPE_CHECKING:
    from indexer.scope import IncidentScope
    from indexer.search import QuerySyntaxError


def _defaulted(param: str) -> bool:
    """Whether the command line left `param` to its default (no option given)."""
    source = click.get_current_context().get_parameter_source(param)
    return source in (None, click.core.ParameterSource.DEFAULT)


#: What `search --out` ends in per `--format`.
SEARCH_FILES = {
    "table": (".txt",),
    "json": (".json",),
    "ndjson": (".ndjson", ".jsonl"),
    "csv": (".csv",),
    "xlsx": (".xlsx",),
}
CHART_BUCKETS = 48
#: A timeline interval giving more rows than this is refused with a coarser one suggested.
MAX_TIMELINE_ROWS = 500


@click.command("search")
@click.argument("query")
@click.option("--incident", help="Only posts of this incident id.")
@click.option("--platform", multiple=True, help="Only this platform (repeatable).")
@click.option(
    "--stance", multiple=True, type=Name(STANCES, "stance"), help="Only this stance (repeatable)."
)
@click.option("--since", type=WHEN, help="From this time: 2024-10-18, 2024-10-18T12:00Z, 3d, 12h.")
@click.option("--until", type=WHEN, help="Before this time (same forms as --since).")
@click.option(
    "--sort", type=Name(SEARCH_SORTS, "sort"), default="newest", show_default=True, help="Order."
)
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=20,
    show_default=True,
    help="Most posts to show.",
)
@format_option(
    "table",
    "json",
    "ndjson",
    "csv",
    "xlsx",
    help="Output format. csv and xlsx are for spreadsheets (UTF-8 BOM, UTC times Excel reads; "
    "xlsx needs --out) with columns time platform kind stance author reach id url text lang "
    "title claims confidence likes reposts replies views.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of the terminal (required for xlsx), named for its "
    "format (.txt, .json, .ndjson or .jsonl, .csv, .xlsx), in a folder that exists; without "
    "--format, the name says the format.",
)
@incidents_dir_option
@click.pass_obj
def search(
    app: AppContext, query: str, fmt: str, out: Path | None, incidents_dir: Path, **filters: Any
) -> None:
    """Search posts with Lucene query-string syntax over text, title and author.

    Terms are ANDed; use OR, quotes for phrases, and field:value (platform:reddit,
    stance:denial, reach:>1000). QUERY "*" lists everything. Word forms match too
    (interns → intern, Praktikanten → Praktikant), and -interns leaves out every form.
    """
    from indexer.search import EmptyWindowError, QuerySyntaxError, SearchRequest, search_posts
    from spreadwatch.cli._output import render_search

    if out is not None and _defaulted("fmt"):
        fmt = format_named(out, SEARCH_FILES) or fmt  # --out posts.csv: a CSV
    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx writes a workbook: give --out FILE.xlsx")
    if out is not None:
        check_out(out, SEARCH_FILES, fmt)
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
        with indices_needed(app):
            _check_platforms(app, request.platform)
            result = search_posts(app.client, app.names, request, app.settings.evidence_replay_url)
            if result.total == 0 and request.incident:
                _check_incident(app, request.incident, incidents_dir, "--incident")
    except QuerySyntaxError as error:
        _show_query_error(error)
        raise click.exceptions.Exit(EXIT_BAD_INPUT) from None
    except EmptyWindowError as error:
        raise click.BadParameter(str(error), param_hint="'--since' / '--until'") from None
    if fmt == "xlsx" and out is not None:
        from spreadwatch.spreadsheet import XLSX_MAX_CHARS, write_xlsx

        cut = write_xlsx(result.rows, out)
        cells = (
            f"; {cut} cell{'s' * (cut != 1)} over Excel's {XLSX_MAX_CHARS:,} characters cut, marked "
            "[truncated: …]"
            if cut
            else ""
        )
        click.echo(f"wrote {out} ({len(result.rows)} of {result.total} posts{cells})", err=True)
        return
    output = render_search(result, fmt)
    if out is not None:
        out.write_text(output if fmt == "csv" else output + "\n", encoding="utf-8", newline="")
        click.echo(f"wrote {out} ({len(result.rows)} of {result.total} posts)", err=True)
    elif output:
        click.echo(output, nl=fmt != "csv")


def _check_platforms(app: AppContext, platforms: list[str]) -> None:
    """A platform no spider writes and nothing indexed has is a typo (exit 2), not 0 posts."""
    unusual = [p for p in platforms if p not in PLATFORMS]
    if not unusual:
        return
    from indexer.search import indexed_values

    known = sorted(set(PLATFORMS) | set(indexed_values(app.client, app.names, "platform")))
    for platform in unusual:
        if platform not in known:
            raise bad_name("platform", platform, known, "--platform")


def _check_incident(app: AppContext, incident: str, folder: Path, hint: str) -> None:
    """An incident neither indexed nor in an incident file is a typo (exit 2), not 0 posts."""
    from indexer.search import indexed_values
    from spreadwatch.incident import incident_ids

    indexed = indexed_values(app.client, app.names, "incident")
    if incident in indexed:
        return
    files = incident_ids([folder]) if folder.is_dir() else []
    if incident not in files:
        raise bad_name("incident", incident, sorted(set(indexed) | set(files)), hint)


def _show_query_error(error: QuerySyntaxError) -> None:
    from spreadwatch.cli._output import escape

    echo_error(f"bad query: {escape(error.reason)}")
    click.echo(f"  {escape(error.query)}", err=True)
    if error.column:
        click.echo("  " + " " * (error.column - 1) + "^", err=True)


def _incident_scope(app: AppContext, ref: str, folder: Path) -> IncidentScope:
    """INCIDENT's id and window from its file; else a bare id that has indexed posts; else a
    usage error naming the closest known incidents."""
    from indexer.scope import IncidentScope
    from spreadwatch.incident import ConfigFileError, resolve_incident

    try:
        return IncidentScope.of(resolve_incident(ref, [folder]))
    except ConfigFileError:
        if Path(ref).suffix in (".yml", ".yaml") or "/" in ref:
            raise
    _check_incident(app, ref, folder, "INCIDENT")
    return IncidentScope(ref)


@click.command("timeline")
@click.argument("incident", metavar="INCIDENT")
@click.option(
    "--interval",
    type=Duration(minimum=timedelta(seconds=1)),
    help="Bucket length for phases and chart: 30m, 1h, 1d, 600 (seconds)...",
)
@click.option(
    "--by",
    type=Name(["phase", "claim"], "view"),
    default="phase",
    show_default=True,
    help="phase: the spread's phases and chart; claim: each claim of the incident file — first "
    "seen, volume by stance, reach spreading vs denying, answered by the official denial or not.",
)
@format_option("text", "json", help="Text with a chart, or the phases and timeline as JSON.")
@incidents_dir_option
@click.pass_obj
def timeline(
    app: AppContext,
    *,
    incident: str,
    interval: timedelta | None,
    by: str,
    fmt: str,
    incidents_dir: Path,
) -> None:
    """Phases, measures and a terminal chart of INCIDENT (a path to its file, or its id);
    with `--by claim`, the same story claim by claim."""
    if by == "claim":
        _claims_timeline(app, incident, interval, fmt, incidents_dir)
        return
    from indexer import analytics
    from indexer.intervals import auto_interval
    from indexer.phases import phases
    from indexer.report_queries import reach_deciders
    from spreadwatch.cli._output import json_text, render_chart, render_phases

    with indices_needed(app):
        scope = _incident_scope(app, incident, incidents_dir)
        incident_id = scope.id
        step = _interval_text(app, scope, interval)
        found = phases(app.client, app.names, scope, interval=step)
        chart_interval = step
        if chart_interval is None and found.span is not None:
            chart_interval = auto_interval(
                found.span.start, found.span.end, max_buckets=CHART_BUCKETS
            )
        series = analytics.timeline(app.client, app.names, scope, interval=chart_interval)
        origin = analytics.first_seen(app.client, app.names, scope)
        deciders = reach_deciders(app.client, app.names, scope, size=3)
    if fmt == "json":
        payload = {"incident": incident_id, "phases": found, "timeline": series, "origin": origin,
                   "reach_deciders": deciders}  # fmt: skip
        click.echo(json_text(_plain(payload), indent=2))
        return
    click.echo(render_phases(incident_id, found, origin, deciders))
    chart = render_chart(series, found)
    if chart:
        click.echo("")
        click.echo(chart)


def _claims_timeline(
    app: AppContext, ref: str, interval: timedelta | None, fmt: str, folder: Path
) -> None:
    from indexer.claims import claim_report, indexed_claims
    from spreadwatch.cli._output import json_text, render_claims
    from spreadwatch.incident import ConfigFileError, resolve_incident

    try:
        claims = list(resolve_incident(ref, [folder]).claims)
    except ConfigFileError:
        claims = []  # a bare id: the claims its posts name
    with indices_needed(app):
        scope = _incident_scope(app, ref, folder)
        step = _interval_text(app, scope, interval)
        claims = claims or indexed_claims(app.client, app.names, scope)
        report = claim_report(app.client, app.names, scope, claims, interval=step)
    if fmt == "json":
        click.echo(json_text(_plain({"incident": scope.id, "claims": report}), indent=2))
        return
    click.echo(render_claims(scope.id, report))


def _interval_text(app: AppContext, scope: IncidentScope, interval: timedelta | None) -> str | None:
    """`--interval` as Elasticsearch writes it, refused when it would print too many rows."""
    if interval is None:
        return None
    if interval.total_seconds() % 1:
        raise click.BadParameter(
            f"{interval.total_seconds():g}s is not a whole number of seconds",
            param_hint="--interval",
        )
    from indexer import analytics
    from indexer.intervals import IntervalError, check_interval

    text = duration_text(interval)
    bounds = analytics.span(app.client, app.names, scope)
    if bounds is not None:
        try:
            check_interval(bounds.start, bounds.end, text, max_buckets=MAX_TIMELINE_ROWS)
        except IntervalError as error:
            raise click.BadParameter(str(error), param_hint="--interval") from None
    return text


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
    """Recompute everything INCIDENT's file decides for each of its posts: matches and claims,
    the official flag, the kind, the stance and the stance towards each claim, and the copies
    search reads.

    Run after editing the incident's queries, claims, official sources, feeds or pages, and
    after upgrading spreadwatch. Posts
    that no longer belong to the incident are detached (deleted when no other incident has
    them). Only what changed is written; what changed is printed by reason.
    """
    from indexer.reclassify import reclassify as reclassify_posts
    from spreadwatch.incident import resolve_incident

    model = resolve_incident(incident, [incidents_dir])
    with indices_needed(app):
        result = reclassify_posts(app.client, app.names, model, learned=app.settings.stance_model)
    deleted = f" ({result.deleted} deleted: no other incident has them)" if result.deleted else ""
    click.echo(
        f"{model.id}: {result.scanned} posts scanned, {result.changed} changed, "
        f"{result.detached} detached{deleted}, {result.failed} failed"
    )
    for reason, count in sorted(result.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"  {reason}: {count}")
    if result.human:
        click.echo(f"  stance set by hand, kept: {result.human}")
    stances = ", ".join(f"{k} {v}" for k, v in sorted(result.stances.items())) or "none"
    click.echo(f"stances now: {stances}")
    if result.failed:
        raise click.exceptions.Exit(EXIT_FAILED)


commands = [search, timeline, reclassify]
