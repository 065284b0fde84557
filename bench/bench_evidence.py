"""Evidence capture: archive size per 1,000 posts and the capture's overhead on crawl time.

A replayed Mastodon instance holds N matching statuses (default 2,000; real Mastodon shapes,
~40 per page as the API pages them); the real spider reads them all through `python -m
crawlers.run` into the node (embedded unless SPREADWATCH_ES_URL is set) under a throw-away
prefix, once with capture on (`SPREADWATCH_EVIDENCE_CAPTURE=matched`: every post is new, so every
response is archived) and once with capture off, alternating for `--rounds` rounds, each in a
fresh data folder. Reported: median crawl wall time with and without capture and their ratio,
WARC bytes per 1,000 posts, and bytes per response record. Process start-up is part of a crawl.
Crawl times on a shared machine are noisy, so the capture step is also timed alone, in this
process: the same 2,000 posts, 40 per exchange, through `crawlers.capture.CaptureStage` (WARC
write with fsync, ledger), first sight and then unchanged; CPU and wall time per post.

    .venv/bin/python -m bench.bench_evidence [--posts 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bench.machine import save
from crawlers.capture import CaptureStage
from crawlers.exchange import attach
from evidence.capture import Capturer
from evidence.secrets import Redactor
from evidence.warcstore import Exchange
from indexer.connection import IndexNames, make_client
from indexer.templates import delete_all, init
from spreadwatch.replay import REPLAY_NETWORKS, ReplayServer
from spreadwatch.replay.mastodon import MastodonData, MastodonReplay
from spreadwatch.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2024, 10, 18, 8, tzinfo=UTC)
STATUS = {
    "id": "0",
    "uri": "",
    "url": "",
    "created_at": "",
    "content": "",
    "language": "en",
    "visibility": "public",
    "replies_count": 3,
    "reblogs_count": 7,
    "favourites_count": 21,
    "in_reply_to_id": None,
    "reblog": None,
    "tags": [{"name": "bytedance", "url": "https://mastodon.social/tags/bytedance"}],
    "mentions": [],
    "account": {
        "id": "1090",
        "username": "aiwatch",
        "acct": "aiwatch",
        "display_name": "AI Watch",
        "url": "https://mastodon.social/@aiwatch",
        "followers_count": 4200,
    },
}
TEXTS = [
    "A ByteDance intern allegedly sabotaged model training on 8,000 H100 GPUs, costing tens of millions of dollars. Thread below with the GitHub repo and the leaked chat logs.",
    "ByteDance intern story: the company says the losses are exaggerated and the intern was dismissed in August. Still waiting for an independent source.",
    "网传字节跳动实习生恶意攻击集群，篡改代码破坏大模型训练，涉及8000张H100，损失上千万美元。#bytedance",
]


def statuses(count: int) -> list[dict[str, Any]]:
    made = []
    for i in range(count):
        status = copy.deepcopy(STATUS)
        sid = str((int((T0 + timedelta(minutes=i)).timestamp() * 1000) << 16) + i)
        status.update(
            id=sid,
            uri=f"https://mastodon.social/users/aiwatch/statuses/{sid}",
            url=f"https://mastodon.social/@aiwatch/{sid}",
            created_at=(T0 + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            content=f"<p>{TEXTS[i % len(TEXTS)]} ({i})</p>",
        )
        made.append(status)
    return made


def incident(folder: Path, pages: int) -> Path:
    section = {"instances": [{"url": "https://mastodon.social", "hashtags": ["bytedance"]}], "max_pages": pages}  # fmt: skip
    data = {
        "id": "bench-evidence",
        "title": "ByteDance intern rumour (evidence benchmark)",
        "window": {"start": "2024-10-17T00:00:00Z"},
        "languages": ["en", "zh"],
        "queries": [
            {"name": "en", "lang": "en", "any": ["bytedance intern"]},
            {"name": "zh", "lang": "zh", "any": ["字节跳动 实习生"]},
        ],
        "sources": {"mastodon": section},
    }
    path = folder / "incident.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def crawl(env: dict[str, str], incident_file: Path) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawlers.run",
            "--incident",
            str(incident_file),
            "--source",
            "mastodon",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"crawl failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def capture_alone(posts: int, folder: Path) -> dict[str, Any]:
    """The capture step alone: seconds per post at first sight and when unchanged."""
    made = statuses(posts)
    exchanges = [
        Exchange(url=f"https://mastodon.social/api/v1/timelines/tag/bytedance?page={i}", status=200,
                 response_headers=[("Content-Type", "application/json")],
                 body=json.dumps(made[i * 40 : (i + 1) * 40]).encode())
        for i in range(posts // 40 + 1)
    ]  # fmt: skip
    figures = {}
    stage = CaptureStage(Capturer(folder, "bench-evidence", Redactor(["secret-token-123"])))
    for label in ("first sight", "unchanged"):
        wall, cpu = time.perf_counter(), time.process_time()
        for i, status in enumerate(made):
            doc = _Doc(platform="mastodon", native_id=status["uri"], text=status["content"])
            attach(doc, exchanges[i // 40])
            stage.process(doc)
        figures[f"capture step, {label}: ms per post (wall)"] = round((time.perf_counter() - wall) / posts * 1000, 3)  # fmt: skip
        figures[f"capture step, {label}: ms per post (CPU)"] = round((time.process_time() - cpu) / posts * 1000, 3)  # fmt: skip
    stage.close()
    return figures


class _Doc(dict[str, Any]):
    """A post document as the ingest core hands it on (a dict that can carry the exchange)."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    settings = load_settings()
    client = make_client(settings)
    url = settings.es_url or f"http://127.0.0.1:{settings.es_port}"
    times: dict[str, list[float]] = {"matched": [], "off": []}
    sizes, records, indexed = [], [], []
    data = MastodonData(statuses=statuses(args.posts))
    with ReplayServer(MastodonReplay(data, budget=10**9)) as server, tempfile.TemporaryDirectory(prefix="bench-evidence-") as temp:  # fmt: skip
        incident_file = incident(Path(temp), pages=min(100, args.posts // 40 + 2))
        for round_number in range(args.rounds):
            for mode in ("matched", "off") if round_number % 2 == 0 else ("off", "matched"):
                names = IndexNames(f"bench-evidence-{uuid.uuid4().hex[:6]}")
                init(client, names)
                data_dir = Path(temp) / f"data-{round_number}-{mode}"
                env = {
                    "SPREADWATCH_ES_URL": url,
                    "SPREADWATCH_INDEX_PREFIX": names.prefix,
                    "SPREADWATCH_DATA_DIR": str(data_dir),
                    "SPREADWATCH_MASTODON_BASE_URL": server.url,
                    "SPREADWATCH_ALLOW_PRIVATE_NETWORKS": REPLAY_NETWORKS,
                    "SPREADWATCH_EVIDENCE_CAPTURE": mode,
                }
                try:
                    wall, summary = crawl(env, incident_file)
                finally:
                    delete_all(client, names)
                times[mode].append(wall)
                if mode == "matched":
                    warcs = list((data_dir / "evidence").glob("*/*.warc.gz"))
                    sizes.append(sum(p.stat().st_size for p in warcs))
                    records.append(int(summary.get("evidence_captured") or 0))
                    indexed.append(int(summary.get("items_indexed") or 0))
                print(f"round {round_number + 1} {mode}: {wall:.1f}s, {summary.get('items_indexed')} indexed", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-evidence-alone-") as temp:
        alone = capture_alone(args.posts, Path(temp))
    on, off = statistics.median(times["matched"]), statistics.median(times["off"])
    posts = statistics.median(indexed)
    size = statistics.median(sizes)
    save(
        "bench_evidence",
        {
            "load": f"{args.posts} matching Mastodon statuses (40 per API page), first sight, {args.rounds} rounds alternating",
            "posts indexed per crawl": int(posts),
            "crawl with capture (median s)": round(on, 2),
            "crawl without capture (median s)": round(off, 2),
            "capture overhead (with ÷ without)": round(on / off, 3),
            "WARC response records per crawl": int(statistics.median(records)),
            "archive bytes per 1,000 posts": int(size / posts * 1000) if posts else None,
            "archive KiB per 1,000 posts": round(size / posts * 1000 / 1024, 1) if posts else None,
            **alone,
            "bytes per response record (with its request)": int(
                size / max(1, statistics.median(records))
            ),
        },
    )


if __name__ == "__main__":
    main()
