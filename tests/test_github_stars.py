"""Stars past the ones GitHub's REST stargazers list serves (`crawlers.github.stars`).

GitHub serves a repo's first 40,000 stars (400 pages of 100) and answers the page after with a
422 "pagination is limited for this resource"; the rest are read newest first through GraphQL
with a token. The replay does both as GitHub does (`GithubReplay(stars_served=...)`); the
expected star ids are computed from the fixture alone (`owner/name:login`, case-folded).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from github_fixture import CONFESSION, T0, founding_world, star
from replay_helpers import SettableClock, write_incident
from spider_harness import CrawlResult, run_spider

from spreadwatch.replay import ReplayServer, Reply, faults
from spreadwatch.replay.github import GithubData, GithubReplay

KEY = CONFESSION.lower()
TOKEN = {"SPREADWATCH_GITHUB_TOKEN": "ghp_testtoken", "GITHUB_TOKEN": ""}
NO_TOKEN = {"SPREADWATCH_GITHUB_TOKEN": "", "GITHUB_TOKEN": ""}
#: A small cap for fast tests: 3 pages of 30 served, as GitHub serves 400 of 100.
SMALL = {"SPREADWATCH_GITHUB_PER_PAGE": "30"}
SERVED = 90
STARS_PAGE = rf"^(/repos/{CONFESSION}|/repositories/1)/stargazers$"


def world(stars: int) -> GithubData:
    """The founding case's repo with `stars` stars, one every 5 minutes from T0; no repo
    events, so every star comes from the lists under test (and once)."""
    data = founding_world(stars=stars, mirrors=0)
    data.repo_events = {}
    return data


def star_ids(data: GithubData) -> set[str]:
    return {f"{KEY}:{s['user']['login'].lower()}" for s in data.stargazers[CONFESSION]}


def newest_served(data: GithubData, served: int) -> str:
    """The id of the newest star the REST list serves: the GraphQL walk reads down to its
    time and reads the stars of that second again (one starred in the same second past the
    served end is not skipped), so it comes twice, as one document."""
    stars = sorted(data.stargazers[CONFESSION], key=lambda s: (s["starred_at"], s["user"]["id"]))
    return f"{KEY}:{stars[served - 1]['user']['login'].lower()}"


def once_each(data: GithubData, served: int) -> Counter[str]:
    """Every star of the fixture, the newest served one twice (see `newest_served`)."""
    return Counter(star_ids(data)) + Counter([newest_served(data, served)])


def read(result: CrawlResult) -> list[str]:
    return [a["native_id"] for a in result.activities() if a["event"] == "star"]


def crawl(
    tmp_path: Path, server: ReplayServer, env: dict, max_pages: int = 100, **settings: Any
) -> CrawlResult:
    sources = {"github": {"repos": [CONFESSION], "terms": ["nothing-matches-this"], "max_pages": max_pages}}  # fmt: skip
    incident = write_incident(tmp_path, sources)
    env = {"SPREADWATCH_GITHUB_BASE_URL": server.url, **env}
    return run_spider("github", incident, tmp_path / "work", env, scrapy_settings=settings)


def state(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "work/data/state/test-case/github.json").read_text())


def clock_after(stars: int) -> SettableClock:
    return SettableClock(T0 + timedelta(minutes=5 * stars + 60))


class FaultyGraphql(GithubReplay):
    """GitHub whose GraphQL answers the n-th query (1-based) with a given reply."""

    def __init__(self, data: GithubData, faults_at: dict[int, Reply], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.faults_at = faults_at
        self.queries = 0

    def graphql(self, request: Any) -> Reply:
        self.queries += 1
        fault = self.faults_at.get(self.queries)
        return fault if fault is not None else super().graphql(request)


@pytest.mark.parametrize(
    ("served", "per_page", "stars"),
    [
        # GitHub's own rule; at most 100 pages a run, the REST walk takes five runs (~30 s).
        pytest.param(40_000, 100, 40_250, marks=pytest.mark.slow, id="githubs-400-pages-of-100"),
        pytest.param(SERVED, 30, 100, id="3-pages-of-30"),
    ],
)
def test_with_a_token_every_star_past_the_served_ones_is_read(
    tmp_path: Path, served: int, per_page: int, stars: int
) -> None:
    """The REST list to its served end, then 422; the rest come through GraphQL."""
    data = world(stars)
    env = {**TOKEN, "SPREADWATCH_GITHUB_PER_PAGE": str(per_page)}
    runs: list[CrawlResult] = []
    replay = GithubReplay(data, stars_served=served)
    with ReplayServer(replay, clock=clock_after(stars)) as github:
        while not runs or runs[-1].stat("spreadwatch/github/stars_capped") == 0:
            assert len(runs) < 6, "the walk never reached GitHub's served end"
            runs.append(crawl(tmp_path, github, env))
        refused = github.matching(status=422)
    assert Counter(star_id for run in runs for star_id in read(run)) == once_each(data, served)
    assert sum(run.stat("spreadwatch/refused/422") for run in runs) == 0
    assert [r.query["page"] for r in refused] == [str(served // per_page + 1)]
    past = -(-(stars - served + 1) // per_page)  # GraphQL pages down to the newest served
    assert [q["cursor"] is None for q in github.app.graphql_asked] == [True] + [False] * (past - 1)


def test_without_a_token_the_served_stars_are_read_and_the_rest_named(tmp_path: Path) -> None:
    data = world(100)
    with ReplayServer(GithubReplay(data, stars_served=SERVED), clock=clock_after(100)) as github:
        first = crawl(tmp_path, github, {**NO_TOKEN, **SMALL})
        github.clear_log()
        second = crawl(tmp_path, github, {**NO_TOKEN, **SMALL})
        asked = [(r.query.get("page", "1"), r.status) for r in github.matching(path=STARS_PAGE)]
    oldest = sorted(data.stargazers[CONFESSION], key=lambda s: s["starred_at"])[:SERVED]
    assert Counter(read(first)) == Counter(f"{KEY}:{s['user']['login'].lower()}" for s in oldest)
    assert first.stat("spreadwatch/github/stars_capped") == 1
    assert first.stat("spreadwatch/refused/422") == 0
    assert "serves the first 90 stars; 10 stars lie past it" in first.log
    assert "read with a token" in first.log
    assert github.app.graphql_asked == []
    # The next run asks the last served page (unchanged: 304) and never the refused one again.
    assert asked == [("3", 304)]
    assert read(second) == []
    assert second.stat("spreadwatch/github/stars_capped") == 1


def test_a_capped_graphql_walk_goes_on_at_the_next_run(tmp_path: Path) -> None:
    """130 stars past the served 90, 30 a page: five GraphQL pages, four a run."""
    data = world(220)
    with ReplayServer(GithubReplay(data, stars_served=SERVED), clock=clock_after(220)) as github:
        first = crawl(tmp_path, github, {**TOKEN, **SMALL}, max_pages=4)
        asked_first = list(github.app.graphql_asked)
        github.app.graphql_asked.clear()
        second = crawl(tmp_path, github, {**TOKEN, **SMALL}, max_pages=4)
        asked_second = list(github.app.graphql_asked)
    assert len(asked_first) == 4 and first.stat("spreadwatch/github/capped") == 1
    assert len(read(first)) == SERVED + 4 * 30
    # The second run goes on from the first one's last endCursor, and finishes the walk.
    assert asked_second[0]["cursor"] is not None
    assert len(asked_second) == 1 and second.stat("spreadwatch/github/capped") == 0
    assert Counter(read(first) + read(second)) == once_each(data, SERVED)
    assert "walk:stargazers-graphql:" + KEY not in state(tmp_path)["extra"]


def test_new_stars_between_runs_are_read_and_nothing_twice(tmp_path: Path) -> None:
    data = world(100)
    clock = clock_after(100)
    with ReplayServer(GithubReplay(data, stars_served=SERVED), clock=clock) as github:
        first = crawl(tmp_path, github, {**TOKEN, **SMALL})
        newest = max(data.stargazers[CONFESSION], key=lambda s: s["starred_at"])
        new = [star(f"late{i}", 9000 + i, clock.now + timedelta(minutes=i + 1)) for i in range(25)]
        data.stargazers[CONFESSION].extend(new)
        clock.advance(hours=3)
        github.clear_log()
        second = crawl(tmp_path, github, {**TOKEN, **SMALL})
        rest = [(r.query.get("page", "1"), r.status) for r in github.matching(path=STARS_PAGE)]
    late = Counter(f"{KEY}:late{i}" for i in range(25))
    assert Counter(read(first)) == once_each(data, SERVED) - late
    # The second run reads the 25 new stars, and again only the one its since-point names
    # (stars of that same second are not skipped), never a page it read before.
    boundary = f"{KEY}:{newest['user']['login'].lower()}"
    assert Counter(read(second)) == Counter([f"{KEY}:late{i}" for i in range(25)] + [boundary])
    assert rest == [("3", 304)]


def test_a_graphql_rate_limit_mid_walk_loses_nothing_and_moves_no_since(tmp_path: Path) -> None:
    """The second GraphQL page answers GitHub's RATE_LIMITED (retries spent): the first
    page's stars are kept, the since-point stays, and the next run goes on below them."""
    data = world(190)
    replay = FaultyGraphql(data, {2: faults.graphql_rate_limited(reset_in=1)}, stars_served=SERVED)
    with ReplayServer(replay, clock=clock_after(190)) as github:
        first = crawl(tmp_path, github, {**TOKEN, **SMALL}, SPREADWATCH_RATELIMIT_MAX_RETRIES=0)
        since = state(tmp_path)["since"]["stargazers-graphql:" + KEY]
        github.app.graphql_asked.clear()
        second = crawl(tmp_path, github, {**TOKEN, **SMALL})
        resumed = github.app.graphql_asked[0]["cursor"]
    assert first.stat("spreadwatch/github/graphql_error/RATE_LIMITED") == 1
    assert len(read(first)) == SERVED + 30
    newest_served = sorted(s["starred_at"] for s in data.stargazers[CONFESSION])[SERVED - 1]
    assert since.startswith(newest_served.removesuffix("Z"))
    assert resumed is not None  # below the page read, not from the top
    assert Counter(read(first) + read(second)) == once_each(data, SERVED)


