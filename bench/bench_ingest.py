"""Posts/s through the whole ingest into Elasticsearch, against raw helpers.bulk.

Builds N replayed posts (default 50,000: zh/en/de, a fifth of them HTML, tracking parameters in
URLs, engagement counts, ~10% matching no query) and feeds them through the ingest core every
crawl and stream uses (`crawlers.ingest.Ingest`) — validate, normalise (HTML to text, UTC times,
py3langid, URL canonicalisation), match, stance (the lexicon per post, then the learned head
per writer batch when installed; `--lexicon-only` leaves it out), fingerprint, index
(BulkWriter: mget + merge + bulk) — into a throw-away prefix on the embedded node (or SPREADWATCH_ES_URL). Then the same
documents as indexed are written with plain `helpers.bulk` into a second prefix, in the same
run, and the ratio is printed. With the head, the same posts also go through the ingest with the
lexicon alone (a third prefix, first, in the same run), so what the head costs is a ratio of one
run, not of two runs at different loads. A second pass of the same items measures a re-crawl (every post
an update). Model loading (py3langid, stance lexicons) and index set-up happen before timing;
the writer's final flush is timed. HTTP fetching by spiders is not included. Indices are deleted at the end.

    .venv/bin/python -m bench.bench_ingest [--posts 50000] [--batch 500] [--lexicon-only]
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from typing import Any

from elasticsearch import Elasticsearch, helpers

from bench.machine import save
from crawlers.ingest import Ingest, IngestContext
from crawlers.items import Author, Engagement, Post
from crawlers.normalise import language
from indexer.connection import IndexNames, make_client
from indexer.stance import StanceInput, classify
from indexer.stance_model import shipped
from indexer.templates import delete_all, init
from spreadwatch.incident import Incident
from spreadwatch.settings import Settings, load_settings

INCIDENT = Incident.model_validate(
    {
        "id": "bench-ingest",
        "title": "ByteDance intern GPU sabotage rumour (benchmark)",
        "window": {"start": "2024-10-01T00:00:00Z"},
        "languages": ["zh", "en", "de"],
        "queries": [
            {"name": "zh", "lang": "zh", "any": ["字节跳动 实习生", "实习生 投毒"]},
            {"name": "en", "lang": "en", "any": ['"ByteDance intern"', "ByteDance sabotage"]},
            {"name": "de", "lang": "de", "any": ["ByteDance Praktikant*"]},
        ],
        "claims": [
            {"name": "8000-h100", "patterns": ["8000 H100", "8,000 H100"]},
            {"name": "ten-million", "patterns": ["tens of millions", "千万美元"]},
        ],
    }
)
TEXTS = [
    "网传字节跳动实习生恶意攻击集群，篡改代码破坏大模型训练，涉及8000 H100，损失上千万美元。",
    "A ByteDance intern allegedly sabotaged model training on 8,000 H100 GPUs, costing tens of millions.",
    "Ein ByteDance Praktikant soll das Training eines großen KI-Modells sabotiert haben.",
    "<p>Reports say the <b>ByteDance intern</b> was fired.</p><script>track()</script>",
    "字节跳动回应实习生投毒传闻：严重夸大，未涉及商业化产品。",
    "The weather in Beijing is lovely this week, nothing to see here.",
]
PLATFORMS = ["weibo", "reddit", "github", "mastodon", "bluesky", "hackernews", "feeds"]


def replayed_posts(count: int, seed: int = 7) -> list[Post]:
    rng = random.Random(seed)
    posts = []
    for number in range(count):
        text = rng.choice(TEXTS)
        posts.append(
            Post(
                platform=rng.choice(PLATFORMS),
                native_id=str(number),
                timestamp=1729209600 + rng.randrange(7 * 86400),
                text=f"{text} #{number}",
                text_is_html=text.startswith("<"),
                url=f"https://example.com/p/{number}?utm_source=x&spm=a.b&id={number}",
                author=Author(id=str(rng.randrange(5000)), handle=f"user{rng.randrange(5000)}"),
                engagement=Engagement(likes=rng.randrange(1000), reposts=rng.randrange(100)),
            )
        )
    return posts


def pipeline_pass(
    settings: Settings, posts: list[Post], batch: int, model: bool
) -> tuple[float, dict[str, Any]]:
    """Seconds to push every post through the ingest (writer on its worker thread, as in a
    crawl), and the crawl stats."""
    context = IngestContext.build(
        settings, INCIDENT, spider_name="bench", run_id="bench", batch_size=batch,
        stance_model=model,
    )  # fmt: skip
    ingest = Ingest(context, background=True)  # index set-up on first use: not timed
    started = time.perf_counter()
    for post in posts:
        ingest.process(post)
    ingest.close()
    return time.perf_counter() - started, ingest.stats()


def raw_bulk(
    client: Elasticsearch, source: IndexNames, target: IndexNames, batch: int
) -> tuple[float, int]:
    """Seconds for plain helpers.bulk of the documents the pipeline indexed."""
    client.indices.refresh(index=source.posts)
    docs = [
        {"_index": target.posts, "_id": hit["_id"], "_source": hit["_source"]}
        for hit in helpers.scan(client, index=source.posts, query={"query": {"match_all": {}}})
    ]
    started = time.perf_counter()
    written, _ = helpers.bulk(client, docs, chunk_size=batch)
    return time.perf_counter() - started, int(written)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000, help="posts to replay")
    parser.add_argument("--batch", type=int, default=500, help="writer and bulk batch size")
    parser.add_argument("--lexicon-only", action="store_true", help="no learned stance head")
    args = parser.parse_args(argv)
    head = None if args.lexicon_only else shipped()

    base = load_settings()
    prefix = f"bench-ingest-{uuid.uuid4().hex[:6]}"
    settings = load_settings(index_prefix=prefix)
    client = make_client(base)
    pipeline_names, raw_names = IndexNames(prefix), IndexNames(f"{prefix}-raw")
    init(client, raw_names)
    language("warm up the language model", None, ("en",))
    classify(StanceInput(text="warm up the stance lexicons"))
    if head is not None:
        head.classify_batch([StanceInput(text="warm up the learned stance head")])
    posts = replayed_posts(args.posts)
    lexicon_names = IndexNames(f"{prefix}-lex")
    try:
        lexicon = (
            pipeline_pass(
                load_settings(index_prefix=lexicon_names.prefix), posts, args.batch, False
            )
            if head is not None
            else None
        )
        first_s, stats = pipeline_pass(settings, posts, args.batch, head is not None)
        again_s, again = pipeline_pass(settings, posts, args.batch, head is not None)
        raw_s, raw_written = raw_bulk(client, pipeline_names, raw_names, args.batch)
    finally:
        delete_all(client, pipeline_names)
        delete_all(client, raw_names)
        delete_all(client, lexicon_names)
        client.close()
    indexed = int(stats.get("spreadwatch/writer/indexed_new", 0))
    pipeline_rate = args.posts / first_s
    raw_rate = raw_written / raw_s
    save(
        "bench_ingest",
        {
            "posts replayed": args.posts,
            "posts indexed (rest dropped as no_match)": indexed,
            "pipeline, first crawl (posts in / s)": round(pipeline_rate),
            "pipeline, first crawl (indexed docs / s)": round(indexed / first_s),
            "pipeline, re-crawl of the same posts (posts in / s)": round(args.posts / again_s),
            "re-crawl outcome": {
                "unchanged": int(again.get("spreadwatch/writer/unchanged", 0)),
                "updated": int(again.get("spreadwatch/writer/updated", 0)),
                "new": int(again.get("spreadwatch/writer/indexed_new", 0)),
            },
            "raw helpers.bulk of the same documents (docs / s)": round(raw_rate),
            "ratio raw bulk / pipeline (indexed docs per second)": round(
                raw_rate / (indexed / first_s), 2
            ),
            **(_head_cost(lexicon, first_s, args.batch) if lexicon else {}),
            "batch size": args.batch,
            "stance": f"lexicon + learned head {head.version} per batch" if head else "lexicon",
            "command": f"python -m bench.bench_ingest --posts {args.posts} --batch {args.batch}"
            + (" --lexicon-only" if args.lexicon_only else ""),
        },
    )


def _head_cost(lexicon: tuple[float, dict[str, Any]], head_s: float, batch: int) -> dict[str, Any]:
    """What the learned head adds to the first crawl, against the lexicon alone in this run. The
    head labels each writer batch before it is written, so a post is labelled when it is
    indexed: its cost is throughput, never a wait for labels."""
    lexicon_s, stats = lexicon
    indexed = int(stats.get("spreadwatch/writer/indexed_new", 0))
    batches = max(1, -(-indexed // batch))
    return {
        "pipeline, lexicon only, first crawl (indexed docs / s)": round(indexed / lexicon_s),
        "first crawl time, with the head / lexicon only": round(head_s / lexicon_s, 2),
        "time the head adds per writer batch (ms)": round((head_s - lexicon_s) / batches * 1000),
    }


if __name__ == "__main__":
    main()
