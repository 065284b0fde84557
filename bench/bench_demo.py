"""The demo end to end: wall time of `spreadwatch demo` and what its story found.

Plays the founding case as the CLI does (default round interval and speed; `--no-pace` plays as
fast as the machine allows) on the configured Elasticsearch (the embedded node by default),
under a throw-away index prefix, and records wall time, rounds, seconds per round, posts
indexed, alerts sent and the story's time to denial.

    .venv/bin/python -m bench.bench_demo [--no-pace] [--every 6h]
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

from bench.machine import save
from spreadwatch.demo.display import Display
from spreadwatch.demo.runner import DEFAULT_ROUND, DemoOptions, run_demo
from spreadwatch.fields import parse_duration
from spreadwatch.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-pace", action="store_true", help="do not wait between rounds")
    parser.add_argument("--every", default="6h", help="simulated time between crawl rounds")
    args = parser.parse_args()
    every = parse_duration(args.every) if args.every else DEFAULT_ROUND
    with tempfile.TemporaryDirectory() as out:
        options = DemoOptions(out=Path(out), every=every, pace=not args.no_pace)
        with Display(stream=io.StringIO(), live=False) as display:
            result = run_demo(load_settings(), options, display)
    story = result.story.as_dict()
    save(
        "bench_demo",
        {
            "paced": not args.no_pace,
            "round_every_h": every.total_seconds() / 3600,
            "rounds": result.rounds,
            "wall_s": result.wall_s,
            "s_per_round": round(result.wall_s / max(result.rounds, 1), 2),
            "posts_indexed": sum(result.story.posts_per_platform.values()),
            "alerts_sent": len(result.story.alerts),
            "origin_platform": (story["origin"] or {}).get("platform"),
            "time_to_denial_h": story["time_to_denial_h"],
            "posts_per_platform": dict(sorted(result.story.posts_per_platform.items())),
        },
    )


if __name__ == "__main__":
    main()
