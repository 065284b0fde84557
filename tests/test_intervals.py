"""Histogram intervals: picked from the span, never more buckets than asked, whatever the span."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from indexer.intervals import (
    MAX_BUCKETS,
    IntervalError,
    auto_interval,
    bucket_count,
    check_interval,
    parse_interval,
)

START = datetime(2022, 1, 8, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("length", "interval"),
    [
        (timedelta(0), "1m"),
        (timedelta(minutes=30), "1m"),
        (timedelta(hours=5), "5m"),
        (timedelta(hours=32), "30m"),
        (timedelta(days=4), "1h"),
        (timedelta(days=20), "6h"),
        (timedelta(days=90), "1d"),
        (timedelta(days=3000), "30d"),
        (timedelta(days=11 * 365), "90d"),
        (timedelta(days=100 * 365), "365d"),
        (timedelta(days=1000 * 365), "3285d"),
    ],
)
def test_the_shortest_readable_interval_within_the_bucket_limit(length, interval) -> None:
    assert auto_interval(START, START + length) == interval


@pytest.mark.parametrize("years", [1, 3, 11, 57, 400])
@pytest.mark.parametrize("max_buckets", [2, 24, 48, MAX_BUCKETS, 500])
def test_never_more_buckets_than_asked(years: int, max_buckets: int) -> None:
    start = datetime(2011, 3, 4, 5, 6, 7, tzinfo=UTC)
    end = start + timedelta(days=365 * years, hours=7)
    interval = auto_interval(start, end, max_buckets=max_buckets)
    assert bucket_count(start, end, interval) <= max_buckets


def test_epoch_aligned_buckets_are_counted_as_elasticsearch_returns_them() -> None:
    # 00:59 to 01:01 touches two hourly buckets though it lasts two minutes.
    start = datetime(2022, 1, 8, 0, 59, tzinfo=UTC)
    assert bucket_count(start, start + timedelta(minutes=2), "1h") == 2
    assert bucket_count(start, start, "1h") == 1


def test_a_floor_keeps_short_spans_at_the_shortest_interval_asked() -> None:
    assert auto_interval(START, START + timedelta(minutes=20), shortest="1h") == "1h"


@pytest.mark.parametrize(("text", "step"), [("90s", 90), ("15m", 900), ("2h", 7200)])
def test_intervals_read_as_elasticsearch_writes_them(text: str, step: int) -> None:
    assert parse_interval(text) == timedelta(seconds=step)


@pytest.mark.parametrize("text", ["", "1y", "0h", "h", "1.5h", "-1d"])
def test_an_unreadable_interval_is_refused(text: str) -> None:
    with pytest.raises(IntervalError, match="not an interval"):
        parse_interval(text)


def test_a_user_interval_that_would_overflow_is_refused_with_the_auto_choice() -> None:
    start, end = datetime(2011, 1, 1, tzinfo=UTC), datetime(2022, 1, 9, tzinfo=UTC)
    with pytest.raises(IntervalError, match=r"gives 96,6\d\d buckets .* try 90d"):
        check_interval(start, end, "1h")
    assert check_interval(start, end, "30d") == "30d"
