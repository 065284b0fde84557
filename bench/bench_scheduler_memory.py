"""Scheduler memory with 20 incidents × 8 sources (160 crawl jobs + 20 alert jobs).

Runs the real monitor in this process (APScheduler with the SQLite job store, the file watcher,
alert evaluation against the real Elasticsearch node) while crawls fire; the crawl command is a
stand-in that exits at once (configuration, as in the tests), so the figures are the scheduler's
own: resident memory before, after syncing the jobs and at peak while running, the time to sync
180 jobs and to reload after an edit, threads, and crawls run.

    .venv/bin/python -m bench.bench_scheduler_memory [--incidents 20] [--seconds 120] [--every 60]

Runs skipped because the previous run of the same job was still waiting for a worker are counted
(`runs_skipped_busy`): with `--every` far below real intervals they show when to raise --workers.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from textwrap import dedent
from typing import Any

import psutil
from apscheduler.events import EVENT_JOB_MAX_INSTANCES

from alerts.mailer import UnconfiguredSender
from bench.machine import save
from indexer.connection import IndexNames, make_client
from indexer.templates import delete_all, init
from scheduler.runtime import Runtime
from scheduler.service import Monitor
from spreadwatch.settings import load_settings

SOURCES = ("github", "feeds", "pages", "hackernews", "reddit", "mastodon", "weibo", "telegram")


def incident_yaml(n: int, every: int) -> str:
    sources = "\n".join(f"  {s}: {{every: {every}s, jitter: {every // 3}s}}" for s in SOURCES)
    return dedent(
        f"""\
        id: bench-incident-{n:02d}
        title: Bench incident {n}
        window: {{start: 2024-10-17T00:00:00Z}}
        queries: [{{name: q, any: ["rumour {n}"]}}]
        sources:
        {{sources}}
        alerts:
          recipients: [analyst@example.org]
          every: 60s
          rules:
            - {{name: spike, type: spike, per_platform: true}}
            - {{name: silent, type: silent_source}}
        """
    ).replace("{sources}", sources)


def rss_mb(process: psutil.Process) -> float:
    return round(process.memory_info().rss / 2**20, 1)


class Sampler(threading.Thread):
    """Peak resident memory of this process, sampled twice a second."""

    def __init__(self, process: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.peak = max(self.peak, rss_mb(self.process))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--every", type=int, default=60, help="crawl interval of every source")
    parser.add_argument("--workers", type=int, default=4, help="monitor worker threads")
    args = parser.parse_args()
    logging.getLogger("scheduler.crawl").setLevel(logging.CRITICAL)  # stand-in writes no run doc
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # skipped runs are counted below
    work = Path(tempfile.mkdtemp(prefix="sw-bench-scheduler-"))
    folder = work / "incidents"
    folder.mkdir()
    for n in range(args.incidents):
        (folder / f"incident-{n:02d}.yml").write_text(incident_yaml(n, args.every))
    names = IndexNames(f"bench-sched-{uuid.uuid4().hex[:6]}")
    settings = load_settings(
        index_prefix=names.prefix, scheduler_db_url=f"sqlite:///{work / 'jobs.sqlite'}"
    )
    client = make_client(settings)
    init(client, names)
    process = psutil.Process()
    # No mail goes out from a bench (whatever SPREADWATCH_SMTP_URL says): alerts stay stored
    # and pending, as for a user without an SMTP server.
    sender = UnconfiguredSender()
    rt = Runtime(settings=settings, client=client, names=names, sender=sender,
                 crawl_command=(sys.executable, "-c", "pass"))  # fmt: skip
    monitor = Monitor(rt, [folder], workers=args.workers, watch_interval=5)
    skipped: list[str] = []
    monitor.scheduler.add_listener(lambda e: skipped.append(e.job_id), EVENT_JOB_MAX_INSTANCES)
    figures: dict[str, Any] = {"incidents": args.incidents, "sources_per_incident": len(SOURCES)}
    figures["rss_before_mb"] = rss_mb(process)
    sampler = Sampler(process)
    try:
        started = time.perf_counter()
        monitor.start()
        figures["sync_s"] = round(time.perf_counter() - started, 2)
        figures["jobs"] = len(monitor.jobs())
        figures["rss_after_sync_mb"] = rss_mb(process)
        sampler.start()
        time.sleep(args.seconds / 2)
        edited = folder / "incident-00.yml"
        edited.write_text(edited.read_text().replace(f"every: {args.every}s", "every: 45s"))
        started = time.perf_counter()
        monitor.reload()
        figures["reload_after_edit_s"] = round(time.perf_counter() - started, 2)
        time.sleep(args.seconds / 2)
        figures["threads"] = threading.active_count()
    finally:
        monitor.stop()
        sampler.done.set()
        client.indices.refresh(index=names.runs)
        figures["crawls_run"] = client.count(index=names.runs, query={"term": {"job": "crawl"}})[
            "count"
        ]
        delete_all(client, names)
    figures.update(
        run_seconds=args.seconds,
        crawl_every_s=args.every,
        workers=args.workers,
        crawls_due=int(len(SOURCES) * args.incidents * args.seconds / args.every),
        runs_skipped_busy=len(skipped),
        rss_peak_mb=sampler.peak,
        rss_end_mb=rss_mb(process),
    )
    save("bench_scheduler_memory", figures)


if __name__ == "__main__":
    main()