def test_a_bad_gateway_mid_walk_loses_nothing(tmp_path: Path) -> None:
    data = world(190)
    replay = FaultyGraphql(data, {2: faults.server_error(502)}, stars_served=SERVED)
    with ReplayServer(replay, clock=clock_after(190)) as github:
        first = crawl(tmp_path, github, {**TOKEN, **SMALL}, RETRY_TIMES=0)
        second = crawl(tmp_path, github, {**TOKEN, **SMALL})
    assert first.stat("spreadwatch/github/graphql_error/502") == 1
    assert len(read(first)) == SERVED + 30
    assert Counter(read(first) + read(second)) == once_each(data, SERVED)


def test_a_graphql_rate_limit_is_waited_out_and_retried(tmp_path: Path) -> None:
    data = world(150)
    replay = FaultyGraphql(data, {1: faults.graphql_rate_limited(reset_in=1)}, stars_served=SERVED)
    with ReplayServer(replay, clock=clock_after(150)) as github:
        result = crawl(tmp_path, github, {**TOKEN, **SMALL})
    assert result.stat("spreadwatch/ratelimit/waits") == 1
    assert result.stat("spreadwatch/github/graphql_error/RATE_LIMITED") == 0
    assert Counter(read(result)) == once_each(data, SERVED)


