"""Events past the newest ones GitHub serves (repository and user event lists).

GitHub serves a list's newest 300 events (fewer on some busy repositories) and answers a page
past them with a 422 "pagination is limited for this resource". A walk that reaches that end
before the events an earlier run read has missed the ones in between: counted
(`github/events_capped`) and logged, never passed over in silence, and never a refusal that
would stop the walk at the same page every run. Expected ids come from the fixture alone.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from github_fixture import CONFESSION, T0, event, founding_world
from replay_helpers import SettableClock, write_incident
from spider_harness import CrawlResult, run_spider

from spreadwatch.replay import ReplayServer
from spreadwatch.replay.github import GithubData, GithubReplay

SMALL = {"SPREADWATCH_GITHUB_PER_PAGE": "30", "SPREADWATCH_GITHUB_TOKEN": "", "GITHUB_TOKEN": ""}
CAPPED = "spreadwatch/github/events_capped"


def issue_events(count: int, start: int = 0, first_at: timedelta = timedelta()) -> list[dict]:
    """`count` issue events on the confession repo, one a minute from T0 + `first_at`."""
    return [
        event(f"e{start + i}", "IssuesEvent", f"user{start + i}", CONFESSION,
              T0 + first_at + timedelta(minutes=i), {"action": "opened"})
        for i in range(count)
    ]  # fmt: skip


def world(events: list[dict]) -> GithubData:
    """The founding case's repo with only `events` in its event list (no stars, no user)."""
    data = founding_world(stars=0, mirrors=0)
    data.repo_events = {CONFESSION: events}
    data.user_events = {}
    return data


def crawl(tmp_path: Path, server: ReplayServer, max_pages: int = 100) -> CrawlResult:
    sources = {"github": {"repos": [CONFESSION], "terms": ["nothing-matches-this"], "max_pages": max_pages}}  # fmt: skip
    incident = write_incident(tmp_path, sources)
    return run_spider("github", incident, tmp_path / "work", {"SPREADWATCH_GITHUB_BASE_URL": server.url, **SMALL})  # fmt: skip


def read(result: CrawlResult) -> set[str]:
    return {a["native_id"] for a in result.activities() if a["event"] == "issues"}


def newest(events: list[dict], count: int) -> set[str]:
    return {e["id"] for e in sorted(events, key=lambda e: e["created_at"])[-count:]}


def test_a_list_within_the_served_events_is_read_whole_and_nothing_counted(tmp_path: Path) -> None:
    events = issue_events(200)
    clock = SettableClock(T0 + timedelta(hours=5))
    with ReplayServer(GithubReplay(world(events)), clock=clock) as github:
        result = crawl(tmp_path, github)
    assert read(result) == {e["id"] for e in events}
    assert result.stat(CAPPED) == 0


def test_only_the_newest_300_are_read_and_the_cut_is_counted(tmp_path: Path) -> None:
    events = issue_events(400)
    with ReplayServer(GithubReplay(world(events)), clock=SettableClock(T0 + timedelta(hours=8))) as github:  # fmt: skip
        result = crawl(tmp_path, github)
        refused = github.matching(status=422)
    assert read(result) == newest(events, 300)
    assert result.stat(CAPPED) == 1
    assert "GitHub serves a list's newest 300 events" in result.log
    assert refused == []  # the last page served links no next page: nothing past it is asked


def test_more_new_events_between_runs_than_served_are_counted(tmp_path: Path) -> None:
    old = issue_events(100)
    clock = SettableClock(T0 + timedelta(hours=2))
    data = world(old)
    with ReplayServer(GithubReplay(data), clock=clock) as github:
        first = crawl(tmp_path, github)
        new = issue_events(350, start=1000, first_at=timedelta(hours=3))
        data.repo_events[CONFESSION] = old + new
        clock.advance(hours=8)
        second = crawl(tmp_path, github)
    assert read(first) == {e["id"] for e in old}
    assert first.stat(CAPPED) == 0
    # The 50 oldest new events lie past the 300 served: missed, and said so.
    assert read(second) == newest(new, 300)
    assert second.stat(CAPPED) == 1


def test_a_refused_page_ends_the_walk_at_githubs_served_end_and_the_next_run_reads_on(
    tmp_path: Path,
) -> None:
    """A walk capped by `max_pages` saves the page it stopped before; when GitHub serves fewer
    events by the next run, that page is a 422: the served end, not a refusal, and the run
    after it starts at the first page again (new events are read)."""
    events = issue_events(400)
    clock = SettableClock(T0 + timedelta(hours=8))
    data = world(events)
    replay = GithubReplay(data)
    with ReplayServer(replay, clock=clock) as github:
        first = crawl(tmp_path, github, max_pages=5)
        replay.events_served = 120  # four pages of 30
        github.clear_log()
        second = crawl(tmp_path, github, max_pages=5)
        refused = [r.query.get("page") for r in github.matching(status=422)]
        late = issue_events(10, start=5000, first_at=timedelta(hours=9))
        data.repo_events[CONFESSION] = events + late
        clock.advance(hours=3)
        github.clear_log()
        third = crawl(tmp_path, github, max_pages=5)
        third_pages = [r.query.get("page", "1") for r in github.matching(path=r".*/events$")]
    assert read(first) == newest(events, 150)
    assert first.stat("spreadwatch/github/capped") == 1
    assert refused == ["6"]
    assert read(second) == set()
    assert second.stat("spreadwatch/refused/422") == 0
    assert second.stat(CAPPED) == 1
    # The new events, and the one the since-point names (events of that same second are
    # not skipped; the index stores it once).
    assert read(third) == {e["id"] for e in late} | newest(events, 1)
    assert third_pages[0] == "1"
    assert "6" not in third_pages
