"""The monitor's Scrapyd dispatcher when a daemon is lost, on real Scrapyd daemons and a real node.

A daemon that stops answering for `lost_after` seconds has lost its crawl — unless the crawl had
already ended: then its own run record says how, and the monitor must keep it, not overwrite it
with `scrapyd_lost` and run the crawl again. Reached through a gateway (nginx, an ingress), a
daemon whose host is down answers 502 instead of nothing: that is the same loss, and a blip of
502s shorter than `lost_after` is none. What happened to each crawl is known here without the
monitor: the test sees the crawl's own record and the daemon's `finished` before it kills the
daemon, or holds the crawl's only request so that it cannot have ended when the host goes, and
the gateway's log says what the monitor was answered.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from scale_support import news_world, write_incidents
from scheduler_support import wait_for
from scrapyd_support import Daemon, ScrapydGateway

from alerts.mailer import UnconfiguredSender
from indexer.connection import IndexNames, es_url
from scheduler.runtime import Runtime
from scheduler.scrapyd import ScrapydDispatcher
from scheduler.scrapyd_api import ScrapydDaemon
from spreadwatch.replay import ReplayRequest, ReplayServer, Reply, faults
from spreadwatch.replay.feeds import FeedsData, FeedsReplay
from spreadwatch.settings import Settings

pytest_plugins = ["conftest_scrapyd"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOST_AFTER = 2  # seconds a daemon may not answer before its crawl counts as lost
STUCK_AFTER = 300  # a safety net for the waits below: only a stuck crawl takes this long
#: A safety net for noticing a loss: `LOST_AFTER` plus a few polls, many times over on a busy
#: machine. A monitor that never notices waits here, not for the crawl timeout.
NOTICED_WITHIN = 120
BLIP_LOST_AFTER = 5  # the blips below last two polls (~0.2 s) each, and end ~6 s apart


class HeldFeeds(FeedsReplay):
    """Feeds whose first request is held until `release` is set: a crawl stays mid-way."""

    def __init__(self, data: FeedsData) -> None:
        super().__init__(data)
        self.held = threading.Event()
        self.release = threading.Event()

    def feed(self, request: ReplayRequest) -> Reply:
        if not self.held.is_set():
            self.held.set()
            self.release.wait()
        return super().feed(request)


def crawl_runs(client: Elasticsearch, names: IndexNames) -> list[dict[str, Any]]:
    client.indices.refresh(index=names.runs)
    hits = client.search(
        index=names.runs, query={"term": {"job": "crawl"}}, size=100, sort=["@timestamp"]
    )
    return [hit["_source"] for hit in hits["hits"]["hits"]]


def stored_posts(client: Elasticsearch, names: IndexNames) -> list[str]:
    client.indices.refresh(index=names.posts)
    hits = client.search(index=names.posts, size=1000, source=False)
    return sorted(hit["_id"] for hit in hits["hits"]["hits"])


def state_of(daemon: Daemon, run_id: str) -> str:
    return ScrapydDaemon(daemon.url).state(run_id)


def statuses(gateway: ReplayServer) -> list[int]:
    """What the gateway answered to status.json, in order."""
    return [r.status for r in gateway.matching(path=r"status\.json")]


def assert_lost_and_run_again(
    rt: Runtime, outcome: dict[str, Any], daemons: tuple[str, str], posts: Iterable[str]
) -> None:
    """The crawl's first attempt, on `daemons[0]`, is recorded lost (`scrapyd_lost`), the
    second, on `daemons[1]`, ended ok and is the crawl's summary, and every post is stored."""
    lost, again = crawl_runs(rt.client, rt.names)
    assert [attempt["daemon"] for attempt in outcome["attempts"]] == list(daemons)
    assert [attempt["run_id"] for attempt in outcome["attempts"]] == [
        lost["run_id"],
        again["run_id"],
    ]
    assert (lost["status"], lost["finish_reason"], lost["scrapyd"]) == (
        "failed",
        "scrapyd_lost",
        daemons[0],
    )
    assert again["status"] == "ok" and outcome["summary"] == again
    assert stored_posts(rt.client, rt.names) == sorted(posts)


