"""HTML report and Kibana export on a synthetic incident: time to query, render and write.

Indexes N synthetic posts (default 100,000 over 7 days, 8 platforms, 5,000 authors, one official
denial on day 2, copy-paste clusters) plus GitHub activity into a throw-away index prefix on the
configured node (embedded by default), then times `report.collect` (all the analytics queries),
`render_html` (charts + template) and the Kibana bundle, and removes the indices.

    .venv/bin/python -m bench.bench_report [--posts 100000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, helpers

from bench.machine import save
from indexer.connection import IndexNames, make_client
from indexer.kibana import build_bundle, to_ndjson
from indexer.kibana.facts import dashboard_facts
from indexer.templates import delete_all, init
from spreadwatch.incident import Incident
from spreadwatch.report import collect, render_html
from spreadwatch.settings import load_settings

INCIDENT = "bench-report"
START = datetime(2024, 10, 18, tzinfo=UTC)
PLATFORMS = ["weibo", "reddit", "github", "mastodon", "bluesky", "hackernews", "feeds", "telegram"]
STANCES = ["rumour", "rumour", "rumour", "report", "debunk", "other"]


def synthetic_posts(names: IndexNames, count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    span = timedelta(days=7).total_seconds()
    for i in range(count):
        when = START + timedelta(seconds=span * rng.betavariate(1.5, 5))
        official = i == 0
        yield {
            "_index": names.posts,
            "_id": f"synthetic:{i}",
            "_source": {
                "@timestamp": (
                    START + timedelta(days=1, hours=6) if official else when
                ).isoformat(),
                "incident": [INCIDENT],
                "platform": "toutiao" if official else rng.choice(PLATFORMS),
                "kind": "statement" if official else "post",
                "author": {
                    "handle": "bytedance" if official else f"user{rng.randrange(5000)}",
                    "official": official,
                },
                "text": f"synthetic post {i} 8000 H100 实习生 <b>{i}</b>",
                "stance": "denial" if official else rng.choice(STANCES),
                "reach": rng.randrange(10, 5000) if not official else 200_000,
                "engagement": {"reposts": rng.randrange(0, 50)},
                "fingerprint": f"fp{rng.randrange(count // 20 or 1)}"
                if rng.random() < 0.3
                else None,
                "hashtags": [rng.choice(["字节", "bytedance", "h100", "sabotage"])],
                "repo": "JusticeFighter110/confession" if rng.random() < 0.01 else None,
            },
        }


def synthetic_activity(names: IndexNames, count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(11)
    for i in range(count):
        yield {
            "_index": names.activity,
            "_id": f"github:ev:{i}",
            "_source": {
                "@timestamp": (
                    START + timedelta(hours=4, minutes=rng.randrange(48 * 60))
                ).isoformat(),
                "incident": [INCIDENT],
                "platform": "github",
                "event": rng.choice(["star", "star", "star", "fork"]),
                "repo": "JusticeFighter110/confession",
            },
        }


def load(client: Elasticsearch, names: IndexNames, posts: int) -> float:
    started = time.perf_counter()
    for _ in helpers.parallel_bulk(
        client, synthetic_posts(names, posts), chunk_size=5000, thread_count=2
    ):
        pass
    helpers.bulk(client, synthetic_activity(names, 2000))
    client.indices.refresh(index=f"{names.prefix}-*")
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    settings = load_settings(index_prefix=f"swbench-report-{uuid.uuid4().hex[:6]}")
    client = make_client(settings)
    names = IndexNames(settings.index_prefix)
    init(client, names)
    try:
        load_s = load(client, names, args.posts)
        print(f"indexed {args.posts} posts in {load_s:.1f}s")
        collects, renders, sizes, exports = [], [], [], []
        incident = Incident.model_validate(
            {
                "id": INCIDENT,
                "title": "bench",
                "window": {"start": START},
                "queries": [{"name": "q", "any": ["x"]}],
            }
        )
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            data = collect(client, names, INCIDENT, title="bench")
            t1 = time.perf_counter()
            html = render_html(data)
            t2 = time.perf_counter()
            ndjson = to_ndjson(
                build_bundle(names.prefix, [dashboard_facts(client, names, incident)])
            )
            t3 = time.perf_counter()
            collects.append(t1 - t0)
            renders.append(t2 - t1)
            exports.append(t3 - t2)
            sizes.append(len(html.encode()))
        save(
            "bench_report",
            {
                "posts": args.posts,
                "rounds": args.rounds,
                "index_s": round(load_s, 1),
                "collect_s_p50": round(statistics.median(collects), 3),
                "collect_s_p95": round(percentile(collects, 0.95), 3),
                "render_s_p50": round(statistics.median(renders), 3),
                "render_s_p95": round(percentile(renders, 0.95), 3),
                "html_kib": round(sizes[-1] / 1024),
                "kibana_export_s_p50": round(statistics.median(exports), 3),
                "kibana_export_kib": round(len(ndjson.encode()) / 1024),
            },
        )
    finally:
        delete_all(client, names)
        client.close()


if __name__ == "__main__":
    main()
