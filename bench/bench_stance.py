"""Stance classification throughput: what the ingest and `reclassify` pay per post, for the
explainable lexicon (one post at a time, as the stance stage runs it) and for the learned head
(batched, as it labels pending posts after indexing, or each writer batch).

Classifies spreadwatch's own labelled posts (data/stance/train.jsonl and holdout.jsonl, zh/de/en,
claims matched as the ingest does), over and over, N posts in all, in one process, and prints
the machine, posts per second and the mean cost per post of each path.

    .venv/bin/python -m bench.bench_stance [--posts 20000] [--batch 500]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.machine import save
from indexer.stance import StanceInput, classify
from indexer.stance_eval import read_labelled, stance_input
from indexer.stance_model import StanceModel
from spreadwatch.incident import load_incident

DATA = Path(__file__).resolve().parent.parent / "data" / "stance"


def inputs() -> list[StanceInput]:
    incidents = {p.stem: load_incident(p) for p in DATA.glob("*.yml")}
    found = []
    for name in ("train.jsonl", "holdout.jsonl"):
        for post in read_labelled(DATA / name):
            found.append(stance_input(post.record, incidents.get(post.record.get("incident"))))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000, help="posts to classify per path")
    parser.add_argument("--batch", type=int, default=500, help="the model's batch (writer's)")
    args = parser.parse_args()
    posts = inputs()
    classify(posts[0])  # compile the lexicons outside the measurement
    started = time.perf_counter()
    for n in range(args.posts):
        classify(posts[n % len(posts)])
    lexicon = time.perf_counter() - started

    model = StanceModel.load()
    model.classify_batch(posts[:10])  # load the hashing and scipy outside the measurement
    batches = [
        [posts[(start + i) % len(posts)] for i in range(args.batch)]
        for start in range(0, args.posts, args.batch)
    ]
    started = time.perf_counter()
    for batch in batches:
        model.classify_batch(batch)
    learned = time.perf_counter() - started
    done = len(batches) * args.batch
    save(
        "bench_stance",
        {
            "posts": args.posts,
            "distinct_posts": len(posts),
            "lexicon_posts_per_s": round(args.posts / lexicon),
            "lexicon_mean_us_per_post": round(lexicon / args.posts * 1e6, 1),
            "model": model.version,
            "model_batch": args.batch,
            "model_posts_per_s": round(done / learned),
            "model_mean_us_per_post": round(learned / done * 1e6, 1),
        },
    )


if __name__ == "__main__":
    main()
