"""Crawl state: a store keeps deltas, re-applies them without undoing others, never goes back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.state import CrawlState, FileStateStore, Journal, StateDelta, recording


def _changes(state: CrawlState) -> StateDelta:
    """What a callback changed: the operations recorded while it ran."""
    return state.take_loose()


def test_a_committed_delta_is_what_the_next_load_sees(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    state = store.load("case", "github")
    state.remember_validators("https://api/x", 'W/"abc"', None)
    state.set_cursor("stargazers:o/r", "/repos/o/r/stargazers?page=3")
    state.advance_since("issues:o/r", datetime(2024, 10, 19, tzinfo=UTC))
    state.mark_seen("guid-1")
    state.set_extra("github:follow:o/r", {"reason": "search"})
    store.commit("case", "github", _changes(state))
    again = store.load("case", "github")
    assert again.conditional_headers("https://api/x") == {"If-None-Match": 'W/"abc"'}
    assert again.cursors["stargazers:o/r"] == "/repos/o/r/stargazers?page=3"
    assert again.since_time("issues:o/r") == datetime(2024, 10, 19, tzinfo=UTC)
    assert again.is_seen("guid-1")
    assert again.extra == {"github:follow:o/r": {"reason": "search"}}


def test_changes_never_committed_are_not_there_after_a_restart(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    state = store.load("case", "feeds")
    state.mark_seen("guid-1")  # in memory: the spider reads its own write at once
    assert state.is_seen("guid-1")
    assert not store.load("case", "feeds").is_seen("guid-1")


def test_states_are_kept_per_incident_and_source(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    state = store.load("case", "github")
    state.mark_seen("x")
    store.commit("case", "github", _changes(state))
    assert not store.load("case", "feeds").is_seen("x")
    assert not store.load("other", "github").is_seen("x")
    assert store.path("case", "github") == tmp_path / "state" / "case" / "github.json"


def test_two_crawls_committing_to_one_state_keep_both_changes(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    first, second = store.load("case", "rss"), store.load("case", "rss")
    first.mark_seen("a")
    first.advance_since("k", datetime(2024, 10, 19, tzinfo=UTC))
    second.mark_seen("b")
    second.advance_since("k", datetime(2024, 10, 18, tzinfo=UTC))  # older: must not win
    store.commit("case", "rss", _changes(first))
    store.commit("case", "rss", _changes(second))
    stored = store.load("case", "rss")
    assert stored.is_seen("a") and stored.is_seen("b")
    assert stored.since_time("k") == datetime(2024, 10, 19, tzinfo=UTC)


def test_a_since_value_never_moves_back() -> None:
    state = CrawlState()
    state.advance_since("k", datetime(2024, 10, 19, tzinfo=UTC))
    moved = state.advance_since("k", datetime(2024, 10, 18, tzinfo=UTC))
    assert not moved and state.since_time("k") == datetime(2024, 10, 19, tzinfo=UTC)


def test_operations_inside_a_recording_go_to_its_journal_only() -> None:
    state = CrawlState()
    journal = Journal()
    with recording(journal):
        state.set_cursor("page", "/x?page=2")
    state.set_cursor("other", "/y")
    assert journal.delta().ops == (("cursor", "page", "/x?page=2"),)
    assert state.take_loose().ops == (("cursor", "other", "/y"),)


def test_a_value_set_earlier_never_overwrites_one_set_later_whatever_the_commit_order() -> None:
    state = CrawlState()
    page1, page2 = Journal(), Journal()
    with recording(page1):
        state.set_cursor("stargazers", "/s?page=1")
    with recording(page2):
        state.set_cursor("stargazers", "/s?page=2")
    latest: dict[tuple[str, str], int] = {}
    committed = CrawlState()
    page2.newest_only(latest).apply(committed)  # the child page completes first
    page1.newest_only(latest).apply(committed)
    assert committed.cursors["stargazers"] == "/s?page=2"


def test_a_delta_survives_its_json_form_and_re_applies_idempotently() -> None:
    state = CrawlState()
    state.mark_seen("g", datetime(2024, 10, 19, tzinfo=UTC))
    state.set_extra("gone", 1)
    state.delete_extra("gone")
    state.set_cursor("c", {"path": "/a", "n": 2})
    delta = StateDelta.from_json(_changes(state).to_json())
    once = delta.apply(CrawlState()).to_dict()
    twice = delta.apply(delta.apply(CrawlState())).to_dict()
    assert once == twice
    assert once["cursors"] == {"c": {"path": "/a", "n": 2}} and once["extra"] == {}


def test_an_unknown_operation_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown state operation"):
        StateDelta.from_json([["drop_table", "x", None]])


def test_a_broken_state_file_starts_afresh_and_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "state" / "case" / "github.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"etags": {"u": ', encoding="utf-8")
    state = FileStateStore(tmp_path).load("case", "github")
    assert state.etags == {}
    assert path.with_suffix(".broken").read_text(encoding="utf-8") == '{"etags": {"u": '


def test_committing_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    state = store.load("case", "github")
    for n in range(3):
        state.remember_validators(f"u{n}", f'"{n}"', None)
        store.commit("case", "github", _changes(state))
    assert [p.name for p in store.path("case", "github").parent.iterdir()] == ["github.json"]
