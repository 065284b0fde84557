"""The monitor's crawls on two real Scrapyd daemons, one of which is lost mid-crawl.

Twenty incidents, each with its own feeds on a replayed news host; `spreadwatch scrapyd deploy`
puts the crawlers on both daemons; `spreadwatch run` with SPREADWATCH_SCRAPYD_URLS dispatches
the twenty crawls. While crawls run, one daemon's whole process group is SIGKILLed (its host
goes): its crawls are recorded as lost and run again on the other daemon — but not one that
ended just before the kill, which keeps its own record. The truth — every article of every
incident, once — is known from the replayed feeds before anything runs; which crawls ended before
the kill, from the killed daemon's own job logs.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from elasticsearch import Elasticsearch
from scale_support import news_world, write_incidents
from scheduler_support import wait_for
from scrapyd_support import Daemon

from alerts.mailer import UnconfiguredSender
from indexer.connection import IndexNames
from scheduler.runtime import Runtime
from scheduler.scrapyd import ScrapydDispatcher
from scheduler.scrapyd_api import ScrapydDaemon
from spreadwatch.replay import ReplayServer
from spreadwatch.replay.feeds import FeedsReplay
from spreadwatch.settings import Settings

pytest_plugins = ["conftest_cluster", "conftest_scrapyd"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INCIDENTS, FEEDS, ITEMS = 20, 1, 20
LOST_AFTER = 5  # seconds a daemon may not answer before its crawls count as lost
STALLED_AFTER = 180  # seconds with no crawl ending and no post stored: the crawls are stuck


def crawl_runs(
    client: Elasticsearch, names: IndexNames, source: str | None = "feeds"
) -> list[dict[str, Any]]:
    """Crawl runs of one source: feeds by default (the monitor also runs each incident's
    evidence re-check as a crawl of source `recheck`; its end says nothing about the articles)."""
    client.indices.refresh(index=names.runs)
    wanted = [{"term": {"job": "crawl"}}] + ([{"term": {"source": source}}] if source else [])
    query = {"bool": {"filter": wanted}}
    hits = client.search(index=names.runs, query=query, size=500, sort=["@timestamp"])
    return [hit["_source"] for hit in hits["hits"]["hits"]]


def crawled_incidents(runs: list[dict[str, Any]]) -> set[str]:
    return {run["incident"] for run in runs if run["status"] in ("ok", "partial")}


def busy_after_a_crawl(daemon: Daemon) -> list[str]:
    """The daemon's running jobs once it has finished one crawl (so both daemons took some)."""
    try:
        jobs = requests.get(
            f"{daemon.url}/listjobs.json", params={"project": "spreadwatch"}, timeout=5
        ).json()
    except requests.RequestException:
        return []
    if not jobs.get("finished"):
        return []
    return [job["id"] for job in jobs.get("running", [])]


def wait_while_progressing(
    done: Callable[[], bool],
    progress: Callable[[], object],
    stalled_after: float,
    what: str,
    why: Callable[[], str],
) -> None:
    """Wait for `done()` as long as `progress()` keeps changing; fail once nothing has moved for
    `stalled_after` seconds. A loaded machine makes the crawls slow, not stuck: after the kill
    the 40 crawl jobs took 41 s in a full suite run, 188 s at load 7-11 and 294 s at load 15-21,
    never more than 19 s from one run's end to the next, so a fixed budget measures the machine;
    a stall is the failure (a job that never crawls, as one did of the registry race, 5aab8e3)."""
    seen, since = progress(), time.monotonic()
    while not done():
        now = progress()
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since > stalled_after:
            raise AssertionError(
                f"nothing moved for {stalled_after:.0f}s while waiting for {what}: {why()}"
            )
        time.sleep(0.3)


def crawl_progress(client: Elasticsearch, names: IndexNames) -> tuple[int, int]:
    """Crawl runs ended (any source, any outcome) and posts stored: what moves while crawls run."""
    client.indices.refresh(index=names.posts)
    return len(crawl_runs(client, names, source=None)), client.count(index=names.posts)["count"]


