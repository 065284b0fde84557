"""The monitor's Scrapyd dispatcher when a daemon is lost, on real Scrapyd daemons and a real node.

A daemon that stops answering for `lost_after` seconds has lost its crawl — unless the crawl had
already ended: then its own run record says how, and the monitor must keep it, not overwrite it
with `scrapyd_lost` and run the crawl again. What happened to each crawl is known here without
the monitor: the test sees the crawl's own record and the daemon's `finished` before it kills
the daemon, or holds the crawl's only request so that it cannot have ended when the host goes.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from scale_support import news_world, write_incidents
from scheduler_support import wait_for
from scrapyd_support import Daemon

from alerts.mailer import UnconfiguredSender
from indexer.connection import IndexNames, es_url
from scheduler.runtime import Runtime
from scheduler.scrapyd import ScrapydDispatcher
from scheduler.scrapyd_api import ScrapydDaemon, ScrapydError
from spreadwatch.replay import ReplayRequest, ReplayServer, Reply, faults
from spreadwatch.replay.feeds import FeedsData, FeedsReplay
from spreadwatch.settings import Settings

pytest_plugins = ["conftest_scrapyd"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOST_AFTER = 2  # seconds a daemon may not answer before its crawl counts as lost
STUCK_AFTER = 300  # a safety net for the waits below: only a stuck crawl takes this long


@dataclass
class StatusUnanswered(ScrapydDaemon):
    """A daemon whose status answers do not reach the monitor while `unanswered` is set (a
    gateway answering 502): the monitor keeps following the crawl without learning it ended.
    Everything else — load, schedule, jobs — and every answer after `unanswered` is cleared
    goes to the real daemon."""

    unanswered: threading.Event = field(default_factory=threading.Event)

    def state(self, job_id: str) -> str:
        if self.unanswered.is_set():
            raise ScrapydError(f"Scrapyd at {self.url} answered 502 to status.json, not JSON")
        return super().state(job_id)


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
    subprocess.run(
        [sys.executable, "-m", "spreadwatch", "scrapyd", "deploy", first.url, second.url],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    rt = Runtime(settings, es_client, index_names, UnconfiguredSender(), crawl_timeout=600)
    return rt, first, second


@pytest.mark.timeout(900)
@pytest.mark.parametrize("ends", ["ok", "failed"])
def test_a_crawl_that_ended_before_its_daemon_was_lost_keeps_its_own_record_and_is_not_run_again(
    setup: tuple[Runtime, Daemon, Daemon], ends: str, tmp_path: Path
) -> None:
    rt, first, second = setup
    data, truth = news_world(1, feeds=1, items=5)
    with ReplayServer(FeedsReplay(data)) as news:
        if ends == "failed":  # the feed host is down: the crawl fails on its own
            news.script(r"feed-0\.xml", [faults.server_error() for _ in range(20)])
        (incident,) = write_incidents(tmp_path / "incidents", news.url, 1, 1)
        watched = StatusUnanswered(first.url)
        watched.unanswered.set()
        dispatcher = ScrapydDispatcher(
            [watched, ScrapydDaemon(second.url)], lost_after=LOST_AFTER, poll=0.2
        )
        with ThreadPoolExecutor(1) as pool:
            following = pool.submit(dispatcher.run_crawl, rt, str(incident), "inc-00", "feeds")
            (own,) = wait_for(
                lambda: crawl_runs(rt.client, rt.names), STUCK_AFTER, "the crawl's own record"
            )
            wait_for(
                lambda: state_of(first, own["run_id"]) == "finished",
                STUCK_AFTER,
                "its end on Scrapyd",
            )
            first.stop_hard()  # the host goes before the monitor saw the crawl end
            watched.unanswered.clear()
            outcome = following.result()

    assert own["status"] == ends
    assert crawl_runs(rt.client, rt.names) == [own]  # kept as the crawl wrote it, run once
    assert outcome["run_id"] == own["run_id"] and outcome["summary"] == own
    assert [attempt["daemon"] for attempt in outcome["attempts"]] == [first.url]
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

    lost, again = crawl_runs(rt.client, rt.names)
    assert [attempt["daemon"] for attempt in outcome["attempts"]] == [first.url, second.url]
    assert [attempt["run_id"] for attempt in outcome["attempts"]] == [
        lost["run_id"],
        again["run_id"],
    ]
    assert (lost["status"], lost["finish_reason"], lost["scrapyd"]) == (
        "failed",
        "scrapyd_lost",
        first.url,
    )
    assert again["status"] == "ok" and outcome["summary"] == again
    assert stored_posts(rt.client, rt.names) == sorted(truth["inc-00"])
