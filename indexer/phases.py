"""Phases of a rumour's spread and the measures comms teams ask for, from aggregations.

Stable API: `phases(client, names, incident, interval=None, now=None) -> Phases` (and
`phase_at(found, moment)`, the phase a moment falls in), where
`incident` is an `IncidentScope` (id and window; `IncidentScope.of(incident_model)`) or a bare
id (no window known: every post of the id counts).

Only posts inside the incident's window count (`indexer.scope`). The boundaries are always in
the order rumour → evidence → denial → coverage → decay, each at or after the one before (an
aware UTC datetime, or None when the data has no such moment):

- **onset** — the first post whose stance is `rumour`; the first post of the incident when
  there is none, or when the evidence or the official denial came before it (the story cannot
  start after its own denial: time to denial is never negative).
- **evidence** — the first GitHub post or post of kind `repo` (the confession recording's repo)
  from the onset on, if it came before the official denial.
- **denial** — the first *official denial* (`indexer.scope.OFFICIAL_DENIAL`: pinned statement,
  or an official source's matching post classified `denial`). Denials by anyone else are not it.
- **coverage_peak** — after an official denial, the start of the timeline bucket with most
  `report` posts (most posts at all when there is no report) from the denial's bucket on; the
  earliest such bucket on a tie, never before the denial. Before a denial there is no
  coverage: the volume of an unanswered rumour is the rumour spreading.
- **decay** — the start of the first bucket after the busiest one (from the coverage peak on,
  else from the latest boundary on) from which volume stays at most half the busiest one's up
  to `now`, once that quiet has lasted `DECAY_QUIET` (12 h) and two buckets, on buckets of at
  least `DECAY_RESOLUTION` (3 h; shorter ones are summed). So the quiet night after a rumour's
  first hours is not its decay, a second wave cancels an earlier one, and a finished incident
  (no posts since, up to `now`) decays at its last lull. An unanswered rumour may decay.

Measures:

- `time_to_denial` = denial − onset (≥ 0), None while there is no official denial; then
  `time_since_onset` (now − onset) says how long the rumour has gone unanswered.
- `rumour_share_before` / `rumour_share_after` — rumour posts ÷ all posts strictly before the
  denial / from the denial on.
- `reach_ratio` = summed `reach` of denial posts ÷ summed `reach` of rumour posts.
- `half_life` — after the denial, the time from the bucket with most rumour posts to the first
  later bucket from which there are at most half as many for two buckets in a row (resolution:
  the timeline interval).

`Phases.phases` lists the named spans between consecutive boundaries, in that order, the last
one ending at the incident's last post — or, when it begins after the last post, at its own
start. That is the decay of a finished incident whose last (3-h) bucket was its busiest: its
quiet begins where that bucket ends, up to 3 h after the last post, so the phase before the
decay runs to there and the decay itself has no length (one post at 09:17: rumour 09:17 →
12:17, decay 12:17 → 12:17).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.dsl import Q

from indexer.analytics import (
    TIMESTAMP,
    PostRef,
    Span,
    earliest,
    execute_all,
    first_ref,
    incident_search,
    parse_time,
    span,
)
from indexer.connection import IndexNames
from indexer.intervals import auto_interval, parse_interval
from indexer.scope import OFFICIAL_DENIAL, IncidentScope

#: Phase name per boundary that starts it.
PHASE_NAMES = {
    "onset": "rumour",
    "evidence": "evidence",
    "denial": "denial",
    "coverage_peak": "coverage",
    "decay": "decay",
}

EVIDENCE = Q("term", platform="github") | Q("term", kind="repo")
#: How long volume must have stayed at most half its peak (up to now) to be called decay.
DECAY_QUIET = timedelta(hours=12)
#: The shortest bucket decay is read on (shorter timeline buckets are summed up to it).
DECAY_RESOLUTION = timedelta(hours=3)


@dataclass(frozen=True)
class Phase:
    name: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Measures:
    time_to_denial: timedelta | None
    rumour_share_before: float | None
    rumour_share_after: float | None
    denial_reach: int
    rumour_reach: int
    reach_ratio: float | None
    half_life: timedelta | None
    #: How long since the onset (at `now`): the clock a comms team watches before a denial.
    time_since_onset: timedelta | None = None


@dataclass(frozen=True)
class Phases:
    interval: str
    span: Span | None
    onset: PostRef | None
    evidence: PostRef | None
    denial: PostRef | None
    coverage_peak: datetime | None
    decay: datetime | None
    phases: list[Phase]
    measures: Measures

    def boundaries(self) -> dict[str, datetime | None]:
        """Boundary name → time, in the order of the module docstring."""
        return {
            "onset": self.onset.timestamp if self.onset else None,
            "evidence": self.evidence.timestamp if self.evidence else None,
            "denial": self.denial.timestamp if self.denial else None,
            "coverage_peak": self.coverage_peak,
            "decay": self.decay,
        }


@dataclass(frozen=True)
class _Bar:
    start: datetime
    total: int
    rumour: int
    report: int


def phases(
    client: Elasticsearch,
    names: IndexNames,
    incident: str | IncidentScope,
    interval: str | None = None,
    now: datetime | None = None,
) -> Phases:
    """Boundaries, phases and measures of one incident (two round trips, three
    with a denial)."""
    scope = IncidentScope.of(incident)
    bounds = span(client, names, scope)
    if bounds is None:
        return _empty(interval or "1h")
    interval = interval or auto_interval(bounds.start, bounds.end)
    first, rumour, evidence, denial, aggs = _main_search(client, names, scope, interval)
    onset = _onset(first, rumour, evidence, denial)
    if evidence is not None and denial is not None and evidence.timestamp > denial.timestamp:
        evidence = None  # evidence surfacing after the denial is not the evidence phase
    bars = [
        _Bar(parse_time(b.key), b.doc_count, *_counts(b.stance, "rumour", "report"))
        for b in aggs.time.buckets
    ]
    now = now or datetime.now(UTC)
    latest = max(ref.timestamp for ref in (onset, evidence, denial) if ref is not None)
    coverage_index = _coverage_peak(bars, denial.timestamp if denial else None)
    peak = max(bars[coverage_index].start, latest) if coverage_index is not None else None
    decay = _decay(bars, peak or latest, now, parse_interval(interval))
    measures = _measures(client, names, scope, aggs=aggs, bars=bars, onset=onset, denial=denial)
    if onset is not None:
        measures = replace(measures, time_since_onset=now - onset.timestamp)
    # A bucket starts before the boundary inside it: coverage never starts before the denial.
    decay = max(decay, peak or latest) if decay is not None else None
    found = {
        "onset": onset.timestamp if onset else None,
        "evidence": evidence.timestamp if evidence else None,
        "denial": denial.timestamp if denial else None,
        "coverage_peak": peak,
        "decay": decay,
    }
    return Phases(
        interval=interval,
        span=bounds,
        onset=onset,
        evidence=evidence,
        denial=denial,
        coverage_peak=peak,
        decay=decay,
        phases=_spans(found, bounds.end),
        measures=measures,
    )


def phase_at(found: Phases, moment: datetime) -> str | None:
    """The name of the phase `moment` falls in: the last one begun by then (None before the
    onset). A live view (the demo's display) asks this rather than guessing from counts."""
    begun = [phase.name for phase in found.phases if phase.start <= moment]
    return begun[-1] if begun else None


def _onset(first: PostRef | None, rumour: PostRef | None, *later: PostRef | None) -> PostRef | None:
    """The first rumour post, unless evidence or the denial came first: then the first post."""
    if rumour is None:
        return first
    if any(ref is not None and ref.timestamp < rumour.timestamp for ref in later):
        return first
    return rumour


def _main_search(
    client: Elasticsearch, names: IndexNames, incident: IncidentScope, interval: str
) -> tuple[PostRef | None, PostRef | None, PostRef | None, PostRef | None, Any]:
    """First post, first rumour, evidence and official denial (sorted size-1 searches) and the
    histogram with reach sums, in one `_msearch` round trip."""
    index = names.posts
    firsts = [
        earliest(client, index, incident),
        earliest(client, index, incident, Q("term", stance="rumour")),
        earliest(client, index, incident, EVIDENCE),
        earliest(client, index, incident, OFFICIAL_DENIAL),
    ]
    search = incident_search(client, index, incident)
    # terms (global ordinals) rather than filters: filters nested in a histogram cannot use
    # Elasticsearch's filter-by-filter shortcut and test every document against every filter.
    reach = search.aggs.bucket("reach", "terms", field="stance", include=["rumour", "denial"])
    reach.metric("sum", "sum", field="reach")
    time = search.aggs.bucket(
        "time", "date_histogram", field=TIMESTAMP, fixed_interval=interval, min_doc_count=0
    )
    time.bucket("stance", "terms", field="stance", include=["rumour", "report"])
    *responses, histogram = execute_all(client, index, [*firsts, search])
    first, onset, evidence, denial = (first_ref(r) for r in responses)
    return first, onset, evidence, denial, histogram.aggregations


def _counts(terms: Any, *keys: str) -> list[int]:
    found = {b.key: b.doc_count for b in terms.buckets}
    return [found.get(key, 0) for key in keys]


def _coverage_peak(bars: list[_Bar], denial: datetime | None) -> int | None:
    """The busiest report bucket from the one holding the denial on (the busiest at all when
    nothing is a report); None before an official denial: coverage is the fourth act."""
    if denial is None or not bars:
        return None
    start = _bucket_of(bars, denial)
    tail = bars[start:]
    key = (lambda b: b.report) if any(b.report for b in tail) else (lambda b: b.total)
    best = max(key(b) for b in tail)
    return start + next(i for i, b in enumerate(tail) if key(b) == best)


def _bucket_of(bars: list[_Bar], moment: datetime) -> int:
    return max((i for i, b in enumerate(bars) if b.start <= moment), default=0)


def _decay(bars: list[_Bar], since: datetime, now: datetime, step: timedelta) -> datetime | None:
    """The first bucket after the busiest one from `since` on from which every bucket up to
    `now` holds at most half the busiest one's posts, when that quiet has lasted `DECAY_QUIET`
    and two buckets by `now`. Buckets shorter than `DECAY_RESOLUTION` are summed up to it
    first: with half-hour buckets a rumour's first posts are ones and twos, and one post more
    or less is not a change of phase."""
    if not bars:
        return None
    size = max(1, math.ceil(DECAY_RESOLUTION / step))
    step *= size
    volumes = [sum(b.total for b in bars[i : i + size]) for i in range(0, len(bars), size)]
    starts = [bars[i].start for i in range(0, len(bars), size)]
    first = _bucket_of(bars, since) // size
    peak = max(range(first, len(volumes)), key=lambda i: (volumes[i], -i))
    quiet = len(volumes)
    while quiet > peak + 1 and volumes[quiet - 1] <= volumes[peak] / 2:
        quiet -= 1
    quiet_since = starts[quiet] if quiet < len(volumes) else starts[-1] + step
    return quiet_since if now - quiet_since >= max(DECAY_QUIET, 2 * step) else None


def first_sustained(values: list[int], start: int, limit: float) -> int | None:
    """The first index from `start` where the value and the next one (if any) are ≤ `limit`.

    Two buckets in a row, so one quiet bucket in a busy stretch is not taken for the decay.
    """
    for i in range(start, len(values)):
        if values[i] <= limit and (i + 1 == len(values) or values[i + 1] <= limit):
            return i
    return None


def _measures(
    client: Elasticsearch,
    names: IndexNames,
    incident: IncidentScope,
    *,
    aggs: Any,
    bars: list[_Bar],
    onset: PostRef | None,
    denial: PostRef | None,
) -> Measures:
    sums = {b.key: int(b.sum.value or 0) for b in aggs.reach.buckets}
    rumour_reach, denial_reach = sums.get("rumour", 0), sums.get("denial", 0)
    before = after = None
    if denial is not None:
        before, after = _shares(client, names, incident, denial.timestamp)
    return Measures(
        time_to_denial=(denial.timestamp - onset.timestamp) if denial and onset else None,
        rumour_share_before=before,
        rumour_share_after=after,
        denial_reach=denial_reach,
        rumour_reach=rumour_reach,
        reach_ratio=(denial_reach / rumour_reach) if rumour_reach else None,
        half_life=_half_life(bars, denial.timestamp) if denial else None,
    )


def _shares(
    client: Elasticsearch, names: IndexNames, incident: IncidentScope, at: datetime
) -> tuple[float | None, float | None]:
    search = incident_search(client, names.posts, incident)
    stamp = at.isoformat()
    sides = search.aggs.bucket(
        "side",
        "filters",
        filters={
            "before": Q("range", **{TIMESTAMP: {"lt": stamp}}),
            "after": Q("range", **{TIMESTAMP: {"gte": stamp}}),
        },
    )
    sides.bucket("rumour", "filter", Q("term", stance="rumour"))
    buckets = search.execute().aggregations.side.buckets

    def share(bucket: Any) -> float | None:
        return bucket.rumour.doc_count / bucket.doc_count if bucket.doc_count else None

    return share(buckets.before), share(buckets.after)


def _half_life(bars: list[_Bar], denial: datetime) -> timedelta | None:
    denial_bar = _bucket_of(bars, denial)
    tail = bars[denial_bar:]
    if not tail or not any(b.rumour for b in tail):
        return None
    peak = max(b.rumour for b in tail)
    peak_at = next(i for i, b in enumerate(tail) if b.rumour == peak)
    halved = first_sustained([b.rumour for b in tail], peak_at + 1, peak / 2)
    return (tail[halved].start - tail[peak_at].start) if halved is not None else None


def _spans(found: dict[str, datetime | None], end: datetime) -> list[Phase]:
    """Boundaries come in order (see `phases`), so the spans follow `PHASE_NAMES`."""
    present = [(at, name) for name in PHASE_NAMES if (at := found[name]) is not None]
    result = []
    for i, (at, name) in enumerate(present):
        stop = present[i + 1][0] if i + 1 < len(present) else max(end, at)
        result.append(Phase(PHASE_NAMES[name], at, stop))
    return result


def _empty(interval: str) -> Phases:
    return Phases(
        interval=interval,
        span=None,
        onset=None,
        evidence=None,
        denial=None,
        coverage_peak=None,
        decay=None,
        phases=[],
        measures=Measures(None, None, None, 0, 0, None, None),
    )
