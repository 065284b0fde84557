"""The rate-limit middleware: waits out 429s and rate-limit 403s, counts plain refusals."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path

import pytest
from github_fixture import CONFESSION, FAKE_CALL, T0, founding_world
from replay_helpers import MS_LOG_FORMAT, SettableClock, holds, write_incident
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler
from spider_harness import CrawlResult, run_spider

from crawlers import middlewares
from crawlers.middlewares import RateLimitMiddleware
from spreadwatch.replay import ReplayServer, faults
from spreadwatch.replay.github import GithubReplay

SOURCES = {"github": {"repos": [CONFESSION], "terms": ["ByteDance intern"]}}
REPO = rf"^/repos/{CONFESSION}$"


@pytest.fixture
def github() -> Iterator[ReplayServer]:
    world = founding_world(stars=5, mirrors=0)
    with ReplayServer(GithubReplay(world), clock=SettableClock(T0 + timedelta(days=2))) as server:
        yield server


def crawl(tmp_path: Path, server: ReplayServer, **settings: object) -> CrawlResult:
    incident = write_incident(tmp_path, SOURCES)
    env = {"SPREADWATCH_GITHUB_BASE_URL": server.url}
    return run_spider("github", incident, tmp_path / "work", env, scrapy_settings=settings)


def statuses(server: ReplayServer, path: str) -> list[int]:
    return [r.status for r in server.matching(path=path)]


def test_a_429_is_waited_out_for_its_retry_after_then_retried(
    tmp_path: Path, github: ReplayServer
) -> None:
    github.script(REPO, [faults.rate_limited(429, retry_after=1)])
    result = crawl(tmp_path, github)
    limited, retried = github.matching(path=REPO)
    assert (limited.status, retried.status) == (429, 200)
    assert result.stat("spreadwatch/ratelimit/waits") == 1
    assert f"github:{CONFESSION.lower()}" in result.ids()


def test_the_retry_comes_no_sooner_than_retry_after(tmp_path: Path) -> None:
    world = founding_world(stars=5, mirrors=0)
    with ReplayServer(GithubReplay(world), clock=_wall_clock) as github:
        github.script(REPO, [faults.rate_limited(429, retry_after=2)])
        crawl(tmp_path, github)
        limited, retried = github.matching(path=REPO)
    assert retried.at - limited.at >= timedelta(seconds=2)


def _wall_clock():  # the replay server logs request times by its clock: use real time here
    return datetime.now(UTC)


def test_a_403_at_zero_remaining_is_waited_out_until_the_reset(
    tmp_path: Path, github: ReplayServer
) -> None:
    github.script(REPO, [faults.rate_limited(403, retry_after=None, reset_in=1)])
    result = crawl(tmp_path, github)
    assert statuses(github, REPO) == [403, 200]
    assert result.stat("spreadwatch/ratelimit/waits") == 1
    assert f"github:{CONFESSION.lower()}" in result.ids()


def test_a_secondary_rate_limit_403_is_waited_out(tmp_path: Path, github: ReplayServer) -> None:
    reply = faults.forbidden("You have exceeded a secondary rate limit. Please wait a few minutes.")
    github.script(REPO, [reply])
    result = crawl(
        tmp_path,
        github,
        SPREADWATCH_RATELIMIT_BACKOFF=0.2,
        SPREADWATCH_RATELIMIT_SECONDARY_MIN=0.5,
    )
    assert statuses(github, REPO) == [403, 200]
    assert result.stat("spreadwatch/ratelimit/waits") == 1


def test_a_plain_403_is_a_counted_refusal_not_retried(tmp_path: Path, github: ReplayServer) -> None:
    github.script(REPO, [faults.forbidden()])
    result = crawl(tmp_path, github)
    assert statuses(github, REPO) == [403]
    assert result.stat("spreadwatch/ratelimit/refused") == 1
    assert result.stat("spreadwatch/refused/403") == 1


def test_retries_stop_at_the_cap_and_the_crawl_finishes(
    tmp_path: Path, github: ReplayServer
) -> None:
    github.script(REPO, [faults.rate_limited(429, retry_after=0)] * 5)
    result = crawl(tmp_path, github, SPREADWATCH_RATELIMIT_MAX_RETRIES=2)
    assert statuses(github, REPO) == [429, 429, 429]
    assert result.stat("spreadwatch/ratelimit/gave_up") == 1
    assert result.stats["finish_reason"] == "finished"


def _response(status: int, **headers: str) -> Response:
    return Response(
        "https://api.example/x",
        status=status,
        headers=headers,
        request=Request("https://api.example/x"),
    )


@pytest.fixture
def middleware() -> RateLimitMiddleware:
    return RateLimitMiddleware(get_crawler(settings_dict={"SPREADWATCH_RATELIMIT_BACKOFF": 60}))


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        (lambda: {"Retry-After": "7"}, 7, 7),
        (lambda: {"Retry-After": formatdate(time.time() + 30, usegmt=True)}, 28, 30),
        (lambda: {"x-ratelimit-reset": str(int(time.time()) + 90)}, 88, 90),
        (lambda: {"X-Ratelimit-Reset": "12"}, 12, 12),  # Reddit: seconds until reset
        (dict, 60, 60),  # no hint: exponential backoff from the base
    ],
    ids=[
        "retry-after-seconds",
        "retry-after-date",
        "github-epoch-reset",
        "reddit-seconds-reset",
        "backoff",
    ],
)
def test_the_wait_is_read_from_the_platforms_headers(
    middleware: RateLimitMiddleware, headers, low, high
) -> None:
    assert low <= middleware.wait_seconds(_response(429, **headers()), attempts=0) <= high


def test_backoff_doubles_per_attempt(middleware: RateLimitMiddleware) -> None:
    waits = [middleware.wait_seconds(_response(429), attempts=n) for n in range(3)]
    assert waits == [60, 120, 240]


def _received(server: ReplayServer, path: str) -> list[float]:
    return [r.received for r in server.matching(path=path)]


#: A request sent just before a hold began can reach the replay this much later (the replay's
#: server threads on a loaded CI box; 1 s was once exceeded there): requests received after it
#: were sent during the hold. The holds below last 5 s, so the window checked stays 3 s long.
IN_FLIGHT = 2.0


def test_a_search_limit_holds_every_search_and_nothing_else(
    tmp_path: Path, github: ReplayServer
) -> None:
    github.script(r"^/search/", [faults.rate_limited(403, retry_after=5, resource="search")])
    result = crawl(tmp_path, github, LOG_FORMAT=MS_LOG_FORMAT)
    ((start, wait, what),) = holds(result.log)
    assert (wait, what) == (5.0, "bucket search")
    window = [r for r in github.requests if start + IN_FLIGHT < r.received < start + wait]
    assert [r.path for r in window if r.path.startswith("/search/")] == []
    assert len(github.matching(path=r"^/search/")) == 4  # the limited one asked again


def test_a_held_bucket_does_not_hold_another(middleware: RateLimitMiddleware) -> None:
    """Search and core have separate budgets (`x-ratelimit-resource`): while search waits,
    core requests go."""
    search = Request("https://api.example/search/issues", meta={"ratelimit_bucket": "search"})
    limited = Response(
        search.url,
        status=403,
        headers={
            "Retry-After": "2",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-resource": "search",
        },
        request=search,
    )

    async def waits() -> tuple[float, float]:
        retry = await middleware.process_response(search, limited)
        assert isinstance(retry, Request)
        started = time.monotonic()
        await middleware.process_request(Request("https://api.example/repos/a/b"))
        core = time.monotonic() - started
        await middleware.process_request(retry)
        return core, time.monotonic() - started

    core, held = asyncio.run(waits())
    assert core < 0.1
    assert held >= 1.9


def test_a_secondary_limit_holds_every_request_for_its_retry_after(
    tmp_path: Path, github: ReplayServer
) -> None:
    github.script(rf"^/repos/{CONFESSION}/stargazers", [faults.secondary_limit(retry_after=5)])
    result = crawl(tmp_path, github, LOG_FORMAT=MS_LOG_FORMAT)
    ((start, wait, what),) = holds(result.log)
    assert (wait, what) == (5.0, "every request")
    assert [r.path for r in github.requests if start + IN_FLIGHT < r.received < start + wait] == []
    released = {r.path for r in github.requests if r.received >= start + wait}
    assert len(released) > 1, "only the limited request was left: nothing else was held"
    assert result.stat("spreadwatch/ratelimit/waits") == 1
    assert statuses(github, rf"^/repos/{CONFESSION}/stargazers$") == [403, 200]


def test_a_spent_bucket_is_held_until_its_reset(middleware: RateLimitMiddleware) -> None:
    """A reply with `x-ratelimit-remaining: 0` holds that bucket until the reset, instead of
    letting its next requests run into 403s; other buckets go on."""
    reset = str(int(time.time()) + 2)
    spent = Response(
        "https://api.example/search/issues",
        status=200,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        request=Request("https://api.example/search/issues", meta={"ratelimit_bucket": "search"}),
    )

    async def waits() -> tuple[float, float]:
        await middleware.process_response(spent.request, spent)
        started = time.monotonic()
        await middleware.process_request(
            Request("https://api.example/x", meta={"ratelimit_bucket": "core"})
        )
        core = time.monotonic() - started
        await middleware.process_request(
            Request("https://api.example/s", meta={"ratelimit_bucket": "search"})
        )
        return core, time.monotonic() - started

    core, search = asyncio.run(waits())
    assert core < 0.1
    assert search >= 0.8


def test_a_wait_past_the_crawls_timeout_is_skipped_and_said(
    tmp_path: Path, github: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPREADWATCH_CRAWL_TIMEOUT", "20")
    github.script(REPO, [faults.rate_limited(429, retry_after=600)])
    started = time.monotonic()
    result = crawl(tmp_path, github, SPREADWATCH_RATELIMIT_MAX_WAIT=3600)
    assert time.monotonic() - started < 20
    assert statuses(github, REPO) == [429]
    assert result.stat("spreadwatch/refused/rate_limited") == 1
    assert "skipped" in result.log and "/repos/JusticeFighter110/confession" in result.log
    assert f"github:{CONFESSION.lower()}#1" in result.ids()


# ---------------------------------------------------------------- pacing by the budget

API = "https://api.example"


def _request(path: str = "/x", bucket: str | None = None) -> Request:
    return Request(f"{API}{path}", meta={"ratelimit_bucket": bucket} if bucket else {})


def _answer(request: Request, status: int = 200, **headers: str) -> Response:
    return Response(request.url, status=status, headers=headers, request=request)


async def _goes(middleware: RateLimitMiddleware, request: Request, within: float = 0.2) -> bool:
    """Whether `request` leaves `process_request` at once (False: it is held)."""
    try:
        await asyncio.wait_for(middleware.process_request(request), within)
    except TimeoutError:
        return False
    return True


def _epoch(seconds: float) -> str:
    return str(int(time.time() + seconds))


@pytest.fixture
def pacer(monkeypatch: pytest.MonkeyPatch) -> RateLimitMiddleware:
    """A middleware holding to the announced reset exactly (no margin), for short tests."""
    monkeypatch.setattr(middlewares, "RESET_MARGIN", 0.0)
    return RateLimitMiddleware(get_crawler(settings_dict={}))


def test_requests_wait_while_those_not_yet_answered_use_up_the_budget_left(
    pacer: RateLimitMiddleware, caplog: pytest.LogCaptureFixture
) -> None:
    """Reddit says 2 left: two more go; the third waits for the window's reset (counted and
    logged once), then goes first, and the next waits for its answer to tell the new budget."""

    async def run() -> float:
        first = _request("/1")
        assert await _goes(pacer, first)
        spent = {"X-Ratelimit-Remaining": "2.0", "X-Ratelimit-Reset": "1"}
        await pacer.process_response(first, _answer(first, **spent))
        out = [_request("/a"), _request("/b")]  # kept, as Scrapy's downloader keeps them
        assert await _goes(pacer, out[0]) and await _goes(pacer, out[1])
        started = time.monotonic()
        third, fourth = _request("/c"), _request("/d")
        assert not await _goes(pacer, third)
        assert not await _goes(pacer, fourth, within=0.1)
        await pacer.process_request(third)
        waited = time.monotonic() - started
        assert not await _goes(pacer, fourth)
        renewed = {"X-Ratelimit-Remaining": "9.0", "X-Ratelimit-Reset": "1"}
        await pacer.process_response(third, _answer(third, **renewed))
        assert await _goes(pacer, fourth)  # 9 left, 2 of the last window out
        return waited

    with caplog.at_level(logging.INFO, logger="crawlers.middlewares"):
        waited = asyncio.run(run())
    assert 0.7 <= waited < 1.5
    assert pacer.crawler.stats is not None
    assert pacer.crawler.stats.get_value("spreadwatch/ratelimit/paced_seconds") == 1
    (said,) = [r.message for r in caplog.records if "budget spent" in r.message]
    assert said.startswith("api.example bucket default: budget spent (2 left, 2 not yet answered)")


def _iso(seconds: float) -> str:
    moment = datetime.fromtimestamp(time.time() + seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: Each platform's headers of requests left and of the reset, and how it writes a reset
#: `seconds` from now: Reddit a count of seconds, GitHub and Bluesky an epoch, Mastodon ISO.
FORMS = {
    "reddit": ("X-Ratelimit-Remaining", "X-Ratelimit-Reset", lambda seconds: str(round(seconds))),
    "github": ("x-ratelimit-remaining", "x-ratelimit-reset", _epoch),
    "mastodon": ("X-RateLimit-Remaining", "X-RateLimit-Reset", _iso),
    "bluesky": ("ratelimit-remaining", "ratelimit-reset", _epoch),
}


@pytest.mark.parametrize("form", list(FORMS))
def test_a_new_buckets_first_request_asks_alone_and_its_reply_paces_the_rest(
    pacer: RateLimitMiddleware, form: str
) -> None:
    """Before any reply, a bucket's budget is unknown: one request goes first and the others
    wait for its reply, so a crawl's first burst cannot overrun a small budget (GitHub's search:
    30 a minute). Its reply's budget then paces them; a bucket whose replies say nothing goes
    freely after its first reply."""
    left, reset, written = FORMS[form]

    async def run() -> None:
        first, second, third = _request("/1"), _request("/2"), _request("/3")
        assert await _goes(pacer, first)
        assert not await _goes(pacer, second)
        await pacer.process_response(first, _answer(first, **{left: "1", reset: written(30)}))
        assert await _goes(pacer, second)  # 1 left, none out
        assert not await _goes(pacer, third)  # 1 left, 1 out
        other = [_request("/o1", bucket="other"), _request("/o2", bucket="other")]
        assert await _goes(pacer, other[0]) and not await _goes(pacer, other[1])
        await pacer.process_response(other[0], _answer(other[0]))
        assert await _goes(pacer, other[1]) and await _goes(pacer, _request("/o3", "other"))

    asyncio.run(run())


@pytest.mark.parametrize("form", list(FORMS))
def test_the_lowest_remaining_of_a_window_counts_and_a_later_window_replaces_it(
    pacer: RateLimitMiddleware, form: str
) -> None:
    """Replies arrive out of order: one sent earlier, answered later, says more were left; the
    fewer counts. A reply of a later window tells its budget; a late one of the earlier window
    changes nothing. Each platform's own reset form."""
    left, reset, written = FORMS[form]

    def told(remaining: int, seconds: float) -> dict[str, str]:
        return {left: str(remaining), reset: written(seconds)}

    async def run() -> None:
        first = _request("/first")
        assert await _goes(pacer, first)  # a new bucket: its first request asks alone
        await pacer.process_response(first, _answer(first))  # (no budget said)
        early, late = _request("/early"), _request("/late")
        assert await _goes(pacer, early) and await _goes(pacer, late)
        await pacer.process_response(late, _answer(late, **told(1, 30)))
        await pacer.process_response(early, _answer(early, **told(5, 30)))
        one = _request("/one")
        assert await _goes(pacer, one)  # 1 left, none out
        assert not await _goes(pacer, _request("/two"))  # 1 left, 1 out: the 5 is stale
        await pacer.process_response(one, _answer(one, **told(40, 90)))
        stale = _request("/stale")
        assert await _goes(pacer, stale)  # a new window: 40 left
        await pacer.process_response(stale, _answer(stale, **told(0, 30)))
        assert await _goes(pacer, _request("/three"))  # the earlier window's late word: ignored

    asyncio.run(run())


