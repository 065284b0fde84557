"""`spreadwatch timeline`'s terminal chart: a bar per bucket, scaled to the busiest, in the
legend's stance letters; a bucket holding posts of a stance shows that stance's letter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from indexer.analytics import Bucket, Timeline
from indexer.phases import Measures, Phases
from spreadwatch.cli._output import render_chart

#: The chart's legend, as the user reads it.
LETTERS = {"rumour": "R", "denial": "D", "debunk": "X", "report": "N", "other": "."}
T0 = datetime(2024, 10, 19, tzinfo=UTC)
WIDTH = 50
NO_PHASES = Phases("1h", None, None, None, None, None, None, [], Measures(None, None, None, 0, 0, None, None))  # fmt: skip


def chart(buckets: list[dict[str, int]]) -> list[str]:
    """The bars (between `│` and the count) of a chart of buckets one hour apart."""
    rows, cumulative = [], 0
    for hour, by_stance in enumerate(buckets):
        cumulative += sum(by_stance.values())
        total = sum(by_stance.values())
        rows.append(Bucket(T0 + timedelta(hours=hour), total, cumulative, {}, by_stance))
    lines = render_chart(Timeline("1h", rows), NO_PHASES, bar_width=WIDTH).splitlines()[1:]
    return [line.split("│", 1)[1][:WIDTH].rstrip() for line in lines]


@pytest.mark.parametrize(
    "small",
    [
        {"rumour": 1, "denial": 1},
        {"rumour": 1, "denial": 1, "debunk": 1},
        {"rumour": 2, "report": 1},
        {"denial": 1, "debunk": 1, "report": 1, "other": 1, "rumour": 1},
        {"other": 1, "denial": 1},
    ],
)
@pytest.mark.parametrize("peak", [100, 1000, 5000])
def test_a_small_bucket_shows_every_stance_it_holds(small: dict[str, int], peak: int) -> None:
    bars = chart([{"other": peak}, small])
    assert set(bars[1]) == {LETTERS[stance] for stance in small}


@pytest.mark.parametrize(
    "bucket",
    [
        {"rumour": 30, "denial": 20},
        {"rumour": 1, "denial": 1, "debunk": 1, "report": 1, "other": 46},
        {"rumour": 17, "denial": 17, "debunk": 16},
    ],
)
def test_the_busiest_bucket_fills_the_width_in_proportion(bucket: dict[str, int]) -> None:
    """50 posts on 50 columns: one letter per post."""
    (bar,) = chart([bucket])
    assert len(bar) == WIDTH
    assert {s: bar.count(LETTERS[s]) for s in bucket} == bucket