def dispatch(  # noqa: PLR0917 - the world one dispatched crawl runs in
    pool: ThreadPoolExecutor,
    rt: Runtime,
    news: ReplayServer,
    gateway: ReplayServer,
    second: Daemon,
    tmp_path: Path,
    lost_after: float,
) -> Future[dict[str, Any]]:
    """The feeds crawl of one incident reading `news`, dispatched by a monitor that reaches the
    first daemon through `gateway` and the second directly; the dispatcher's run, followed in
    `pool`."""
    (incident,) = write_incidents(tmp_path / "incidents", news.url, 1, 1)
    dispatcher = ScrapydDispatcher(
        [ScrapydDaemon(gateway.url), ScrapydDaemon(second.url)], lost_after=lost_after, poll=0.2
    )
    return pool.submit(dispatcher.run_crawl, rt, str(incident), "inc-00", "feeds")


@contextmanager
def behind_gateway(
    rt: Runtime, first: Daemon, second: Daemon, tmp_path: Path, lost_after: float
) -> Iterator[tuple[HeldFeeds, ReplayServer, Future[dict[str, Any]], set[str]]]:
    """One feeds crawl placed on `first` behind a gateway (`second` takes what is lost), held
    mid-way when this yields: the feeds (`.release` lets it end), the gateway's server, the
    dispatcher's run and the ids of the posts the crawl should store. On the way out the crawl
    is released and the monitor stops following (one that never noticed a loss does not wait
    for its timeout)."""
    data, truth = news_world(1, feeds=1, items=5)
    feeds = HeldFeeds(data)
    with (
        ReplayServer(feeds) as news,
        ReplayServer(ScrapydGateway(first.url)) as gateway,
        ThreadPoolExecutor(1) as pool,
    ):
        following = dispatch(pool, rt, news, gateway, second, tmp_path, lost_after)
        try:
            wait_for(feeds.held.is_set, STUCK_AFTER, "the crawl mid-way behind the gateway")
            yield feeds, gateway, following, truth["inc-00"]
        finally:
            feeds.release.set()
            rt.stopping.set()


def blip(gateway: ReplayServer) -> None:
    """The gateway answers the next two status polls 502 (the daemon is up); returns once the
    monitor was answered 200 again."""
    blipped = statuses(gateway).count(502) + 2
    gateway.script(r"status\.json", [faults.gateway_error(502) for _ in range(2)])

    def over() -> bool:
        answered = statuses(gateway)
        return answered.count(502) == blipped and answered[-1] == 200

    wait_for(
        over, NOTICED_WITHIN, "a blip of two 502s, then a 200", why=lambda: str(statuses(gateway))
    )


