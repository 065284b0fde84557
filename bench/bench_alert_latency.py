"""Alert latency for a polled source: post indexed → alert e-mail accepted by an SMTP server.

Runs the real monitor in this process (APScheduler, SQLite job store, alert job, Jinja + PNG
rendering, smtplib) against the real Elasticsearch node and a real aiosmtpd server. The polled
source is a stand-in crawl command (configuration, like the tests): every `--crawl-every`
seconds it indexes what was "published" since its last run, recording when each post landed in
Elasticsearch. Each round publishes one new GitHub repository; the incident's `new_repo` rule
alerts once per repository. The two intervals differ (10s and 7s by default) so the jobs' phases
drift and the rounds sample the whole alert interval. Figures: indexed → accepted and published →
accepted, p50/max; the bound is one alert interval (+ crawl interval from publication).

    .venv/bin/python -m bench.bench_alert_latency [--rounds 10] [--crawl-every 10] [--alerts-every 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import time
import uuid
from email import message_from_bytes, policy
from pathlib import Path
from textwrap import dedent
from typing import Any

from aiosmtpd.controller import Controller

from alerts.mailer import SmtpConfig, SmtpSender
from bench.machine import save
from indexer.connection import IndexNames, es_url, make_client
from indexer.templates import delete_all, init
from scheduler.runtime import Runtime
from scheduler.service import Monitor
from spreadwatch.settings import load_settings

FAKE_CRAWL = dedent(
    """\
    import json, sys, time
    from pathlib import Path
    from elasticsearch import Elasticsearch, helpers
    queue, done, url, index, runs, run_id = sys.argv[1:7]
    seen = set(Path(done).read_text().split()) if Path(done).exists() else set()
    posts = [json.loads(l) for l in Path(queue).read_text().splitlines() if l.strip()]
    new = [p for p in posts if p["_id"] not in seen]
    client = Elasticsearch(url)
    if new:
        actions = [{"_index": index, "_id": p.pop("_id"), "_source": p} for p in new]
        ids = [a["_id"] for a in actions]
        helpers.bulk(client, actions, refresh=True)
        indexed = time.time()
        with open(done, "a") as out:
            out.write("".join(f"{i} {indexed}\\n" for i in ids))
    run = {"@timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "job": "crawl",
           "incident": "bench-latency", "source": "github", "run_id": run_id, "status": "ok",
           "finish_reason": "finished", "items_scraped": len(new)}
    client.index(index=runs, id=run_id, document=run, refresh="wait_for")
    """
)


class Inbox:
    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.accepted[str(message["Subject"])] = time.time()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def incident_file(folder: Path, crawl_every: int, alerts_every: int) -> Path:
    path = folder / "bench.yml"
    path.write_text(
        dedent(
            f"""\
            id: bench-latency
            title: Alert latency bench
            window: {{start: 2024-10-17T00:00:00Z}}
            queries: [{{name: q, any: ["gpu sabotage"]}}]
            sources:
              github: {{every: {crawl_every}s, jitter: 0s}}
            alerts:
              recipients: [analyst@example.org]
              every: {alerts_every}s
              rules: [{{name: repo, type: new_repo}}]
            """
        ),
        encoding="utf-8",
    )
    return path


def publish(queue: Path, n: int) -> tuple[str, float]:
    repo = f"bench/repo-{n}-{uuid.uuid4().hex[:6]}"
    now = time.time()
    post = {
        "_id": f"github:{repo}",
        "@timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "incident": ["bench-latency"],
        "platform": "github",
        "kind": "repo",
        "repo": repo,
        "title": repo,
        "text": "gpu sabotage confession",
    }
    with queue.open("a") as out:
        out.write(json.dumps(post) + "\n")
    return repo, now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--crawl-every", type=int, default=10)
    parser.add_argument("--alerts-every", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sw-bench-latency-"))
    names = IndexNames(f"bench-latency-{uuid.uuid4().hex[:6]}")
    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    settings = load_settings(
        index_prefix=names.prefix, scheduler_db_url=f"sqlite:///{work / 'jobs.sqlite'}"
    )
    client = make_client(settings)
    init(client, names)
    queue, done = work / "queue.jsonl", work / "indexed.txt"
    queue.touch()
    script = work / "crawl.py"
    script.write_text(FAKE_CRAWL, encoding="utf-8")
    command = (sys.executable, str(script), str(queue), str(done), es_url(settings), names.posts,
               names.runs, "{run_id}")  # fmt: skip
    sender = SmtpSender(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}"))
    rt = Runtime(settings=settings, client=client, names=names, sender=sender,
                 crawl_command=command)  # fmt: skip
    monitor = Monitor(rt, [incident_file(work, args.crawl_every, args.alerts_every)])
    published: dict[str, float] = {}
    try:
        monitor.start()
        rng = random.Random(5)
        for n in range(args.rounds):
            time.sleep(rng.uniform(0, args.crawl_every))
            repo, at = publish(queue, n)
            published[repo] = at
            deadline = time.time() + 3 * (args.crawl_every + args.alerts_every) + 30
            while not any(repo in s for s in inbox.accepted) and time.time() < deadline:
                time.sleep(0.05)
    finally:
        monitor.stop()
        smtp.stop()
        delete_all(client, names)
    figures = summarise(published, done, inbox, args)
    save("bench_alert_latency", figures)


def summarise(published: dict[str, float], done: Path, inbox: Inbox, args: Any) -> dict[str, Any]:
    indexed = {}
    for line in done.read_text().splitlines() if done.exists() else []:
        doc_id, at = line.split()
        indexed[doc_id.removeprefix("github:")] = float(at)
    from_index, from_publish, missing = [], [], 0
    for repo, at in published.items():
        sent = next((t for s, t in inbox.accepted.items() if repo in s), None)
        if sent is None or repo not in indexed:
            missing += 1
            continue
        from_index.append(sent - indexed[repo])
        from_publish.append(sent - at)
    return {
        "rounds": args.rounds,
        "crawl_every_s": args.crawl_every,
        "alerts_every_s": args.alerts_every,
        "delivered": len(from_index),
        "missing": missing,
        "indexed_to_accepted_p50_s": round(statistics.median(from_index), 2)
        if from_index
        else None,
        "indexed_to_accepted_max_s": round(max(from_index), 2) if from_index else None,
        "published_to_accepted_p50_s": round(statistics.median(from_publish), 2)
        if from_publish
        else None,
        "published_to_accepted_max_s": round(max(from_publish), 2) if from_publish else None,
        "bound_indexed_to_accepted_s": args.alerts_every,
        "bound_published_to_accepted_s": args.crawl_every + args.alerts_every,
    }


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