def test_a_request_is_counted_once_until_answered_or_failed_and_a_retry_anew(
    pacer: RateLimitMiddleware,
) -> None:
    """Outstanding requests: one seen twice counts once; an answer or a failure ends it (a
    second answer takes nothing more off); a 429's retry counts when it goes again."""

    async def run() -> None:
        seed = _request("/seed")
        await _goes(pacer, seed)
        budget = {"x-ratelimit-remaining": "2", "x-ratelimit-reset": _epoch(30)}
        await pacer.process_response(seed, _answer(seed, **budget))
        failing, twice = _request("/failing"), _request("/twice")
        for request in (failing, twice, twice):
            assert await _goes(pacer, request)
        assert not await _goes(pacer, _request("/held"))  # 2 left, 2 out
        pacer.process_exception(failing, TimeoutError())
        limited = _request("/limited")
        assert await _goes(pacer, limited)  # the failed one is out no more: 2 out again
        retry = await pacer.process_response(limited, _answer(limited, 429, **{"Retry-After": "0"}))  # fmt: skip
        await pacer.process_response(limited, _answer(limited, 429, **{"Retry-After": "0"}))
        assert isinstance(retry, Request) and retry is not limited
        assert await _goes(pacer, retry)  # answered twice, counted off once: 1 out, then 2
        assert not await _goes(pacer, _request("/held"))

    asyncio.run(run())


