"""Rendering for the look commands: search rows in four formats, the phases and a terminal chart.

Post text is untrusted: every string that reaches the terminal has its control and bidi
characters replaced by visible escapes (`\\x1b`), so a post cannot move the cursor, recolour the
screen or reorder what the analyst reads.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from spreadwatch.display import display_cell, display_text

if TYPE_CHECKING:
    from indexer.analytics import Origin, Timeline
    from indexer.claims import ClaimReport
    from indexer.phases import Phases
    from indexer.report_queries import ReachDecider
    from indexer.search import Row, SearchResult

#: What json.dumps leaves unescaped but a terminal would act on (it escapes C0 itself).
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
TEXT_WIDTH = 70
STANCE_MARKS = {"rumour": "R", "denial": "D", "debunk": "X", "report": "N", "other": "."}


def escape(text: str, keep_lines: bool = False) -> str:
    """`text` with control/bidi characters shown as escapes (newlines and tabs kept if asked):
    `spreadwatch.display`, the one rule for hostile text in every output."""
    return display_text(text) if keep_lines else display_cell(text)


def count(number: int, noun: str, plural: str | None = None) -> str:
    """`1 file`, `3 files` (`plural` where adding an s is wrong: `query`, `queries`)."""
    return f"{number} {noun}" if number == 1 else f"{number} {plural or noun + 's'}"


def width(text: str) -> int:
    """Terminal columns `text` takes (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def clip(text: str, columns: int) -> str:
    out: list[str] = []
    used = 0
    for char in text:
        w = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used + w > columns - 1:
            return "".join(out) + "…"
        out.append(char)
        used += w
    return "".join(out)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def render_search(result: SearchResult, fmt: str) -> str:
    """The rows in table, json, ndjson or csv; columns are always `COLUMNS`, in order."""
    if fmt == "json":
        payload = {"total": result.total, "posts": [r.as_dict() for r in result.rows]}
        return json_text(payload, indent=2)
    if fmt == "ndjson":
        return "\n".join(json_text(r.as_dict()) for r in result.rows)
    if fmt == "csv":
        return _csv(result.rows)
    return _table(result)


def json_text(value: Any, indent: int | None = None) -> str:
    """JSON with the characters a terminal would act on escaped (json.dumps escapes C0 itself)."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _csv(rows: list[Row]) -> str:
    from spreadwatch.spreadsheet import csv_text

    return csv_text(rows)


def _marked(row: Row) -> str:
    """The text, led by what happened to the post (`[deleted]`, `[edited]`)."""
    text = " ".join(escape(row.text).split())
    marks = [m for m in ("deleted", "edited") if m in row.status]
    return " ".join(f"[{m}]" for m in marks) + (" " if marks else "") + text


def _table(result: SearchResult) -> str:
    from indexer.search import TIME_HEADER

    header = [TIME_HEADER, "platform", "kind", "stance", "author", "reach", "id", "text"]
    cells = [
        [
            row.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            escape(row.platform),
            escape(row.kind),
            escape(row.stance),
            clip(escape(row.author), 20),
            str(row.reach),
            clip(escape(row.id), 28),
            clip(_marked(row), TEXT_WIDTH),
        ]
        for row in result.rows
    ]
    widths = [max([width(h)] + [width(c[i]) for c in cells]) for i, h in enumerate(header)]
    lines = ["  ".join(pad(h, widths[i]) for i, h in enumerate(header)).rstrip()]
    lines += ["  ".join(pad(c[i], widths[i]) for i in range(len(header))).rstrip() for c in cells]
    lines.append(f"({len(result.rows)} of {result.total} posts)")
    return "\n".join(lines)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    return (f"{days}d " if days else "") + f"{hours}h {mins:02d}m"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def render_phases(
    incident: str,
    found: Phases,
    origin: Origin,
    deciders: dict[str, list[ReachDecider]] | None = None,
) -> str:
    """Boundaries, phases, measures, the posts that decide the reach ratio and the platform
    order, as aligned text."""
    if found.span is None:
        return f"{incident}: no posts indexed"
    span = found.span
    m = found.measures
    ratio = "—" if m.reach_ratio is None else f"{m.reach_ratio:.2f}"
    lines = [
        f"{incident}: {span.posts} posts, {when(span.start)} → {when(span.end)} UTC",
        "",
        "Phases",
        *[f"  {p.name:<9} {when(p.start)} → {when(p.end)}" for p in found.phases],
        "",
        "Boundaries",
        *[f"  {name:<14} {when(at)}" for name, at in found.boundaries().items()],
        "",
        "Measures",
        f"  time to denial           {_time_to_denial(found)}",
        f"  rumour share before      {percent(m.rumour_share_before)}",
        f"  rumour share after       {percent(m.rumour_share_after)}",
        f"  denial reach ÷ rumour    {ratio}  ({m.denial_reach} / {m.rumour_reach})",
        f"  post-denial half-life    {duration(m.half_life)}  (resolution {found.interval})",
        *_decider_lines(deciders or {}),
        "",
        "Platform order",
        *[
            f"  {escape(ref.platform):<10} {when(ref.timestamp)}  {escape(ref.id)}"
            for ref in origin.per_platform
        ],
    ]
    return "\n".join(lines)


def _decider_lines(deciders: dict[str, list[ReachDecider]]) -> list[str]:
    """The posts with most of each side's reach: a wrong label among them moves the ratio most."""
    from alerts.model import human_number  # formatting helpers, light to import
    from alerts.wording import label_provenance

    rows = [d for side in ("rumour", "denial") for d in deciders.get(side, [])]
    if not rows:
        return []
    return [
        "",
        "Posts that decide the reach ratio (check their labels first; `spreadwatch stance set`)",
        *[
            f"  {d.post.stance or '':<7} {d.share * 100:5.1f} %  {human_number(float(d.post.reach)):>6}"
            f"  {escape(d.post.id)}  {escape(d.post.author or 'unknown')}  "
            f"{label_provenance(d.source, d.confidence)}"
            for d in rows
        ],
    ]


def _time_to_denial(found: Phases) -> str:
    """Never negative; before an official denial, how long the rumour has gone unanswered."""
    m = found.measures
    if m.time_to_denial is not None:
        return duration(m.time_to_denial)
    since = f" ({duration(m.time_since_onset)} since onset)" if m.time_since_onset else ""
    return f"none yet{since}"


def render_claims(incident: str, report: ClaimReport, bar_width: int = 40) -> str:
    """Claim by claim: first seen, posts by stance, reach each way, answered or not, a chart."""
    from alerts.model import human_number  # a formatting helper, light to import

    answered = sum(c.addressed_by_denial for c in report.claims)
    if report.denial is not None:
        head = (
            f"{incident}: {len(report.claims)} claims; the official denial "
            f"({escape(report.denial.id)}) answers {answered} of them"
        )
    else:
        head = f"{incident}: {len(report.claims)} claims; no official denial yet"
    lines = [head]
    legend = " ".join(f"{mark}={name}" for name, mark in STANCE_MARKS.items())
    for claim in report.claims:
        title = escape(claim.name) + (
            f" — {escape(claim.description)}" if claim.description else ""
        )
        first = claim.first_seen
        seen = (
            f"{when(first.timestamp)} on {escape(first.platform)} by "
            f"{escape(first.author or 'unknown')}"
            if first
            else "—"
        )
        stances = ", ".join(f"{k} {v}" for k, v in sorted(claim.by_stance.items())) or "none"
        lines += [
            "",
            title,
            f"  first seen {seen}",
            f"  posts {claim.posts}: {stances}",
            f"  reach spreading {human_number(claim.reach_spreading)}, "
            f"denying {human_number(claim.reach_denying)}",
            f"  answered by the official denial: {'yes' if claim.addressed_by_denial else 'NO'}",
        ]
        peak = max((sum(c.values()) for _, c in claim.series), default=0) or 1
        if any(sum(c.values()) for _, c in claim.series):
            lines.append(f"  posts per {report.interval} ({legend})")
            for start, counts in claim.series:
                total = sum(counts.values())
                bar = _bar(counts, total, peak, bar_width)
                lines.append(f"  {when(start)} │{pad(bar, bar_width)} {total:>5}")
    return "\n".join(lines)


def render_chart(timeline: Timeline, found: Phases, bar_width: int = 50) -> str:
    """One line per bucket: a bar of stance letters scaled to the busiest bucket, phases marked."""
    if not timeline.buckets:
        return ""
    peak = max(b.total for b in timeline.buckets) or 1
    starts = _phase_starts(timeline, found)
    legend = " ".join(f"{mark}={name}" for name, mark in STANCE_MARKS.items())
    lines = [f"Posts per {timeline.interval} ({legend})"]
    for bucket in timeline.buckets:
        bar = _bar(bucket.by_stance, bucket.total, peak, bar_width)
        mark = f"  ◀ {', '.join(starts[bucket.start])}" if bucket.start in starts else ""
        lines.append(f"{when(bucket.start)} │{pad(bar, bar_width)} {bucket.total:>6}{mark}")
    return "\n".join(lines)


def _bar(by_stance: dict[str, int], total: int, peak: int, bar_width: int) -> str:
    """A bar scaled to `peak`, each stance's marks in proportion (largest remainders), and
    every stance the bucket holds shown by at least one mark: rounding each share on its own
    drew one rumour and one denial as a lone "." (two halves of one mark round to none)."""
    if not total:
        return ""
    held = {name: n for name in STANCE_MARKS if (n := by_stance.get(name, 0)) > 0}
    if not held:
        return STANCE_MARKS["other"]
    length = min(bar_width, max(len(held), round(total / peak * bar_width)))
    quota = {name: n / total * length for name, n in held.items()}
    marks = {name: max(1, math.floor(q)) for name, q in quota.items()}
    target = max(len(held), round(sum(quota.values())))
    while sum(marks.values()) > target:  # the one-mark minimums took more than the length
        name = max((n for n in marks if marks[n] > 1), key=lambda n: marks[n] - quota[n])
        marks[name] -= 1
    while sum(marks.values()) < target:
        name = max(marks, key=lambda n: quota[n] - marks[n])
        marks[name] += 1
    return "".join(STANCE_MARKS[name] * count for name, count in marks.items())


def _phase_starts(timeline: Timeline, found: Phases) -> dict[datetime, list[str]]:
    starts: dict[datetime, list[str]] = {}
    buckets = [b.start for b in timeline.buckets]
    for phase in found.phases:
        slot = max((s for s in buckets if s <= phase.start), default=None)
        if slot is not None:
            starts.setdefault(slot, []).append(phase.name)
    return starts
