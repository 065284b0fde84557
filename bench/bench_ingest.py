"""Ingest posts/s with the stance head per batch, after indexing (deferred) or absent; label waits.

Posts/s through the whole ingest into Elasticsearch, and how long posts wait for the head's
label when it runs after indexing.

Builds N replayed posts (default 50,000: zh/en/de, a fifth of them HTML, tracking parameters in
URLs, engagement counts, ~10% matching no query) and feeds them through the ingest core every
crawl and stream uses (`crawlers.ingest.Ingest`) — validate, normalise (HTML to text, UTC times,
py3langid, URL canonicalisation), match, stance, fingerprint, index (BulkWriter: mget + merge +
bulk) — into throw-away prefixes on the embedded node (or SPREADWATCH_ES_URL), in one run:

1. the learned head labelling each writer batch before it is written
   (`SPREADWATCH_STANCE_DEFERRED=false`);
2. deferred (the default): the lexicon's label written at once, marked pending, while another
   process runs `indexer.stance_pending.label_pending` every `--every` seconds, as the
   monitor's `stance:` job does; then the time until no post is pending, and each post's wait
   from entering the ingest (so including the writer's batching), and from Elasticsearch's
   acknowledgement of its write, to carrying the head's label;
3. a re-crawl of the same posts (every post unchanged), then the same documents written with
   plain `helpers.bulk` (the ratio to the ingest), then the lexicon alone (no head at all).

Model loading and index set-up happen before timing; the writer's final flush is timed. HTTP
fetching by spiders is not included. Indices are deleted at the end. `--lexicon-only`: the
lexicon pass, the re-crawl and raw bulk only.

    .venv/bin/python -m bench.bench_ingest [--posts 50000] [--batch 500] [--every 2] [--lexicon-only]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from multiprocessing.synchronize import Event as EventType
from typing import Any

from elasticsearch import Elasticsearch, helpers

from bench.machine import save
from crawlers.ingest import Ingest, IngestContext
from crawlers.items import Author, Engagement, Post
from crawlers.normalise import language
from indexer.connection import IndexNames, make_client
from indexer.stance import StanceInput, classify
from indexer.stance_model import shipped
from indexer.stance_pending import label_pending, pending_count
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
#: The longest the benchmark waits for the labeller to catch up after the ingest.
CATCH_UP_MAX = 300.0
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


@dataclass
class Pass:
    seconds: float
    stats: dict[str, Any]
    #: Wall-clock time each post entered the ingest, and when Elasticsearch had acknowledged
    #: its write (`BulkWriter.after_durable`), by native id.
    handed: dict[str, float]
    acked: dict[str, float]

    @property
    def indexed(self) -> int:
        return int(self.stats.get("spreadwatch/writer/indexed_new", 0))


def pipeline_pass(
    settings: Settings, posts: list[Post], batch: int, model: bool, deferred: bool = False
) -> Pass:
    """Seconds to push every post through the ingest (writer on its worker thread, as in a
    crawl), the crawl stats, and when each post went in."""
    context = IngestContext.build(
        settings, INCIDENT, spider_name="bench", run_id="bench", batch_size=batch,
        stance_model=model, stance_deferred=deferred,
    )  # fmt: skip
    ingest = Ingest(context, background=True)  # index set-up on first use: not timed
    handed: dict[str, float] = {}
    acked: dict[str, float] = {}
    started = time.perf_counter()
    for post in posts:
        handed[post.native_id] = time.time()
        ingest.process(post)
        ingest.writer.after_durable(partial(_ack, acked, post.native_id))
    ingest.close()
    return Pass(time.perf_counter() - started, ingest.stats(), handed, acked)


def _ack(acked: dict[str, float], native_id: str) -> None:
    """Runs after the flush that wrote the post (or, when that flush had already taken its
    batch, the next one: a wait measured from here is then a little short)."""
    acked[native_id] = time.time()


def label_loop(prefix: str, every: float, stop: EventType) -> None:
    """What the monitor's `stance:` job does, in its own process: the head over the pending
    posts every `every` seconds."""
    settings = load_settings(index_prefix=prefix)
    client, names, head = make_client(settings), IndexNames(prefix), shipped()
    assert head is not None
    while not stop.is_set():
        label_pending(client, names, INCIDENT, head)
        stop.wait(every)


def deferred_pass(settings: Settings, posts: list[Post], batch: int, every: float) -> Deferred:
    """The ingest with the head deferred, its labeller running beside it in another process;
    then how long until every post carries the head's label, and each post's wait."""
    client, names = make_client(settings), IndexNames(settings.index_prefix)
    init(client, names)
    spawn = multiprocessing.get_context("spawn")
    stop = spawn.Event()
    labeller = spawn.Process(target=label_loop, args=(names.prefix, every, stop), daemon=True)
    labeller.start()
    try:
        ingest = pipeline_pass(settings, posts, batch, True, deferred=True)
        ended = time.time()
        while pending_count(client, names, INCIDENT.id) and time.time() - ended < CATCH_UP_MAX:
            time.sleep(0.1)
        caught_up = time.time() - ended
    finally:
        stop.set()
        labeller.join(timeout=60)
    labelled = {
        hit["_source"]["native_id"]: datetime.fromisoformat(
            hit["_source"]["stance_labelled_at"]
        ).timestamp()
        for hit in helpers.scan(
            client, index=names.posts, query={"query": {"exists": {"field": "stance_labelled_at"}}},
            _source=["native_id", "stance_labelled_at"],
        )
    }  # fmt: skip
    left = pending_count(client, names, INCIDENT.id)
    client.close()
    waits = sorted(at - ingest.handed[nid] for nid, at in labelled.items())
    after_ack = sorted(at - ingest.acked[nid] for nid, at in labelled.items())
    return Deferred(ingest, caught_up, waits, after_ack, left)


@dataclass
class Deferred:
    ingest: Pass
    #: Seconds from the ingest's end until no post waited for the head.
    caught_up: float
    #: Per post labelled: seconds from entering the ingest to carrying the head's label, and
    #: from Elasticsearch's acknowledgement of its write.
    waits: list[float]
    after_ack: list[float]
    left: int

    def figures(self, every: float) -> dict[str, Any]:
        return {
            "deferred: first crawl (indexed docs / s)": round(
                self.ingest.indexed / self.ingest.seconds
            ),
            "deferred: labelled by the head after indexing": len(self.waits),
            "deferred: still provisional at the end": self.left,
            "deferred: last label after the ingest ended (s)": round(self.caught_up, 1),
            "deferred: post in → head's label (s; p50, p95, max)": _spread(self.waits),
            "deferred: indexed (write acknowledged) → head's label (s; p50, p95, max)": _spread(
                self.after_ack
            ),
            "deferred: labeller": f"own process, every {every:g} s (the monitor's stance: job)",
        }


def _spread(values: list[float]) -> str:
    """Median, 95th percentile and maximum of sorted `values`."""
    if not values:
        return "none"
    at = lambda q: round(values[min(len(values) - 1, int(q * len(values)))], 1)  # noqa: E731
    return f"{at(0.5)}, {at(0.95)}, {round(values[-1], 1)}"


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
    parser.add_argument(
        "--every", type=float, default=2.0, help="seconds between the labeller's passes"
    )
    args = parser.parse_args(argv)
    head = None if args.lexicon_only else shipped()

    base = load_settings()
    prefix = f"bench-ingest-{uuid.uuid4().hex[:6]}"
    client = make_client(base)
    main_names, raw_names = IndexNames(prefix), IndexNames(f"{prefix}-raw")
    batch_names = IndexNames(f"{prefix}-batch")
    init(client, raw_names)
    language("warm up the language model", None, ("en",))
    classify(StanceInput(text="warm up the stance lexicons"))
    if head is not None:
        head.classify_batch([StanceInput(text="warm up the learned stance head")])
    posts = replayed_posts(args.posts)
    settings = load_settings(index_prefix=prefix)
    figures: dict[str, Any] = {}
    try:
        if head is None:
            first = pipeline_pass(settings, posts, args.batch, False)
        else:
            batch_settings = load_settings(index_prefix=batch_names.prefix)
            per_batch = pipeline_pass(batch_settings, posts, args.batch, True, deferred=False)
            deferred = deferred_pass(settings, posts, args.batch, args.every)
            first = deferred.ingest
            figures.update(deferred.figures(args.every))
        again = pipeline_pass(settings, posts, args.batch, head is not None, deferred=True)
        raw_s, raw_written = raw_bulk(client, main_names, raw_names, args.batch)
        if head is not None:  # the lexicon alone, last: the same load as the passes above
            lexicon = pipeline_pass(
                load_settings(index_prefix=f"{prefix}-lex"), posts, args.batch, False
            )
    finally:
        for names in (main_names, raw_names, batch_names, IndexNames(f"{prefix}-lex")):
            delete_all(client, names)
        client.close()
    first_rate = first.indexed / first.seconds
    raw_rate = raw_written / raw_s
    if head is not None:
        figures.update(_head_cost(lexicon, per_batch, first, args.batch))
    save(
        "bench_ingest",
        {
            "posts replayed": args.posts,
            "posts indexed (rest dropped as no_match)": first.indexed,
            "pipeline, first crawl (posts in / s)": round(args.posts / first.seconds),
            "pipeline, first crawl (indexed docs / s)": round(first_rate),
            "pipeline, re-crawl of the same posts (posts in / s)": round(
                args.posts / again.seconds
            ),
            "re-crawl outcome": {
                "unchanged": int(again.stats.get("spreadwatch/writer/unchanged", 0)),
                "updated": int(again.stats.get("spreadwatch/writer/updated", 0)),
                "new": again.indexed,
            },
            "raw helpers.bulk of the same documents (docs / s)": round(raw_rate),
            "ratio raw bulk / pipeline (indexed docs per second)": round(raw_rate / first_rate, 2),
            **figures,
            "batch size": args.batch,
            "stance": (
                f"lexicon, then learned head {head.version} after indexing (deferred)"
                if head
                else "lexicon"
            ),
            "command": f"python -m bench.bench_ingest --posts {args.posts} --batch {args.batch}"
            + (" --lexicon-only" if args.lexicon_only else f" --every {args.every:g}"),
        },
    )


def _head_cost(lexicon: Pass, per_batch: Pass, deferred: Pass, batch: int) -> dict[str, Any]:
    """The first crawl's rate with the head per writer batch and deferred, against the lexicon
    alone in this run: labelling each batch before writing it costs throughput; deferred, the
    cost is the wait for labels (above)."""
    lexicon_rate = lexicon.indexed / lexicon.seconds
    batches = max(1, -(-per_batch.indexed // batch))
    return {
        "lexicon only, first crawl (indexed docs / s)": round(lexicon_rate),
        "head per writer batch, first crawl (indexed docs / s)": round(
            per_batch.indexed / per_batch.seconds
        ),
        "time the head adds per writer batch (ms)": round(
            (per_batch.seconds - lexicon.seconds) / batches * 1000
        ),
        "rate, head per batch / lexicon only": round(
            per_batch.indexed / per_batch.seconds / lexicon_rate, 2
        ),
        "rate, deferred / lexicon only": round(
            deferred.indexed / deferred.seconds / lexicon_rate, 2
        ),
    }


if __name__ == "__main__":
    main()
