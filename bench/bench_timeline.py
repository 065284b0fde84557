"""Timeline + phases latency on an incident of 1,000,000 synthetic posts (embedded node by default).

Bulk-loads N posts (default 1,000,000 over 7 days: rumour-heavy before an official denial at
day 1 06:00, reports and debunks after it, 20,000 authors, 9 platforms) into a throw-away index
prefix with refresh off during the load, then times `analytics.timeline` (interval chosen from
the span) and `phases.phases` — what `spreadwatch timeline` runs — for R rounds after one warm-up
round (shard request cache off), prints the machine and p50/p95, stores them in bench/results/bench_timeline.json, and
deletes the indices.

    .venv/bin/python -m bench.bench_timeline [--posts 1000000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from bench.machine import save
from indexer import analytics
from indexer.connection import IndexNames, make_client
from indexer.phases import phases
from indexer.templates import delete_all, init
from spreadwatch.settings import load_settings

INCIDENT = "bench-timeline"
START_MS = int(datetime(2024, 10, 18, tzinfo=UTC).timestamp() * 1000)
SPAN_MS = 7 * 24 * 3600 * 1000
DENIAL_MS = START_MS + 30 * 3600 * 1000
PLATFORMS = [
    "weibo",
    "reddit",
    "github",
    "mastodon",
    "bluesky",
    "hackernews",
    "feeds",
    "x",
    "zhihu",
]
BEFORE = ["rumour"] * 7 + ["other"] * 2 + ["debunk"]
AFTER = ["rumour"] * 3 + ["report"] * 3 + ["denial", "debunk", "other", "other"]


def synthetic(index: str, count: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    """Posts whose volume rises fast and decays (beta-distributed times), stance by period."""
    rng = random.Random(seed)
    yield _official_denial(index)
    for i in range(1, count):
        when = START_MS + int(SPAN_MS * rng.betavariate(1.3, 6))
        platform = rng.choice(PLATFORMS)
        stance = rng.choice(BEFORE if when < DENIAL_MS else AFTER)
        yield {
            "_index": index,
            "_id": f"{platform}:{i}",
            "_source": {
                "@timestamp": when,
                "incident": [INCIDENT],
                "platform": platform,
                "kind": "repo" if platform == "github" and i % 50 == 0 else "post",
                "native_id": str(i),
                "author": {"handle": f"user{rng.randrange(20_000)}", "official": False},
                "stance": stance,
                "reach": rng.randrange(10, 5000),
                "engagement": {"reposts": rng.randrange(0, 50)},
                "fingerprint": f"fp{rng.randrange(200_000)}",
            },
        }


def _official_denial(index: str) -> dict[str, Any]:
    return {
        "_index": index,
        "_id": "toutiao:0",
        "_source": {
            "@timestamp": DENIAL_MS,
            "incident": [INCIDENT],
            "platform": "toutiao",
            "kind": "statement",
            "native_id": "0",
            "author": {"handle": "bytedance", "official": True},
            "stance": "denial",
            "reach": 2_000_000,
        },
    }


def load(client: Elasticsearch, names: IndexNames, count: int) -> float:
    """Bulk-load with refresh off; returns posts per second."""
    index = next(iter(client.indices.get_alias(name=names.posts)))
    client.indices.put_settings(index=index, settings={"refresh_interval": "-1"})
    started = time.perf_counter()
    loaded = 0
    for ok, item in helpers.parallel_bulk(
        client, synthetic(names.posts, count), thread_count=2, chunk_size=5000, queue_size=4
    ):
        if not ok:
            raise RuntimeError(f"bulk item failed: {item}")
        loaded += 1
    # No shard request cache: repeated identical size-0 searches would otherwise be answered
    # from it, and a live incident's index changes every refresh anyway.
    client.indices.put_settings(
        index=index, settings={"refresh_interval": "1s", "requests.cache.enable": False}
    )
    client.indices.refresh(index=index)
    elapsed = time.perf_counter() - started
    stored = client.count(index=names.posts)["count"]
    if stored != count:
        raise RuntimeError(f"loaded {loaded}, but the index holds {stored} posts")
    return count / elapsed


def measure(client: Elasticsearch, names: IndexNames, rounds: int) -> dict[str, list[float]]:
    """Seconds per round of timeline, phases and both (after one warm-up round)."""
    runs: dict[str, list[float]] = {"timeline": [], "phases": [], "both": []}
    for n in range(rounds + 1):
        t0 = time.perf_counter()
        series = analytics.timeline(client, names, INCIDENT)
        t1 = time.perf_counter()
        found = phases(client, names, INCIDENT)
        t2 = time.perf_counter()
        if found.denial is None or not series.buckets:
            raise RuntimeError("the synthetic incident lost its denial or its timeline")
        if n:
            runs["timeline"].append(t1 - t0)
            runs["phases"].append(t2 - t1)
            runs["both"].append(t2 - t0)
    return runs


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000, help="synthetic posts to load")
    parser.add_argument("--rounds", type=int, default=20, help="measured rounds")
    args = parser.parse_args()
    settings = load_settings()
    client = make_client(settings, url=None)
    names = IndexNames(f"bench-timeline-{uuid.uuid4().hex[:6]}")
    init(client, names)
    try:
        rate = load(client, names, args.posts)
        runs = measure(client, names, args.rounds)
        interval = analytics.timeline(client, names, INCIDENT).interval
    finally:
        delete_all(client, names)
    figures: dict[str, Any] = {
        "posts": args.posts,
        "rounds": args.rounds,
        "load_posts_per_s": round(rate),
        "interval": interval,
    }
    for name, values in runs.items():
        figures[f"{name}_p50_ms"] = round(statistics.median(values) * 1000, 1)
        figures[f"{name}_p95_ms"] = round(percentile(values, 0.95) * 1000, 1)
    save("bench_timeline", figures)


if __name__ == "__main__":
    main()
