"""The GitHub spider against the replayed GitHub API (items as the spider yields them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from github_fixture import CONFESSION, FAKE_CALL, T0, founding_world, issue
from replay_helpers import SettableClock, write_incident
from spider_harness import CrawlResult, run_spider

from spreadwatch.replay import ReplayServer, faults
from spreadwatch.replay.github import GithubReplay

SOURCES = {
    "github": {
        "repos": [CONFESSION],
        "users": ["JusticeFighter110"],
        "terms": ["ByteDance intern"],
        "max_pages": 5,
    }
}


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(T0 + timedelta(days=2))


@pytest.fixture
def github(clock: SettableClock) -> Iterator[ReplayServer]:
    with ReplayServer(GithubReplay(founding_world()), clock=clock) as server:
        yield server


def crawl(tmp_path: Path, server: ReplayServer, sources: dict = SOURCES, **settings) -> CrawlResult:
    incident = write_incident(tmp_path, sources)
    env = {"SPREADWATCH_GITHUB_BASE_URL": server.url}
    return run_spider("github", incident, tmp_path / "work", env, scrapy_settings=settings)


@pytest.fixture(scope="module")
def once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CrawlResult, ReplayServer]]:
    """One plain crawl shared by the tests that only read its items and request log."""
    clock = SettableClock(T0 + timedelta(days=2))
    with ReplayServer(GithubReplay(founding_world()), clock=clock) as server:
        yield crawl(tmp_path_factory.mktemp("github-once"), server), server


def stars(result: CrawlResult) -> list[dict]:
    return [a for a in result.activities() if a["event"] == "star"]


@pytest.mark.parametrize("kind", ["repositories", "issues", "commits"])
def test_each_search_type_is_asked_for_the_incident_terms(once, kind: str) -> None:
    _, github = once
    (search,) = github.matching(path=rf"^/search/{kind}$")
    assert search.query["q"] == "ByteDance intern"
    assert search.headers["x-github-api-version"] == "2022-11-28"


def test_repos_issues_comments_commits_and_readme_become_posts(once) -> None:
    result, _github = once
    ids = set(result.ids())
    assert {
        f"github:{CONFESSION}",
        f"github:{CONFESSION}:readme",
        f"github:{CONFESSION}#1",
        f"github:{CONFESSION}#1/comment-77",
        f"github:{CONFESSION}@abc123",
        f"github:{FAKE_CALL}",
    } <= ids


def test_the_readme_is_decoded_text(once) -> None:
    result, _github = once
    readme = next(p for p in result.posts() if p["native_id"] == f"{CONFESSION}:readme")
    assert "字节跳动 实习生" in readme["text"]


def test_stargazers_are_paged_by_link_with_their_starred_at(once) -> None:
    result, github = once
    pages = github.matching(path=rf"^/repos/{CONFESSION}/stargazers$")
    assert [p.query.get("page", "1") for p in pages] == ["1", "2"]
    assert all("application/vnd.github.star+json" in p.headers["accept"] for p in pages)
    assert len({a["native_id"] for a in stars(result)}) == 150
    fan3 = next(a for a in stars(result) if a["actor"] == "fan3")
    assert fan3["timestamp"].startswith("2024-10-18T08:15:00")


def test_a_repo_found_by_search_is_followed(once) -> None:
    _, github = once
    assert github.count(status=200, path=rf"^/repos/{FAKE_CALL}$") == 1
    assert github.count(path=rf"^/repos/{FAKE_CALL}/stargazers$") == 1


def test_a_watched_users_events_and_created_repos_come_along(once) -> None:
    result, _github = once
    events = {(a["event"], a["native_id"]) for a in result.activities()}
    assert ("push", "u2") in events
    assert ("create", "u1") in events


def test_a_star_seen_as_event_and_in_the_list_has_one_id(once) -> None:
    result, _github = once
    fan0 = [a for a in stars(result) if a["actor"] == "fan0"]
    assert {a["native_id"] for a in fan0} == {f"{CONFESSION}:fan0"}


def asked(server: ReplayServer) -> list[tuple[str, tuple]]:
    return [(r.path, tuple(sorted(r.query.items()))) for r in server.requests]


def test_every_repeat_request_is_conditional_and_answered_304(
    tmp_path: Path, github: ReplayServer
) -> None:
    first = crawl(tmp_path, github)
    before = set(asked(github))
    github.clear_log()
    second = crawl(tmp_path, github)
    repeats = [r for r, key in zip(github.requests, asked(github), strict=True) if key in before]
    assert first.items and second.activities() == []
    # Only the refresh window's issue and comment come again (asked with a new `since`).
    assert {p["kind"] for p in second.posts()} == {"issue", "comment"}
    assert len(repeats) >= 10
    assert all("if-none-match" in r.headers and r.status == 304 for r in repeats)


def test_only_lists_asked_with_a_new_since_are_not_repeats(
    tmp_path: Path, github: ReplayServer
) -> None:
    crawl(tmp_path, github)
    github.clear_log()
    crawl(tmp_path, github)
    fresh = {r.path for r in github.requests if r.status != 304}
    assert fresh == {f"/repos/{CONFESSION}/issues", f"/repos/{CONFESSION}/issues/comments"}
    assert all("since" in r.query for r in github.requests if r.path in fresh)


def test_a_second_run_fetches_only_what_is_new(tmp_path: Path, clock: SettableClock) -> None:
    world = founding_world(stars=150)
    clock.now = T0 + timedelta(hours=10)  # 121 stars so far (one every 5 minutes)
    with ReplayServer(GithubReplay(world), clock=clock) as github:
        first = crawl(tmp_path, github)
        clock.now = T0 + timedelta(days=2)
        world.issues[CONFESSION].append(
            issue(2, CONFESSION, "Statement out", "denied", T0 + timedelta(days=1), "x")
        )
        second = crawl(tmp_path, github)
    assert len({a["native_id"] for a in stars(first)}) == 121
    new_stars = {a["native_id"] for a in stars(second)} - {a["native_id"] for a in stars(first)}
    assert len(new_stars) == 29
    issues = {p["native_id"] for p in second.posts() if p["kind"] == "issue"}
    # The new issue, and the one within the refresh window (24h) before the last update seen.
    assert issues == {f"{CONFESSION}#1", f"{CONFESSION}#2"}
    repo_post = next(p for p in second.posts() if p["native_id"] == CONFESSION)
    assert repo_post["engagement"]["stars"] == 150


def test_a_token_from_the_settings_is_sent_as_bearer(
    tmp_path: Path, github: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPREADWATCH_GITHUB_TOKEN", "ghp_testtoken")
    crawl(tmp_path, github)
    assert {r.headers.get("authorization") for r in github.requests} == {"Bearer ghp_testtoken"}


def test_without_a_token_no_authorization_is_sent(once) -> None:
    _, github = once
    assert all("authorization" not in r.headers for r in github.requests)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            faults.truncated_json(
                {"total_count": 1, "incomplete_results": False, "items": [{"id": 1}]}
            ),
            "bad_json",
        ),
        (faults.garbage(), "bad_json"),
    ],
    ids=["truncated", "garbage"],
)
def test_a_broken_body_is_a_counted_drop_and_the_crawl_goes_on(
    tmp_path: Path, github: ReplayServer, reply, reason: str
) -> None:
    github.script(r"^/search/repositories", [reply])
    result = crawl(tmp_path, github)
    assert result.stat(f"spreadwatch/dropped/{reason}") == 1
    assert f"github:{CONFESSION}@abc123" in result.ids()
    assert result.stats["finish_reason"] == "finished"


def test_a_broken_body_is_fetched_afresh_next_run(tmp_path: Path, github: ReplayServer) -> None:
    github.script(r"^/search/repositories", [faults.garbage()])
    crawl(tmp_path, github)
    github.clear_log()
    crawl(tmp_path, github)
    (search,) = github.matching(path=r"^/search/repositories$")
    assert search.status == 200


def test_a_2mb_body_of_the_wrong_shape_is_dropped_record_by_record(
    tmp_path: Path, github: ReplayServer
) -> None:
    github.script(rf"^/repos/{CONFESSION}/issues\?", [faults.huge_body()])
    result = crawl(tmp_path, github)
    assert result.stat("spreadwatch/dropped/bad_record") > 1000
    assert f"github:{CONFESSION}#1/comment-77" in result.ids()


def test_a_server_error_is_retried(tmp_path: Path, github: ReplayServer) -> None:
    github.script(rf"^/repos/{CONFESSION}$", [faults.server_error(502)])
    result = crawl(tmp_path, github)
    assert f"github:{CONFESSION}" in result.ids()
    assert [r.status for r in github.matching(path=rf"^/repos/{CONFESSION}$")] == [502, 200]


def test_html_and_script_in_an_issue_body_are_kept_as_plain_text(
    tmp_path: Path, github: ReplayServer
) -> None:
    github.app.data.issues[CONFESSION][0]["body"] = faults.HOSTILE_TEXT
    result = crawl(tmp_path, github)
    post = next(p for p in result.posts() if p["native_id"] == f"{CONFESSION}#1")
    assert post["text"] == faults.HOSTILE_TEXT
    assert post["text_is_html"] is False


def test_an_official_accounts_repo_is_marked_official(tmp_path: Path, github: ReplayServer) -> None:
    github.app.data.repos.append(
        {
            **founding_world().repos[0],
            "id": 99,
            "full_name": "bytedance/statement",
            "owner": {"login": "bytedance", "id": 4},
            "description": "ByteDance intern statement",
        }
    )
    result = crawl(tmp_path, github)
    post = next(p for p in result.posts() if p["native_id"] == "bytedance/statement")
    assert post["official"] is True and post["author"]["official"] is True


def test_a_watched_users_followers_reach_their_posts(once) -> None:
    result, _ = once
    repo = next(p for p in result.posts() if p["native_id"] == CONFESSION)
    assert repo["author"]["followers"] == 321


def test_a_missing_profile_does_not_stall_the_crawl(tmp_path: Path, github: ReplayServer) -> None:
    github.app.data.users.clear()
    result = crawl(tmp_path, github)
    assert result.stat("spreadwatch/refused/404") >= 1
    assert f"github:{CONFESSION}" in result.ids()


def test_an_unreachable_profile_does_not_stall_the_crawl(
    tmp_path: Path, github: ReplayServer
) -> None:
    github.script(r"^/users/JusticeFighter110$", [faults.connection_dropped()])
    result = crawl(tmp_path, github, RETRY_TIMES=0)
    assert result.stat("spreadwatch/dropped/request_failed") == 1
    assert f"github:{CONFESSION}" in result.ids()


def test_incomplete_search_results_are_counted(tmp_path: Path, github: ReplayServer) -> None:
    github.app.incomplete_results = True
    result = crawl(tmp_path, github)
    assert result.stat("spreadwatch/github/incomplete_results") == 3
