"""Stance classification throughput: what the crawl pipeline and `reclassify` pay per post.

Classifies the labelled posts of tests/data/stance_eval.yml and stance_holdout.yml (zh/en/de,
claims matched as the pipeline does) over and over, N posts in all, in one process, and prints
the machine, posts per second and the mean cost per post.

    .venv/bin/python -m bench.bench_stance [--posts 100000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.machine import save
from indexer.stance import classify

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from stance_eval import EVAL_FILE, load_set, stance_input  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000, help="posts to classify")
    args = parser.parse_args()
    inputs = []
    for path in (EVAL_FILE, EVAL_FILE.with_name("stance_holdout.yml")):
        claims, posts = load_set(path)
        inputs += [stance_input(post, claims) for post in posts]
    classify(inputs[0])  # compile the lexicons outside the measurement
    started = time.perf_counter()
    for n in range(args.posts):
        classify(inputs[n % len(inputs)])
    elapsed = time.perf_counter() - started
    save(
        "bench_stance",
        {
            "posts": args.posts,
            "distinct_posts": len(inputs),
            "posts_per_s": round(args.posts / elapsed),
            "mean_us_per_post": round(elapsed / args.posts * 1e6, 1),
        },
    )


if __name__ == "__main__":
    main()
