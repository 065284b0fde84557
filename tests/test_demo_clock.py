"""The demo's simulated clock: moves only forward, in the rounds the demo plays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from spreadwatch.demo.clock import SimClock, steps

START = datetime(2024, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("every", "expected"),
    [
        (timedelta(hours=12), [START, START + timedelta(hours=12), START + timedelta(days=1)]),
        (
            timedelta(hours=10),
            [
                START,
                START + timedelta(hours=10),
                START + timedelta(hours=20),
                START + timedelta(days=1),
            ],
        ),
        (timedelta(days=2), [START, START + timedelta(days=1)]),
    ],
)
def test_rounds_cover_the_window_and_end_on_its_last_moment(
    every: timedelta, expected: list[datetime]
) -> None:
    assert list(steps(START, START + timedelta(days=1), every)) == expected


def test_the_clock_shows_what_it_was_set_to() -> None:
    clock = SimClock(START)
    clock.set(START + timedelta(hours=6))
    clock.advance(timedelta(minutes=30))
    assert clock() == START + timedelta(hours=6, minutes=30)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: SimClock(START).set(START - timedelta(seconds=1)), "does not go back"),
        (lambda: SimClock(datetime(2024, 10, 15)), "aware"),
        (lambda: list(steps(START, START + timedelta(days=1), timedelta(0))), "positive"),
    ],
)
def test_bad_use_of_the_clock_is_a_clear_error(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        build()