def test_a_bucket_spent_by_its_requests_out_holds_none_of_another(
    pacer: RateLimitMiddleware,
) -> None:
    """GitHub's search budget used up by the searches not yet answered holds searches only:
    core requests (their own budget) go."""

    async def run() -> None:
        search = _request("/search/issues", "search")
        await _goes(pacer, search)
        left = {"x-ratelimit-remaining": "1", "x-ratelimit-reset": _epoch(30), "x-ratelimit-resource": "search"}  # fmt: skip
        await pacer.process_response(search, _answer(search, **left))
        out = _request("/search/commits", "search")
        assert await _goes(pacer, out)
        assert not await _goes(pacer, _request("/search/repositories", "search"))
        assert await _goes(pacer, _request("/repos/a/b", "core"))

    asyncio.run(run())


def test_a_distant_reset_holds_no_longer_than_the_longest_wait() -> None:
    """A window said to reset in an hour (or a reset no platform sends) holds its bucket
    `SPREADWATCH_RATELIMIT_MAX_WAIT` at most; then one request goes to learn the budget."""
    middleware = RateLimitMiddleware(get_crawler(settings_dict={"SPREADWATCH_RATELIMIT_MAX_WAIT": 0.5}))  # fmt: skip

    async def run() -> float:
        first = _request("/1")
        await _goes(middleware, first)
        distant = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": _epoch(3600)}
        await middleware.process_response(first, _answer(first, **distant))
        started = time.monotonic()
        await middleware.process_request(_request("/2"))
        return time.monotonic() - started

    assert 0.4 <= asyncio.run(run()) < 1.0


