"""Scale-out on this machine: 20 incidents' crawls on 1 vs 2 Scrapyd, ingest into 1 vs 3 nodes, failover.

Three measurements, each with real processes:

- crawls: twenty incidents, each with its feeds on one local replay host, dispatched the way the
  monitor does (`scheduler.scrapyd.ScrapydDispatcher`, 8 jobs at a time) to one Scrapyd daemon,
  then to two (4 crawl slots each), into the embedded node; wall time from the first schedule to
  the last crawl's end, and posts indexed per second.
- ingest: the same pre-built post documents through the `BulkWriter` (mget + merge + bulk, what
  every crawl uses) into the single embedded node (0 replicas) and into a local three-node
  cluster (1 replica, so every write lands on two nodes).
- failover: two `spreadwatch run` monitors on one cluster with the default heartbeat (5 s) and
  lease TTL (15 s); SIGKILL the active one and time until the standby holds the lease, and
  until it has run its first job (an alert evaluation).

    .venv/bin/python -m bench.bench_scale [--incidents 20] [--posts 20000] [--failovers 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from alerts.mailer import UnconfiguredSender
from bench.machine import save
from indexer.cluster import LocalCluster
from indexer.connection import IndexNames, es_url, make_client
from indexer.templates import ShardLayout, delete_all, init
from indexer.versioned import read
from indexer.writer import BulkWriter
from scheduler.lease import LEASE_ID
from scheduler.runtime import Runtime
from scheduler.scrapyd import ScrapydDispatcher
from scheduler.scrapyd_api import ScrapydDaemon
from spreadwatch.replay import REPLAY_NETWORKS, ReplayServer
from spreadwatch.replay.feeds import FeedsReplay
from spreadwatch.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from scale_support import news_world, write_incidents  # noqa: E402
from scrapyd_support import CONFIG, Daemon, free_port, wait_ready  # noqa: E402


def start_daemons(settings: Settings, folder: Path, count: int) -> list[Daemon]:
    daemons = []
    for number in range(count):
        home = folder / f"scrapyd-{number}"
        home.mkdir(parents=True)
        port = free_port()
        (home / "scrapyd.conf").write_text(CONFIG.format(port=port, home=home))
        env = {
            **os.environ,
            "SPREADWATCH_ES_URL": settings.es_url or "",
            "SPREADWATCH_INDEX_PREFIX": settings.index_prefix,
            "SPREADWATCH_DATA_DIR": str(home / "data"),
            "SPREADWATCH_ALLOW_PRIVATE_NETWORKS": REPLAY_NETWORKS,  # the feeds replay
        }
        log = (home / "daemon.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "scrapyd"],
            cwd=home,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        daemons.append(Daemon(home, port, process))
    for daemon in daemons:
        wait_ready(daemon.url)
    return daemons


def crawl_round(base: Settings, work: Path, daemons: int, incidents: int) -> dict[str, Any]:
    """Twenty incidents' crawls on `daemons` Scrapyd daemons; wall time and posts per second."""
    names = IndexNames(f"bench-scale-{uuid.uuid4().hex[:6]}")
    settings = base.model_copy(update={"index_prefix": names.prefix})
    client = make_client(settings)
    init(client, names)
    folder = work / f"crawl-{daemons}"
    started = start_daemons(settings, folder, daemons)
    data, truth = news_world(incidents, feeds=2, items=25)
    try:
        deploy = subprocess.run(
            [sys.executable, "-m", "spreadwatch", "scrapyd", "deploy", *(d.url for d in started)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if deploy.returncode != 0:
            raise SystemExit(f"deploy failed: {deploy.stderr}")
        dispatcher = ScrapydDispatcher([ScrapydDaemon(d.url) for d in started])
        rt = Runtime(settings, client, names, UnconfiguredSender())
        with ReplayServer(FeedsReplay(data)) as news:
            paths = write_incidents(folder / "incidents", news.url, incidents, 2)
            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:  # the monitor's --workers 8
                runs = list(
                    pool.map(lambda p: dispatcher.run_crawl(rt, str(p), p.stem, "feeds"), paths)
                )
            wall = time.perf_counter() - began
        client.indices.refresh(index=names.posts)
        indexed = int(client.count(index=names.posts)["count"])
    finally:
        for daemon in started:
            daemon.stop()
        delete_all(client, names)
        client.close()
    expected = sum(len(ids) for ids in truth.values())
    ok = sum(1 for run in runs if (run.get("summary") or {}).get("status") in ("ok", "partial"))
    return {
        "wall_s": round(wall, 1),
        "crawls ok": f"{ok}/{incidents}",
        "posts indexed": f"{indexed}/{expected}",
        "posts/s": round(indexed / wall, 1),
        "crawls/min": round(incidents / wall * 60, 1),
    }


def documents(count: int) -> list[dict[str, Any]]:
    now = "2024-10-19T08:00:00+00:00"
    return [
        {
            "@timestamp": now,
            "incident": ["bench-scale"],
            "platform": "news",
            "kind": "article",
            "native_id": f"n{n}",
            "url": f"https://news.example/{n}",
            "author": {"id": f"a{n % 500}", "handle": f"desk{n % 500}", "followers": n % 9000},
            "title": f"ByteDance intern story {n}",
            "text": f"Report {n} on the ByteDance intern and the 8,000 H100 claim. " * 4,
            "lang": "en",
            "stance": "report",
            "first_seen": now,
            "last_seen": now,
        }
        for n in range(count)
    ]


def ingest_round(settings: Settings, docs: list[dict[str, Any]], work: Path) -> float:
    """Documents per second through the BulkWriter into the cluster `settings` point at."""
    names = IndexNames(f"bench-ingest-{uuid.uuid4().hex[:6]}")
    client = make_client(settings)
    init(client, names, ShardLayout.from_settings(settings))
    client.cluster.health(index=names.posts, wait_for_status="green", timeout="60s")
    try:
        writer = BulkWriter(
            client,
            names,
            work / f"spool-{names.prefix}",
            batch_size=500,
            wait_for_active_shards=settings.es_wait_for_active_shards,
        )
        began = time.perf_counter()
        for doc in docs:
            writer.add_post(dict(doc))
        stats = writer.close()
        elapsed = time.perf_counter() - began
        if stats.indexed_new != len(docs):
            raise SystemExit(f"ingest wrote {stats.indexed_new} of {len(docs)} documents")
    finally:
        delete_all(client, names)
        client.close()
    return len(docs) / elapsed


def failover_rounds(settings: Settings, work: Path, rounds: int) -> list[dict[str, float]]:
    """Kill the active monitor `rounds` times; seconds until the standby holds the lease and
    until it has run a job."""
    names = IndexNames(f"bench-failover-{uuid.uuid4().hex[:6]}")
    client = make_client(settings)
    init(client, names)
    incidents = work / "failover-incidents"
    incidents.mkdir(parents=True)
    incident = {
        "id": "failover",
        "title": "Failover benchmark",
        "window": {"start": "2024-10-01T00:00:00Z"},
        "queries": [{"name": "en", "lang": "en", "any": ["ByteDance intern"]}],
        "alerts": {"every": "10s", "rules": [{"name": "first", "type": "first_platform"}]},
    }
    (incidents / "failover.yml").write_text(yaml.safe_dump(incident))
    env = {
        **os.environ,
        "SPREADWATCH_ES_URL": settings.es_url or "",
        "SPREADWATCH_INDEX_PREFIX": names.prefix,
        "SPREADWATCH_ALLOW_PRIVATE_NETWORKS": REPLAY_NETWORKS,
    }
    monitors: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> subprocess.Popen[bytes]:
        log = (work / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "spreadwatch", "run", str(incidents)],
            cwd=ROOT,
            env={**env, "SPREADWATCH_DATA_DIR": str(work / name)},
            stdout=log,
            stderr=log,
        )
        monitors.append(process)
        return process

    def holder() -> int | None:
        found = read(client, names.monitors, LEASE_ID)
        return int(found.source["holder"].split(":")[1]) if found else None

    def alert_runs() -> int:
        client.indices.refresh(index=names.runs)
        return int(client.count(index=names.runs, query={"term": {"job": "alerts"}})["count"])

    results = []
    try:
        active = start("monitor-0")
        _wait(lambda: holder() == active.pid, 120)
        for number in range(1, rounds + 1):
            standby = start(f"monitor-{number}")
            time.sleep(15)  # the standby is up and has seen the lease
            runs_before = alert_runs()
            active.send_signal(signal.SIGKILL)
            active.wait()
            killed = time.perf_counter()
            _wait(lambda s=standby: holder() == s.pid, 120)
            lease_s = time.perf_counter() - killed
            _wait(lambda n=runs_before: alert_runs() > n, 120)
            results.append({"lease_s": lease_s, "first_job_s": time.perf_counter() - killed})
            active = standby
    finally:
        for process in monitors:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
        delete_all(client, names)
        client.close()
    return results


def _wait(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout:.0f}s")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=20)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--failovers", type=int, default=3)
    args = parser.parse_args()
    base = load_settings()
    work = base.data_dir / "bench-scale" / uuid.uuid4().hex[:6]
    work.mkdir(parents=True)
    single = base.model_copy(update={"es_url": es_url(base)})  # the embedded node

    crawl_1 = crawl_round(single, work, 1, args.incidents)
    crawl_2 = crawl_round(single, work, 2, args.incidents)
    docs = documents(args.posts)
    one_node = ingest_round(single, docs, work)
    cluster = LocalCluster(work / "cluster", base)
    cluster.start(3)
    try:
        three = base.model_copy(update={"es_url": ",".join(cluster.urls)})
        three_nodes = ingest_round(three, docs, work)
        three_all = ingest_round(
            three.model_copy(update={"es_wait_for_active_shards": "all"}), docs, work
        )
        failovers = failover_rounds(three, work, args.failovers)
    finally:
        cluster.stop()
    lease = [r["lease_s"] for r in failovers]
    first_job = [r["first_job_s"] for r in failovers]
    save(
        "bench_scale",
        {
            f"crawls, {args.incidents} incidents, 1 Scrapyd (4 slots)": crawl_1,
            f"crawls, {args.incidents} incidents, 2 Scrapyd (4 slots each)": crawl_2,
            "crawl speed-up, 2 vs 1 Scrapyd (posts/s)": round(
                crawl_2["posts/s"] / crawl_1["posts/s"], 2
            ),
            f"ingest {args.posts} posts, 1 node, 0 replicas (docs/s)": round(one_node),
            f"ingest {args.posts} posts, 3 nodes, 1 replica (docs/s)": round(three_nodes),
            "ingest, 3 nodes, wait_for_active_shards=all (docs/s)": round(three_all),
            "ingest ratio, 3 nodes / 1 node": round(three_nodes / one_node, 2),
            "failover: kill to standby holding the lease (s; min, median, max)": [
                round(min(lease), 1),
                round(statistics.median(lease), 1),
                round(max(lease), 1),
            ],
            "failover: kill to the standby's first job (s; min, median, max)": [
                round(min(first_job), 1),
                round(statistics.median(first_job), 1),
                round(max(first_job), 1),
            ],
            "failover rounds": len(failovers),
            "heartbeat / lease TTL (s)": f"{base.heartbeat_interval:g} / {base.lease_ttl:g}",
            "command": (
                f"python -m bench.bench_scale --incidents {args.incidents} --posts {args.posts} "
                f"--failovers {args.failovers}"
            ),
        },
    )


if __name__ == "__main__":
    main()