def first_line(text: Any) -> str:
    return (str(text or "").splitlines() or [""])[0]


def not_crawled(client: Elasticsearch, names: IndexNames, wanted: set[str]) -> str:
    """The incidents with no completed crawl yet, each with its crawl runs so far: a failed wait
    says what went wrong (a job that died before crawling), not only that time ran out."""
    every_run = crawl_runs(client, names, source=None)
    missing = sorted(wanted - crawled_incidents(crawl_runs(client, names)))
    lines = [f"{len(missing)} not crawled"]
    for incident in missing:
        runs = [r for r in every_run if r["incident"] == incident]
        told = "; ".join(f"{r['run_id']} {r['status']} {first_line(r.get('errors'))}" for r in runs)
        lines.append(f"{incident}: {told or 'no run recorded'}")
    return "\n".join(lines)


def closed_before_the_kill(daemon: Daemon) -> set[str]:
    """Jobs whose log on the killed daemon says their spider closed: Scrapy logs "Spider closed"
    after the spider_closed handlers, one of which writes the crawl's own run record, so these
    crawls ended — and recorded how — before their host went."""
    return {
        log.stem
        for log in daemon.job_logs()
        if "Spider closed (" in log.read_text(errors="replace")
    }


def overlapping(runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of runs of one incident and source whose [start, finish] intervals overlap."""
    by_crawl: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        by_crawl[(run["incident"], run["source"])].append(run)
    found = []
    for crawl in by_crawl.values():
        crawl.sort(key=lambda run: run["@timestamp"])
        for earlier, later in itertools.pairwise(crawl):
            if datetime.fromisoformat(later["@timestamp"]) < datetime.fromisoformat(
                earlier["finished"]
            ):
                found.append((earlier["run_id"], later["run_id"]))
    return found


@pytest.fixture
def monitor(tmp_path: Path) -> Iterator[Callable[[dict[str, str], Path], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], incidents: Path) -> subprocess.Popen[bytes]:
        log = (tmp_path / "monitor.log").open("wb")
        command = [sys.executable, "-m", "spreadwatch", "run", str(incidents), "--workers", "8"]
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


@pytest.mark.timeout(900)  # a safety net: the cluster starts within the first test using it
def test_twenty_crawls_spread_over_two_scrapyds_and_a_lost_daemon_loses_nothing(  # noqa: PLR0917 (fixtures)
    cluster_settings: Settings,
    cluster_client: Elasticsearch,
    cluster_names: IndexNames,
    scrapyd_daemons: Callable[[Settings, int], list[Daemon]],
    monitor: Callable[[dict[str, str], Path], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    first, second = scrapyd_daemons(cluster_settings, 2)
    env = {
        **os.environ,
        "SPREADWATCH_ES_URL": cluster_settings.es_url or "",
        "SPREADWATCH_INDEX_PREFIX": cluster_settings.index_prefix,
        "SPREADWATCH_DATA_DIR": str(tmp_path / "monitor"),
        "SPREADWATCH_SCRAPYD_URLS": f"{first.url},{second.url}",
        "SPREADWATCH_SCRAPYD_LOST_AFTER": str(LOST_AFTER),
    }
    deploy = subprocess.run(
        [sys.executable, "-m", "spreadwatch", "scrapyd", "deploy"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert deploy.returncode == 0, deploy.stderr
    data, truth = news_world(INCIDENTS, FEEDS, ITEMS)
    with ReplayServer(FeedsReplay(data)) as news:
        incidents = tmp_path / "incidents"
        write_incidents(incidents, news.url, INCIDENTS, FEEDS)
        monitor(env, incidents)
        lost = wait_for(lambda: busy_after_a_crawl(second), 180, "the second daemon mid-crawl")
        second.stop_hard()
        wait_while_progressing(
            lambda: len(crawled_incidents(crawl_runs(cluster_client, cluster_names))) == INCIDENTS,
            lambda: crawl_progress(cluster_client, cluster_names),
            STALLED_AFTER,
            "every incident crawled",
            lambda: not_crawled(cluster_client, cluster_names, set(truth)),
        )

    runs = crawl_runs(cluster_client, cluster_names)
    cluster_client.indices.refresh(index=cluster_names.posts)
    expected = set().union(*truth.values())
    hits = cluster_client.search(index=cluster_names.posts, size=2 * len(expected), source=False)
    stored = [hit["_id"] for hit in hits["hits"]["hits"]]
    assert sorted(stored) == sorted(expected)  # nothing lost, nothing twice
    completed = [run for run in runs if run["status"] in ("ok", "partial")]
    assert sorted(run["incident"] for run in completed) == sorted(truth)  # each crawled once
    every_run = {r["run_id"]: r for r in crawl_runs(cluster_client, cluster_names, source=None)}
    lost_runs = {i for i, r in every_run.items() if r.get("finish_reason") == "scrapyd_lost"}
    ended = closed_before_the_kill(second)
    assert set(lost) <= set(every_run)  # what ran on the lost daemon has a run record ...
    assert not lost_runs & ended  # ... recorded lost only if it had not ended ...
    # ... and one that had not ended is lost, unless the kill fell in the instant between its own
    # record and the log line after it (then the record is its own, of a spider that finished)
    killed = {every_run[i]["finish_reason"] for i in set(lost) - ended}
    assert killed <= {"scrapyd_lost", "finished"}
    rerun = {run["incident"] for run in runs if run["run_id"] in lost_runs}
    assert rerun <= {run["incident"] for run in completed}  # ... and crawled again elsewhere
    assert overlapping(runs) == []  # never two crawls of one incident's source at once
    assert first.job_logs() and second.job_logs()  # both daemons took crawls


@pytest.mark.timeout(900)
def test_a_crawl_left_running_by_another_monitor_is_followed_and_cancelled_at_its_timeout(
    cluster_settings: Settings,
    cluster_client: Elasticsearch,
    cluster_names: IndexNames,
    scrapyd_daemons: Callable[[Settings, int], list[Daemon]],
    tmp_path: Path,
) -> None:
    (daemon,) = scrapyd_daemons(cluster_settings, 1)
    env = {**os.environ, "SPREADWATCH_INDEX_PREFIX": cluster_settings.index_prefix}
    deploy = subprocess.run(
        [sys.executable, "-m", "spreadwatch", "scrapyd", "deploy", daemon.url],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert deploy.returncode == 0, deploy.stderr
    data, _truth = news_world(1, feeds=24, items=5)  # 24 polite requests: a crawl of ~15 s
    with ReplayServer(FeedsReplay(data)) as news:
        (incident,) = write_incidents(tmp_path / "incidents", news.url, 1, 24)
        api = ScrapydDaemon(daemon.url)
        left = "inc-00:feeds:20241019T000000Z:dead00"  # a run id of a monitor that died
        api.schedule("feeds", left, {"incident": str(incident)}, {"SPREADWATCH_RUN_ID": left})
        wait_for(lambda: api.state(left) == "running", 120, "the left-over crawl running")
        rt = Runtime(
            cluster_settings, cluster_client, cluster_names, UnconfiguredSender(), crawl_timeout=4
        )
        outcome = ScrapydDispatcher([api]).run_crawl(rt, str(incident), "inc-00", "feeds")

    assert outcome["run_id"] == left and outcome["ended"] == "timeout"
    assert [job.id for job in api.jobs()] == [left]  # followed, never started a second time
    assert api.state(left) == "finished"  # cancelled
    recorded = cluster_client.get(index=cluster_names.runs, id=left)["_source"]
    assert (recorded["status"], recorded["scrapyd"]) == ("timeout", daemon.url)
