"""Crawl state: survives restarts, never goes back, and a broken file costs a re-crawl only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from crawlers.state import CrawlState


def test_state_round_trips_through_its_file(tmp_path: Path) -> None:
    state = CrawlState.load(tmp_path, "case", "github")
    state.remember_validators("https://api/x", 'W/"abc"', None)
    state.cursors["stargazers:o/r"] = "https://api/x?page=3"
    state.advance_since("issues:o/r", datetime(2024, 10, 19, tzinfo=UTC))
    state.mark_seen("guid-1")
    state.save()
    again = CrawlState.load(tmp_path, "case", "github")
    assert again.conditional_headers("https://api/x") == {"If-None-Match": 'W/"abc"'}
    assert again.cursors["stargazers:o/r"] == "https://api/x?page=3"
    assert again.since_time("issues:o/r") == datetime(2024, 10, 19, tzinfo=UTC)
    assert again.is_seen("guid-1")


def test_state_is_kept_per_incident_and_source(tmp_path: Path) -> None:
    state = CrawlState.load(tmp_path, "case", "github")
    state.mark_seen("x")
    state.save()
    assert not CrawlState.load(tmp_path, "case", "feeds").is_seen("x")
    assert not CrawlState.load(tmp_path, "other", "github").is_seen("x")
    assert state.path == tmp_path / "state" / "case" / "github.json"


def test_a_since_value_never_moves_back(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "s.json")
    state.advance_since("k", datetime(2024, 10, 19, tzinfo=UTC))
    moved = state.advance_since("k", datetime(2024, 10, 18, tzinfo=UTC))
    assert not moved and state.since_time("k") == datetime(2024, 10, 19, tzinfo=UTC)


def test_a_broken_state_file_starts_afresh_and_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "state" / "case" / "github.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"etags": {"u": ', encoding="utf-8")
    state = CrawlState.load(tmp_path, "case", "github")
    assert state.etags == {}
    assert path.with_suffix(".broken").read_text(encoding="utf-8") == '{"etags": {"u": '


def test_saving_leaves_no_temporary_files(tmp_path: Path) -> None:
    state = CrawlState.load(tmp_path, "case", "github")
    for n in range(3):
        state.remember_validators(f"u{n}", f'"{n}"', None)
        state.save()
    assert [p.name for p in state.path.parent.iterdir()] == ["github.json"]
