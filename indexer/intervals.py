"""One rule for every date histogram: an interval picked from the span, with a bounded bucket count.

An hourly histogram over years of GitHub stars asks Elasticsearch for ~100,000 buckets and fails
with `too_many_buckets_exception` (the cluster's `search.max_buckets` is 65,536). Every chart
and aggregation over time (the timeline, phases, the report, the GitHub activity curve, Kibana
panel data, alert charts) takes its interval from `auto_interval`, so none can ask for more than
`max_buckets` bars whatever the span: the interval grows through a ladder of readable steps and,
past a year per bucket, by whole years.

Buckets of a `fixed_interval` are aligned to the epoch, so a span can touch one bucket more than
its length divided by the step; `bucket_count` counts exactly what Elasticsearch will return.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

#: Charts aim for at most this many bars.
MAX_BUCKETS = 120

#: Readable fixed intervals, shortest first (Elasticsearch `fixed_interval` syntax).
LADDER: tuple[str, ...] = (
    "1m", "5m", "15m", "30m", "1h", "3h", "6h", "12h", "1d", "7d", "30d", "90d", "180d", "365d",
)  # fmt: skip

_UNITS = {"ms": timedelta(milliseconds=1), "s": timedelta(seconds=1), "m": timedelta(minutes=1)}
_UNITS |= {"h": timedelta(hours=1), "d": timedelta(days=1)}
_INTERVAL = re.compile(r"([1-9]\d*)(ms|s|m|h|d)")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class IntervalError(ValueError):
    """An interval that is not `<n><unit>` or would give too many buckets for the span."""


def parse_interval(text: str) -> timedelta:
    """`90s`, `30m`, `1h`, `7d` (Elasticsearch fixed units) as a timedelta."""
    match = _INTERVAL.fullmatch(text.strip())
    if match is None:
        raise IntervalError(f"{text!r} is not an interval like 30m, 1h or 7d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def bucket_count(start: datetime, end: datetime, interval: str | timedelta) -> int:
    """How many epoch-aligned buckets of `interval` a histogram from `start` to `end` returns."""
    step = parse_interval(interval) if isinstance(interval, str) else interval
    if end < start:
        start, end = end, start
    first = (start - _EPOCH) // step
    last = (end - _EPOCH) // step
    return int(last - first) + 1


def auto_interval(
    start: datetime, end: datetime, max_buckets: int = MAX_BUCKETS, shortest: str = "1m"
) -> str:
    """The shortest ladder step (not below `shortest`) giving at most `max_buckets` buckets over
    [start, end]; past the ladder, whole multiples of 365 days. Never more than `max_buckets`
    (≥ 2) buckets."""
    max_buckets = max(2, max_buckets)
    floor = parse_interval(shortest)
    for name in LADDER:
        if parse_interval(name) >= floor and bucket_count(start, end, name) <= max_buckets:
            return name
    year = timedelta(days=365)
    years = max(1, math.ceil(abs(end - start) / year / (max_buckets - 1)))
    while bucket_count(start, end, years * year) > max_buckets:
        years += 1
    return f"{365 * years}d"


def check_interval(
    start: datetime, end: datetime, interval: str, max_buckets: int = 10 * MAX_BUCKETS
) -> str:
    """A user-given interval, refused with a clear message when the span would give more than
    `max_buckets` buckets (the message names the interval `auto_interval` would pick)."""
    count = bucket_count(start, end, interval)
    if count > max_buckets:
        raise IntervalError(
            f"interval {interval} gives {count:,} buckets from {start:%Y-%m-%d} to {end:%Y-%m-%d}"
            f" (at most {max_buckets:,}); try {auto_interval(start, end)} or leave it out"
        )
    return interval
