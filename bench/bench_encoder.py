"""The candidate stance encoder's cost: posts per second through MiniLM-L6's numpy forward pass
(64 tokens of post + parent, every post padded to the full length as the design runs it),
beside what the shipped n-gram head needs — why the encoder is measured but not shipped.

Reads spreadwatch's own labelled posts (data/stance/, zh/de/en, each with its parent text) over
and over, N posts in batches of B, in one process.

    .venv/bin/python -m bench.bench_encoder [--posts 1024] [--batch 64]
"""

from __future__ import annotations

import argparse
import time

from bench.bench_stance import inputs
from bench.machine import save
from indexer import stance_encoder as enc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    posts = inputs()
    weights, tokenizer, ops = enc.base_weights(), enc.base_tokenizer(), enc.numpy_ops()
    enc.hidden_states(weights, enc.tokenize(posts[:2], tokenizer), ops)  # warm up
    batches = [
        [posts[(start + i) % len(posts)] for i in range(args.batch)]
        for start in range(0, args.posts, args.batch)
    ]
    started = time.perf_counter()
    for batch in batches:
        enc.hidden_states(weights, enc.tokenize(batch, tokenizer), ops)
    seconds = time.perf_counter() - started
    done = len(batches) * args.batch
    save(
        "bench_encoder",
        {
            "posts": done,
            "batch": args.batch,
            "tokens_per_post": enc.MAX_TOKENS,
            "encoder_posts_per_s": round(done / seconds, 1),
            "encoder_mean_ms_per_post": round(seconds / done * 1e3, 2),
        },
    )


if __name__ == "__main__":
    main()
