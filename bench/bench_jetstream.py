"""Jetstream consumer throughput on a replayed burst, indexing into the real node.

A local WebSocket server replays a burst of real-shaped post events (one in ten about the
incident) as fast as the consumer reads them; the consumer matches, runs the crawl pipelines
and bulk-writes to Elasticsearch (embedded node unless SPREADWATCH_ES_URL is set). Reported:
events/s read and matching posts/s indexed, wall time including the final flush, with and
without the connection dropped twice mid-burst. Indices and the cursor file are removed after.

    .venv/bin/python -m bench.bench_jetstream [--events 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bench.machine import save
from crawlers.stream import JetstreamConsumer
from indexer.connection import IndexNames, make_client
from indexer.templates import delete_all, init
from spreadwatch.incident import Incident
from spreadwatch.replay import REPLAY_NETWORKS
from spreadwatch.replay.jetstream import JetstreamReplay, post_event
from spreadwatch.settings import load_settings

START_US = 1_729_263_600_000_000
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "the",
    "lazy",
    "dog",
    "while",
    "the",
    "cat",
    "sleeps",
    "on",
    "a",
    "warm",
    "keyboard",
]


def burst(count: int) -> list[dict[str, Any]]:
    events = []
    for n in range(count):
        if n % 10 == 0:
            text = f"ByteDance intern sabotaged 8,000 GPUs? Thread {n} on the rumour"
        else:
            text = " ".join(WORDS[(n + i) % len(WORDS)] for i in range(12)) + f" #{n}"
        events.append(
            post_event(f"did:plc:bench{n % 997:05d}", f"3lb{n:09d}", START_US + n * 50, text)
        )
    return events


def incident() -> Incident:
    return Incident.model_validate(
        {
            "id": f"bench-jetstream-{uuid.uuid4().hex[:8]}",
            "title": "bench",
            "window": {"start": datetime(2024, 10, 17, tzinfo=UTC)},
            "queries": [{"name": "en", "lang": "en", "any": ["bytedance intern"]}],
            "sources": {"bluesky": {"stream": True}},
        }
    )


def one_round(count: int, drops: list[int]) -> dict[str, float]:
    prefix = f"swbench-{uuid.uuid4().hex[:8]}"
    events = burst(count)
    the_incident = incident()
    with JetstreamReplay(events, drop_after=drops) as server:
        settings = load_settings(
            index_prefix=prefix,
            jetstream_base_url=server.url,
            allow_private_networks=REPLAY_NETWORKS,  # the replay listens on loopback
        )
        client = make_client(settings)
        names = IndexNames(prefix)
        init(client, names)
        consumer = JetstreamConsumer(settings, the_incident, idle_timeout=0.5)
        started = time.perf_counter()
        stats = asyncio.run(consumer.run())
        elapsed = time.perf_counter() - started - 0.5  # the idle wait that ends the run
    client.indices.refresh(index=names.posts)
    stored = client.count(index=names.posts)["count"]
    delete_all(client, names)
    shutil.rmtree(settings.data_dir / "state" / the_incident.id, ignore_errors=True)
    if stored != count // 10 or stats.indexed != count // 10:
        raise RuntimeError(
            f"expected {count // 10} posts, stored {stored}, indexed {stats.indexed}"
        )
    return {
        "seconds": elapsed,
        "events_per_s": stats.events / elapsed,
        "posts_per_s": stats.indexed / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events in the burst")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per variant (median kept)")
    args = parser.parse_args()
    figures: dict[str, Any] = {"events": args.events, "matching_share": 0.1, "rounds": args.rounds}
    for label, drops in (("steady", []), ("two_drops", [args.events // 3, args.events // 3])):
        rounds = [one_round(args.events, drops) for _ in range(args.rounds)]
        for key in ("events_per_s", "posts_per_s", "seconds"):
            figures[f"{label}_{key}_median"] = round(statistics.median(r[key] for r in rounds), 1)
    save("bench_jetstream", figures)


if __name__ == "__main__":
    main()