def test_a_dropped_connection_mid_walk_is_counted_and_loses_nothing(tmp_path: Path) -> None:
    data = world(190)
    replay = FaultyGraphql(data, {2: faults.connection_dropped()}, stars_served=SERVED)
    with ReplayServer(replay, clock=clock_after(190)) as github:
        first = crawl(tmp_path, github, {**TOKEN, **SMALL}, RETRY_TIMES=0)
        second = crawl(tmp_path, github, {**TOKEN, **SMALL})
    assert first.stat("spreadwatch/github/graphql_error/network") == 1
    assert len(read(first)) == SERVED + 30
    assert set(read(first) + read(second)) == star_ids(data)


def test_a_saved_page_github_no_longer_serves_is_asked_in_one_run_only(tmp_path: Path) -> None:
    """The saved cursor's last page answers the 422 (GitHub served it when the state was
    written): the first page asked is the refused one, no page is read, and the page before
    it becomes the served end, so no later run asks the refused one again."""
    data = world(100)
    replay = GithubReplay(data, stars_served=120)  # four pages when the state is written
    runs: list[CrawlResult] = []
    asked: list[list[tuple[str, int]]] = []
    with ReplayServer(replay, clock=clock_after(100)) as github:
        for served in (120, SERVED, SERVED):
            replay.stars_served = served
            github.clear_log()
            runs.append(crawl(tmp_path, github, {**TOKEN, **SMALL}))
            asked.append([(r.query.get("page", "1"), r.status) for r in github.matching(path=STARS_PAGE)])  # fmt: skip
    assert asked[1] == [("4", 422)]
    assert asked[2] == [("3", 304)]
    assert [run.stat("spreadwatch/github/stars_capped") for run in runs] == [0, 1, 1]
    assert sum(run.stat("spreadwatch/refused/422") for run in runs) == 0
    assert "serves the first 90 stars" in runs[1].log  # not 120: the page before the refused one
    # REST read all 100 while it served them: GraphQL reads down to the newest of them only
    # (and reads that one again at each run's since-point, see `newest_served`).
    again = Counter([newest_served(data, 100)])
    assert Counter(star_id for run in runs for star_id in read(run)) == once_each(data, 100) + again


