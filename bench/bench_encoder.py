"""The candidate stance encoder's cost: posts per second through each base's numpy forward pass.

64 tokens of post + parent, every post padded to the full length as the design runs it,
beside what the shipped n-gram head needs — why the encoder is measured but not shipped.

Reads spreadwatch's own labelled posts (data/stance/, zh/de/en, each with its parent text) over
and over, N posts in batches of B, every base in the same process, one after the other.

    .venv/bin/python -m bench.bench_encoder [--posts 1024] [--batch 64] [--base NAME ...]
"""

from __future__ import annotations

import argparse
import time

from bench.bench_stance import inputs
from bench.machine import save
from indexer import stance_encoder as enc
from indexer.stance import StanceInput


def posts_per_second(base: enc.Base, batches: list[list[StanceInput]]) -> float:
    weights, tokenizer, ops = enc.base_weights(base), enc.base_tokenizer(base), enc.numpy_ops()
    enc.hidden_states(weights, enc.tokenize(batches[0][:2], tokenizer), ops)  # warm up
    started = time.perf_counter()
    for batch in batches:
        enc.hidden_states(weights, enc.tokenize(batch, tokenizer), ops)
    return sum(len(b) for b in batches) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--base", action="append", choices=enc.BASES, help="default: every base")
    args = parser.parse_args()
    posts = inputs()
    batches = [
        [posts[(start + i) % len(posts)] for i in range(args.batch)]
        for start in range(0, args.posts, args.batch)
    ]
    figures: dict[str, object] = {
        "posts": len(batches) * args.batch,
        "batch": args.batch,
        "tokens_per_post": enc.MAX_TOKENS,
    }
    for name in args.base or list(enc.BASES):
        rate = posts_per_second(enc.BASES[name], batches)
        figures[f"{name}_posts_per_s"] = round(rate, 1)
        figures[f"{name}_mean_ms_per_post"] = round(1e3 / rate, 2)
    save("bench_encoder", figures)


if __name__ == "__main__":
    main()
