"""The GitHub spider against the replayed GitHub API (items as the spider yields them).

The founding case's small world (`github_fixture`); the full three-crawl check on a
real-history world is `test_github_world.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from github_fixture import CONFESSION, FAKE_CALL, T0, founding_world, issue
from replay_helpers import SettableClock, write_incident
from spider_harness import CrawlResult, run_spider

from spreadwatch.replay import ReplayServer, Reply, faults
from spreadwatch.replay.github import GithubReplay

SOURCES = {
    "github": {
        "repos": [CONFESSION],
        "users": ["JusticeFighter110"],
        "terms": ["ByteDance intern"],
        "max_pages": 5,
    }
}
KEY = CONFESSION.lower()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(T0 + timedelta(days=2))


@pytest.fixture
def github(clock: SettableClock) -> Iterator[ReplayServer]:
    with ReplayServer(GithubReplay(founding_world()), clock=clock) as server:
        yield server


def crawl(
    tmp_path: Path,
    server: ReplayServer,
    sources: dict = SOURCES,
    env: dict | None = None,
    **settings,
) -> CrawlResult:
    incident = write_incident(tmp_path, sources)
    env = {"SPREADWATCH_GITHUB_BASE_URL": server.url, **(env or {})}
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
    assert {
        f"github:{KEY}",
        f"github:{KEY}:readme",
        f"github:{KEY}#1",
        f"github:{KEY}#1/comment-77",
        f"github:{KEY}@abc123",
        f"github:{FAKE_CALL}",
    } <= set(result.ids())


def test_ids_are_case_folded_and_display_keeps_githubs_spelling(once) -> None:
    result, _ = once
    repo_post = next(p for p in result.posts() if p["native_id"] == KEY)
    assert repo_post["title"] == CONFESSION
    assert repo_post["url"] == f"https://github.com/{CONFESSION}"
    assert repo_post["repo"] == KEY


def test_the_readme_is_decoded_text(once) -> None:
    result, _github = once
    readme = next(p for p in result.posts() if p["native_id"] == f"{KEY}:readme")
    assert "字节跳动 实习生" in readme["text"]


def test_stargazers_are_paged_by_link_with_their_starred_at(once) -> None:
    result, github = once
    pages = github.matching(path=rf"^(/repos/{CONFESSION}|/repositories/1)/stargazers$")
    # GitHub links a repo's next pages by the repo's id: /repositories/1/stargazers?page=2
    assert [(p.path, p.query.get("page", "1")) for p in pages] == [
        (f"/repos/{CONFESSION}/stargazers", "1"),
        ("/repositories/1/stargazers", "2"),
    ]
    assert all("application/vnd.github.star+json" in p.headers["accept"] for p in pages)
    assert len({a["native_id"] for a in stars(result)}) == 150
    fan3 = next(a for a in stars(result) if a["actor"] == "fan3")
    assert fan3["timestamp"].startswith("2024-10-18T08:15:00")


def test_a_repo_found_by_a_matching_search_hit_is_followed(once) -> None:
    _, github = once
    assert github.count(status=200, path=rf"^/repos/{FAKE_CALL}$") == 1
    assert github.count(path=rf"^/repos/{FAKE_CALL}/stargazers$") == 1


def test_a_watched_users_events_come_along(once) -> None:
    result, _github = once
    events = {(a["event"], a["native_id"]) for a in result.activities()}
    assert ("push", "u2") in events
    assert ("create", "u1") in events


def test_a_star_seen_as_event_and_in_the_list_has_one_id(once) -> None:
    result, _github = once
    fan0 = [a for a in stars(result) if a["actor"] == "fan0"]
    assert {a["native_id"] for a in fan0} == {f"{KEY}:fan0"}


def asked(server: ReplayServer) -> list[tuple[str, tuple]]:
    return [(r.path, tuple(sorted(r.query.items()))) for r in server.requests]


def test_a_repeat_crawl_is_answered_304_and_yields_nothing(
    tmp_path: Path, github: ReplayServer
) -> None:
    first = crawl(tmp_path, github)
    github.clear_log()
    second = crawl(tmp_path, github)
    assert first.items and second.items == []
    assert all("if-none-match" in r.headers for r in github.requests)
    assert {r.status for r in github.requests} == {304}


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
    assert f"{KEY}#2" in issues  # with #1 again: it shares the (changed) page
    repo_post = next(p for p in second.posts() if p["native_id"] == KEY)
    assert repo_post["engagement"]["stars"] == 150


def test_a_new_base_url_keeps_the_cursors(tmp_path: Path, clock: SettableClock) -> None:
    """Cursors and ETags are stored relative to the base URL: behind a new proxy or host the
    next run asks the new host, conditionally, and walks on."""
    world = founding_world()
    with ReplayServer(GithubReplay(world), clock=clock) as old:
        crawl(tmp_path, old)
    with ReplayServer(GithubReplay(world), clock=clock) as new:
        again = crawl(tmp_path, new)
        assert again.items == []
        assert new.requests and {r.status for r in new.requests} == {304}


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
    assert f"github:{KEY}@abc123" in result.ids()
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
    assert f"github:{KEY}#1/comment-77" in result.ids()


def test_a_server_error_is_retried(tmp_path: Path, github: ReplayServer) -> None:
    github.script(rf"^/repos/{CONFESSION}$", [faults.server_error(502)])
    result = crawl(tmp_path, github)
    assert f"github:{KEY}" in result.ids()
    assert [r.status for r in github.matching(path=rf"^/repos/{CONFESSION}$")] == [502, 200]


def test_html_and_script_in_an_issue_body_are_kept_as_plain_text(
    tmp_path: Path, github: ReplayServer
) -> None:
    github.app.data.issues[CONFESSION][0]["body"] = faults.HOSTILE_TEXT
    result = crawl(tmp_path, github)
    post = next(p for p in result.posts() if p["native_id"] == f"{KEY}#1")
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
    repo_post = next(p for p in result.posts() if p["native_id"] == KEY)
    assert repo_post["author"]["followers"] == 321
    commit = next(p for p in result.posts() if p["kind"] == "commit")
    assert commit["author"]["followers"] == 321


def test_a_missing_profile_does_not_stall_the_crawl(tmp_path: Path, github: ReplayServer) -> None:
    github.app.data.users.clear()
    result = crawl(tmp_path, github)
    assert result.stat("spreadwatch/refused/404") >= 1
    assert f"github:{KEY}" in result.ids()


def test_an_unreachable_profile_does_not_stall_the_crawl(
    tmp_path: Path, github: ReplayServer
) -> None:
    github.script(r"^/users/JusticeFighter110$", [faults.connection_dropped()])
    result = crawl(tmp_path, github, RETRY_TIMES=0)
    assert result.stat("spreadwatch/dropped/request_failed") == 1
    assert f"github:{KEY}" in result.ids()


def test_incomplete_search_results_are_counted(tmp_path: Path, github: ReplayServer) -> None:
    github.app.incomplete_results = True
    result = crawl(tmp_path, github)
    assert result.stat("spreadwatch/github/incomplete_results") == 3


def test_nothing_before_the_window_unless_history_is_asked(
    tmp_path: Path, github: ReplayServer
) -> None:
    old = T0 - timedelta(days=400)
    revived = issue(9, CONFESSION, "old", "x", old, "x")
    revived["updated_at"] = "2024-10-18T09:00:00Z"  # commented on in the window
    github.app.data.issues[CONFESSION].append(revived)
    github.app.data.stargazers[CONFESSION][7]["starred_at"] = "2023-01-02T03:04:05Z"
    (tmp_path / "strict").mkdir()
    (tmp_path / "history").mkdir()
    strict = crawl(tmp_path / "strict", github)
    assert f"github:{KEY}#9" not in strict.ids()
    assert f"{KEY}:fan7" not in {a["native_id"] for a in stars(strict)}
    assert strict.stat("spreadwatch/dropped/outside_window") >= 2
    history = {"github": {**SOURCES["github"], "history": True}}
    kept = crawl(tmp_path / "history", github, history)
    old_issue = next(p for p in kept.posts() if p["native_id"] == f"{KEY}#9")
    old_star = next(a for a in stars(kept) if a["native_id"] == f"{KEY}:fan7")
    assert old_issue["before_window"] is True and old_star["before_window"] is True


@pytest.mark.parametrize(
    "commit",
    [
        {"committer": {"date": "9999-12-31T23:59:59-01:00"}},
        {"committer": None},
        {"committer": {"date": 20241018}},
        None,
    ],
    ids=["year-9999-west-of-utc", "committer-null", "date-a-number", "commit-null"],
)
def test_a_readme_whose_last_commit_has_no_readable_time_keeps_the_push_time(
    tmp_path: Path, github: ReplayServer, commit: object
) -> None:
    github.script(rf"^/repos/{CONFESSION}/commits\?path=", [Reply.json([{"sha": "f00", "commit": commit}])])  # fmt: skip
    result = crawl(tmp_path, github)
    assert f"github:{KEY}:readme" in result.ids()
    assert "spider_exceptions/count" not in result.stats


CROWDED = "crowd/forum"


def crowded_search(github: ReplayServer, count: int, step: timedelta) -> set[str]:
    """`count` issues about the rumour in a repository nobody follows; their post ids."""
    github.app.data.issues[CROWDED] = [
        issue(n, CROWDED, f"ByteDance intern thread {n}", "x", T0 + n * step, f"user{n}")
        for n in range(1, count + 1)
    ]
    return {f"github:{CROWDED}#{n}" for n in range(1, count + 1)}


SEARCH_ONLY = {"github": {"terms": ["ByteDance intern"], "max_pages": 40, "follow_found_repos": False}}  # fmt: skip


def test_an_issue_search_past_githubs_first_1000_results_is_read_in_date_slices(
    tmp_path: Path, github: ReplayServer
) -> None:
    """GitHub serves 1,000 results of a query; the other 250 are read by narrowing it."""
    expected = crowded_search(github, 1250, timedelta(minutes=1))
    result = crawl(tmp_path, github, SEARCH_ONLY)
    assert {i for i in result.ids() if i.startswith(f"github:{CROWDED}#")} == expected
    assert result.stat("spreadwatch/github/search_capped") == 0
    assert github.count(status=422) == 0


def test_results_past_the_first_1000_that_no_date_can_split_are_counted_not_silent(
    tmp_path: Path, github: ReplayServer
) -> None:
    """1,150 issues opened in one second: a narrowed query serves the same 1,000 again."""
    crowded_search(github, 1150, timedelta(0))
    result = crawl(tmp_path, github, SEARCH_ONLY)
    assert len({i for i in result.ids() if i.startswith(f"github:{CROWDED}#")}) == 1000
    assert result.stat("spreadwatch/github/search_capped") == 1


def test_a_search_past_1000_results_is_sliced_whatever_the_page_size(
    tmp_path: Path, github: ReplayServer
) -> None:
    """70 a page: GitHub's last page is the 15th (results 981 to 1,000), past which the pages
    would hold 1,050. With 1,010 issues the search was taken to end there: 10 never read."""
    expected = crowded_search(github, 1010, timedelta(minutes=1))
    result = crawl(tmp_path, github, SEARCH_ONLY, env={"SPREADWATCH_GITHUB_PER_PAGE": "70"})
    assert {i for i in result.ids() if i.startswith(f"github:{CROWDED}#")} == expected
    assert github.count(status=422) == 0
