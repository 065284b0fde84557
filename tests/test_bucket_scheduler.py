"""The bucket scheduler: a held rate-limit bucket's requests wait in the scheduler, not in the
downloader, so other buckets keep the crawl's concurrency; none is lost or sent early."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.core.engine import ExecutionEngine
from scrapy.http import Response
from scrapy.settings import Settings as ScrapySettings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.test import get_crawler
from spider_harness import PROJECT_ROOT, CrawlResult, run_spider

from crawlers.middlewares import PRIORITY, RateLimitMiddleware
from crawlers.scheduler import BucketScheduler
from crawlers.spiders.base import BUCKET_SCHEDULER, RATELIMIT_MIDDLEWARE
from spreadwatch.replay.server import ReplayApp, ReplayRequest, ReplayServer, Reply

#: Seconds (whole, as GitHub's epoch resets are) from the first search to its window's reset:
#: long enough that a loaded CI machine answers a dozen local core requests well inside it
#: (they take a fraction of a second here), so the order asserted is the scheduler's, not speed.
SPENT_FOR = 8
#: The GitHub spider's concurrency: more searches than this are queued.
CONCURRENCY = 8


class SpentSearch(ReplayApp):
    """GitHub's two REST budgets as these tests need them: the first search is answered with
    `x-ratelimit-remaining: 0` and a reset `SPENT_FOR` seconds ahead; a search before the
    reset is refused as GitHub refuses it (403, none left); from the reset on, searches have
    plenty. Core requests always have plenty."""

    def __init__(self) -> None:
        super().__init__()
        self.reset: float | None = None  # the search window's reset (epoch seconds)
        self._lock = threading.Lock()
        self.route("GET", r"/search/.+", self.search)
        self.route("GET", r"/core/.+", self.core)

    def search(self, request: ReplayRequest) -> Reply:
        now = request.now.timestamp()
        with self._lock:
            if self.reset is None:
                self.reset = float(int(now) + SPENT_FOR)
                return _budget(Reply.json({"items": []}), 0, self.reset, "search")
            reset = self.reset
        if now < reset:
            refused = Reply.json({"message": "API rate limit exceeded"}, status=403)
            return _budget(refused, 0, reset, "search")
        return _budget(Reply.json({"items": []}), 29, reset + 60, "search")

    def core(self, request: ReplayRequest) -> Reply:
        return _budget(Reply.json({}), 4999, request.now.timestamp() + 3600, "core")


def _budget(reply: Reply, remaining: int, reset: float, resource: str) -> Reply:
    return reply.with_headers(
        {
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(int(reset)),
            "x-ratelimit-resource": resource,
        }
    )


@pytest.fixture
def github() -> Iterator[tuple[ReplayServer, SpentSearch]]:
    app = SpentSearch()
    with ReplayServer(app) as server:
        yield server, app


def _plan(server: ReplayServer, searches: int, cores: int) -> list[tuple[str, str]]:
    """The requests a crawl queues, in order: every search first, then the core requests."""
    return [(f"{server.url}/search/{n}", "search") for n in range(searches)] + [
        (f"{server.url}/core/{n}", "core") for n in range(cores)
    ]


def _crawl(
    tmp_path: Path, plan: list[tuple[str, str]], timeout: float = 120, **more: object
) -> CrawlResult:
    tests = str(PROJECT_ROOT / "tests")
    env = {"PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), tests])}
    settings = {
        "SPIDER_MODULES": ["bucket_spider"],
        "BUCKET_PLAN": plan,
        "CONCURRENT_REQUESTS": CONCURRENCY,
        "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
        **more,
    }
    incident = tmp_path / "incident.yml"
    return run_spider("buckets", incident, tmp_path, env, scrapy_settings=settings, timeout=timeout)


def test_a_spent_search_budget_leaves_the_crawls_concurrency_to_core_requests(
    tmp_path: Path, github: tuple[ReplayServer, SpentSearch]
) -> None:
    """More searches queued than the crawl's concurrency, ahead of the core requests, on a
    search budget the first search spends: the core requests (their own budget) are all
    answered before the search window's reset, every other search after it; none refused,
    none lost."""
    server, app = github
    plan = _plan(server, searches=CONCURRENCY + 4, cores=CONCURRENCY + 4)
    result = _crawl(tmp_path, plan)
    assert app.reset is not None
    core = server.matching(path=r"^/core/")
    first, *later = server.matching(path=r"^/search/")
    assert [r.received < app.reset for r in core] == [True] * len(core)
    assert first.received < app.reset
    assert [r.received >= app.reset for r in later] == [True] * len(later)
    assert server.count(status=403) == 0
    assert {f"{server.url}{r.path}" for r in server.matching(status=200)} == {u for u, _ in plan}
    assert sorted(i["url"] for i in result.items) == sorted(u for u, _ in plan)


def test_requests_kept_back_are_counted_and_the_crawl_waits_for_them(
    tmp_path: Path, github: tuple[ReplayServer, SpentSearch]
) -> None:
    """A crawl of searches only: while the first is out and then while the budget it spent
    lasts, the others are kept back (counted once each) and nothing else is left to do; the
    crawl does not close on them but sends each after the reset."""
    server, app = github
    plan = _plan(server, searches=4, cores=0)
    result = _crawl(tmp_path, plan)
    assert app.reset is not None
    assert result.stat("spreadwatch/ratelimit/kept_back") == len(plan) - 1
    assert result.stats["finish_reason"] == "finished"
    later = server.matching(path=r"^/search/")[1:]
    assert [(r.status, r.received >= app.reset) for r in later] == [(200, True)] * (len(plan) - 1)
    assert sorted(i["url"] for i in result.items) == sorted(u for u, _ in plan)
    assert "bucket search is held for" in result.log


def test_a_hosts_first_request_waiting_for_its_robots_txt_does_not_hold_the_robots_txt(
    tmp_path: Path, github: tuple[ReplayServer, SpentSearch]
) -> None:
    """Robots.txt obeyed, as the project's settings have it: the scheduler hands a host's first
    request out (the one whose reply tells its bucket's budget) and Scrapy's robots.txt
    middleware, in front of the rate-limit middleware, keeps it until the host's robots.txt is
    answered; the robots.txt, in the same (host, bucket), passes the rate-limit middleware
    without waiting for that first request. The crawl ends by itself with every page answered
    once (a crawl whose request waits forever does not close: Scrapy's engine waits for it)."""
    server, _ = github
    plan = [(f"{server.url}/core/{n}", "") for n in range(3)]
    result = _crawl(tmp_path, plan, timeout=60, ROBOTSTXT_OBEY=True)
    assert result.stats["finish_reason"] == "finished"
    assert server.count(path=r"^/robots\.txt$") == 1
    assert sorted(f"{server.url}{r.path}" for r in server.matching(path=r"^/core/")) == sorted(
        u for u, _ in plan
    )
    assert sorted(i["url"] for i in result.items) == sorted(u for u, _ in plan)


# ---------------------------------------------------------------- the scheduler alone

API = "https://api.example"


@pytest.fixture
def crawler_parts() -> tuple[BucketScheduler, RateLimitMiddleware]:
    """A scheduler opened as Scrapy's engine opens it (FIFO, so the order taken is the order
    queued), and the engine's own rate-limit middleware, which it asks."""
    crawler = get_crawler(
        Spider,
        {
            "DOWNLOADER_MIDDLEWARES": {RATELIMIT_MIDDLEWARE: PRIORITY},
            "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        },
    )
    crawler.spider = Spider("unit")
    crawler.engine = ExecutionEngine(crawler, lambda _: None)
    scheduler = BucketScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    middleware = crawler.get_downloader_middleware(RateLimitMiddleware)
    assert middleware is not None
    return scheduler, middleware


def _request(path: str, bucket: str) -> Request:
    return Request(f"{API}{path}", meta={"ratelimit_bucket": bucket})


def test_a_held_buckets_requests_are_kept_back_in_order_and_another_bucket_goes(
    crawler_parts: tuple[BucketScheduler, RateLimitMiddleware],
) -> None:
    scheduler, middleware = crawler_parts
    limited = _request("/search/0", "search")
    reply = Response(
        limited.url,
        status=429,
        headers={"Retry-After": "1", "x-ratelimit-resource": "search"},
        request=limited,
    )
    asyncio.run(middleware.process_response(limited, reply))  # search is held for 1 s
    searches = [_request("/search/1", "search"), _request("/search/2", "search")]
    core = _request("/repos/a/b", "core")
    for request in [*searches, core]:
        scheduler.enqueue_request(request)

    assert scheduler.next_request() is core
    assert scheduler.next_request() is None
    assert (len(scheduler), scheduler.has_pending_requests()) == (2, True)
    assert scheduler.stats is not None
    assert scheduler.stats.get_value("spreadwatch/ratelimit/kept_back") == 2

    released = []
    deadline = time.monotonic() + 5
    while len(released) < 2 and time.monotonic() < deadline:
        request = scheduler.next_request()
        if request is None:
            time.sleep(0.05)  # the hold's end, or the first search's reply (below)
        else:
            released.append(request)
            asyncio.run(middleware.process_response(request, Response(request.url, request=request)))  # fmt: skip
    assert released == searches
    assert not scheduler.has_pending_requests()


def test_every_spreadwatch_spider_schedules_by_bucket_unless_told_otherwise() -> None:
    loader = SpiderLoader(ScrapySettings({"SPIDER_MODULES": ["crawlers.spiders"]}))
    for name in loader.list():
        settings = ScrapySettings()
        loader.load(name).update_settings(settings)
        assert settings["SCHEDULER"] == BUCKET_SCHEDULER, name
    own = ScrapySettings({"SCHEDULER": "my.Scheduler"})
    loader.load("github").update_settings(own)
    assert own["SCHEDULER"] == "my.Scheduler"