SEARCH_TERMS = ["ByteDance intern", "JusticeFighter110", "H100 sabotage", "字节跳动 实习生"]


def _search_crawl(tmp_path: Path, search_limit: int) -> tuple[CrawlResult, int, int]:
    """A crawl of four search terms (three searches each) on a search budget of `search_limit`
    a 2 s window, GitHub's resets read on the wall clock: (result, searches, 403s)."""
    sources = {"github": {"repos": [CONFESSION], "terms": SEARCH_TERMS}}
    app = GithubReplay(
        founding_world(stars=5, mirrors=0), search_limit=search_limit, search_window=2
    )
    tmp_path.mkdir()
    with ReplayServer(app, clock=_wall_clock) as github:
        incident = write_incident(tmp_path, sources)
        env = {"SPREADWATCH_GITHUB_BASE_URL": github.url}
        settings = {"SPREADWATCH_RATELIMIT_MAX_WAIT": 10}
        result = run_spider("github", incident, tmp_path / "work", env, scrapy_settings=settings)
        return result, github.count(path=r"^/search/"), github.count(path=r"^/search/", status=403)


def test_a_small_search_budget_is_paced_with_no_403_and_nothing_lost(tmp_path: Path) -> None:
    """GitHub's search budget (`x-ratelimit-resource: search`, 30 a minute) is far smaller than
    its core one: searches are held to what the last reply said was left, less those not yet
    answered, so none meets a 403, and the crawl finds what it finds with no limit at all."""
    unlimited, asked, _ = _search_crawl(tmp_path / "unlimited", 10_000)
    paced, searches, refused = _search_crawl(tmp_path / "paced", 3)
    assert (refused, paced.stat("spreadwatch/ratelimit/gave_up")) == (0, 0), f"{refused} of {searches} searches answered 403"  # fmt: skip
    assert searches == asked == len(SEARCH_TERMS) * 3  # repositories, issues, commits per term
    assert sorted(paced.ids()) == sorted(unlimited.ids())
    assert f"github:{FAKE_CALL.lower()}" in paced.ids()  # a repository only the search finds
    assert paced.stat("spreadwatch/ratelimit/paced_seconds") >= 1
    assert paced.stat("spreadwatch/ratelimit/kept_back") >= 1  # in the scheduler, not a slot
