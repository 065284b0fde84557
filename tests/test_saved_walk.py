"""A walk stopped by max_pages, as the crawl state keeps it between runs (`crawlers.social`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crawlers.social import SavedWalk


def test_a_saved_walk_reads_back_as_it_was_written() -> None:
    walk = SavedWalk(datetime(2024, 10, 17, tzinfo=UTC), datetime(2024, 10, 20, 1, tzinfo=UTC), "t3_x")  # fmt: skip
    assert SavedWalk.from_state(walk.to_state()) == walk
    counted = SavedWalk(walk.floor, walk.newest, "t3_y", served=500)
    assert SavedWalk.from_state(counted.to_state()) == counted


def test_a_walk_saved_before_its_pages_were_counted_still_loads() -> None:
    """Written before `served` was kept (or by a platform that counts nothing): the same walk,
    none served; and a walk with nothing served is saved as it was before."""
    raw = {"floor": "2024-10-17T00:00:00+00:00", "newest": None, "resume": "t3_x"}
    walk = SavedWalk(datetime(2024, 10, 17, tzinfo=UTC), None, "t3_x")
    assert SavedWalk.from_state(raw) == walk and walk.served == 0
    assert walk.to_state() == raw
    for bad in ("500", -3, True, None):
        assert SavedWalk.from_state({**raw, "served": bad}) == walk


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "t3_x",
        {"floor": "2024-10-17T00:00:00+00:00", "newest": None},  # nothing to go on from
        {"floor": "yesterday", "newest": None, "resume": "t3_x"},
        {"floor": 20241017, "newest": None, "resume": "t3_x"},
        {"newest": None, "resume": "t3_x"},
        {"floor": "2024-10-17T00:00:00+00:00", "newest": "2024-02-30T00:00:00", "resume": 5},
    ],
    ids=["none", "a-string", "no-resume", "floor-words", "floor-number", "no-floor", "bad-newest"],
)
def test_a_saved_walk_no_version_wrote_is_no_walk(raw: Any) -> None:
    """The run then starts a fresh walk from the top, as before any walk was saved."""
    assert SavedWalk.from_state(raw) is None