def test_stars_filling_the_served_pages_then_more_are_read_once(tmp_path: Path) -> None:
    """Exactly the served 90 stars: the walk ends complete at page 3, unaware that it is the
    served end. Ten stars later the next run's 304 on page 3 leads to the 422: GraphQL reads
    down to the newest star REST read (kept by the cursor), not to the window's start."""
    data = world(SERVED)
    clock = clock_after(SERVED)
    runs: list[CrawlResult] = []
    asked: list[list[tuple[str, int]]] = []
    graphql: list[int] = []
    with ReplayServer(GithubReplay(data, stars_served=SERVED), clock=clock) as github:
        for run in range(3):
            if run == 1:
                later = [star(f"late{i}", 9000 + i, clock.now + timedelta(minutes=i + 1)) for i in range(10)]  # fmt: skip
                data.stargazers[CONFESSION].extend(later)
                clock.advance(hours=3)
            github.clear_log()
            github.app.graphql_asked.clear()
            runs.append(crawl(tmp_path, github, {**TOKEN, **SMALL}))
            asked.append([(r.query.get("page", "1"), r.status) for r in github.matching(path=STARS_PAGE)])  # fmt: skip
            graphql.append(len(github.app.graphql_asked))
    assert asked[1:] == [[("3", 304), ("4", 422)], [("3", 304)]]
    assert [run.stat("spreadwatch/github/stars_capped") for run in runs] == [0, 1, 1]
    assert graphql == [0, 1, 1]
    # The third run's GraphQL walk reads the star at its since-point again (`newest_served`).
    read_all = Counter(star_id for run in runs for star_id in read(run))
    assert read_all == once_each(data, SERVED) + Counter([f"{KEY}:late9"])