@pytest.fixture
def setup(
    es_settings: Settings,
    es_client: Elasticsearch,
    index_names: IndexNames,
    settings_for: Callable[..., Settings],
    scrapyd_daemons: Callable[[Settings, int], list[Daemon]],
) -> tuple[Runtime, Daemon, Daemon]:
    """A runtime on the test's indices and two daemons with the crawlers deployed."""
    settings = settings_for(index_prefix=index_names.prefix, es_url=es_url(es_settings))
    first, second = scrapyd_daemons(settings, 2)
    deploy = subprocess.run(
        [sys.executable, "-m", "spreadwatch", "scrapyd", "deploy", first.url, second.url],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert deploy.returncode == 0, deploy.stderr
    rt = Runtime(settings, es_client, index_names, UnconfiguredSender(), crawl_timeout=600)
    return rt, first, second


@pytest.mark.timeout(900)
@pytest.mark.parametrize("ends", ["ok", "failed"])
def test_a_crawl_that_ended_before_its_daemon_was_lost_keeps_its_own_record_and_is_not_run_again(
    setup: tuple[Runtime, Daemon, Daemon], ends: str, tmp_path: Path
) -> None:
    rt, first, second = setup
    data, truth = news_world(1, feeds=1, items=5)
    proxy = ScrapydGateway(first.url)
    proxy.stale_end.set()  # the monitor does not see the crawl end
    with ReplayServer(FeedsReplay(data)) as news, ReplayServer(proxy) as gateway:
        if ends == "failed":  # the feed host is down: the crawl fails on its own
            news.script(r"feed-0\.xml", [faults.server_error() for _ in range(20)])
        with ThreadPoolExecutor(1) as pool:
            following = dispatch(pool, rt, news, gateway, second, tmp_path, LOST_AFTER)
            try:
                (own,) = wait_for(
                    lambda: crawl_runs(rt.client, rt.names), STUCK_AFTER, "the crawl's own record"
                )
                wait_for(
                    lambda: state_of(first, own["run_id"]) == "finished",
                    STUCK_AFTER,
                    "its end on Scrapyd",
                )
                first.stop_hard()  # the host goes before the monitor saw the crawl end:
                # from now on its gateway answers 502 for it
                outcome = following.result(timeout=NOTICED_WITHIN)
            finally:
                rt.stopping.set()  # a monitor that never notices the loss stops following

    assert own["status"] == ends
    assert crawl_runs(rt.client, rt.names) == [own]  # kept as the crawl wrote it, run once
    assert outcome["run_id"] == own["run_id"] and outcome["summary"] == own
    assert [attempt["daemon"] for attempt in outcome["attempts"]] == [gateway.url]
    assert gateway.count(status=502, path=r"status\.json") > 0  # lost through its gateway
    assert ScrapydDaemon(second.url).jobs() == []  # not run again elsewhere
    expected = sorted(truth["inc-00"]) if ends == "ok" else []
    assert stored_posts(rt.client, rt.names) == expected


@pytest.mark.timeout(900)
def test_a_crawl_lost_mid_way_is_recorded_lost_and_crawled_again_on_the_other_daemon(
    setup: tuple[Runtime, Daemon, Daemon], tmp_path: Path
) -> None:
    rt, first, second = setup
    data, truth = news_world(1, feeds=1, items=5)
    feeds = HeldFeeds(data)
    with ReplayServer(feeds) as news:
        (incident,) = write_incidents(tmp_path / "incidents", news.url, 1, 1)
        dispatcher = ScrapydDispatcher(
            [ScrapydDaemon(first.url), ScrapydDaemon(second.url)], lost_after=LOST_AFTER, poll=0.2
        )
        try:
            with ThreadPoolExecutor(1) as pool:
                following = pool.submit(dispatcher.run_crawl, rt, str(incident), "inc-00", "feeds")
                wait_for(feeds.held.is_set, STUCK_AFTER, "the crawl mid-way on the first daemon")
                assert crawl_runs(rt.client, rt.names) == []  # it has not ended
                first.stop_hard()
                feeds.release.set()
                outcome = following.result()
        finally:
            feeds.release.set()

    assert_lost_and_run_again(rt, outcome, (first.url, second.url), truth["inc-00"])


@pytest.mark.timeout(900)
def test_a_daemon_whose_gateway_answers_502_for_lost_after_is_lost_and_its_crawl_run_elsewhere(
    setup: tuple[Runtime, Daemon, Daemon], tmp_path: Path
) -> None:
    rt, first, second = setup
    with behind_gateway(rt, first, second, tmp_path, LOST_AFTER) as held:
        feeds, gateway, following, posts = held
        assert crawl_runs(rt.client, rt.names) == []  # it has not ended
        first.stop_hard()  # the host behind the gateway goes: the gateway answers 502
        wait_for(
            lambda: crawl_runs(rt.client, rt.names),
            NOTICED_WITHIN,
            "the crawl recorded lost",
            why=lambda: f"the gateway answered {statuses(gateway)[-5:]} to status.json",
        )
        feeds.release.set()
        outcome = following.result(timeout=STUCK_AFTER)

    assert 502 in statuses(gateway)  # what the monitor was answered: the gateway's, not silence
    assert_lost_and_run_again(rt, outcome, (gateway.url, second.url), posts)


@pytest.mark.timeout(900)
def test_gateway_blips_shorter_than_lost_after_are_not_a_loss(
    setup: tuple[Runtime, Daemon, Daemon], tmp_path: Path
) -> None:
    rt, first, second = setup
    with behind_gateway(rt, first, second, tmp_path, BLIP_LOST_AFTER) as held:
        feeds, gateway, following, posts = held
        # Two blips whose first and last 502 lie more than lost_after apart, answers between
        # them: each is short, together they are not one outage.
        blip(gateway)
        time.sleep(BLIP_LOST_AFTER + 1)  # the monitor is answered all the while
        blip(gateway)
        feeds.release.set()
        outcome = following.result(timeout=STUCK_AFTER)

    (own,) = crawl_runs(rt.client, rt.names)
    answered = gateway.matching(path=r"status\.json")
    spread = [r.received for r in answered if r.status == 502]
    assert len(spread) == 4 and spread[-1] - spread[0] > BLIP_LOST_AFTER  # the blips happened
    assert (own["status"], own["run_id"]) == ("ok", outcome["run_id"])  # its own, not lost
    assert [attempt["daemon"] for attempt in outcome["attempts"]] == [gateway.url]
    assert ScrapydDaemon(second.url).jobs() == []  # not run again elsewhere
    assert stored_posts(rt.client, rt.names) == sorted(posts)
