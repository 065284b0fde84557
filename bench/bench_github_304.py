"""Share of repeat GitHub requests answered 304 over two crawls of the replayed founding case.

The GitHub replay server serves the demo's reconstructed founding-case data
(`spreadwatch.demo.replays.github_data`); the real GitHub spider crawls it twice through
`python -m crawlers.run` with `incidents/bytedance-intern-2024.yml`, indexing into the real node
(embedded unless SPREADWATCH_ES_URL is set) under a bench index prefix removed afterwards.
A request is a *repeat* when the first crawl asked the same path and query. Two scenarios:
`quiet` (the clock does not move between the crawls) and `peak` (the second crawl 3 hours later,
on the afternoon of the denial, when stars, forks, issues and comments keep arriving).
The replay's rate limits are raised so the figure is about ETags, not about waiting.

    .venv/bin/python -m bench.bench_github_304
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import save
from indexer.connection import IndexNames, make_client
from indexer.templates import delete_all, init
from spreadwatch.demo.replays import github_data
from spreadwatch.replay import REPLAY_NETWORKS, ReplayServer
from spreadwatch.replay.github import GithubReplay
from spreadwatch.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
INCIDENT = ROOT / "incidents" / "bytedance-intern-2024.yml"
SCENARIOS = {
    # name: (clock at the first crawl, clock at the second crawl)
    "quiet": (datetime(2024, 10, 27, tzinfo=UTC), datetime(2024, 10, 27, tzinfo=UTC)),
    "peak": (datetime(2024, 10, 19, 6, tzinfo=UTC), datetime(2024, 10, 19, 9, tzinfo=UTC)),
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def crawl(env: dict[str, str]) -> dict[str, Any]:
    """One `crawlers.run` of the github source; its summary line."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "crawlers.run", "--incident", str(INCIDENT), "--source", "github"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        raise SystemExit(f"crawl failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    summary["wall_s"] = round(time.perf_counter() - started, 2)
    return summary


def scenario(name: str, base_env: dict[str, str]) -> dict[str, Any]:
    first_at, second_at = SCENARIOS[name]
    clock = Clock(first_at)
    with (
        ReplayServer(
            GithubReplay(github_data(), core_limit=100_000, search_limit=10_000), clock=clock
        ) as server,
        tempfile.TemporaryDirectory(prefix="bench-github-") as data_dir,
    ):
        env = {
            **base_env,
            "SPREADWATCH_GITHUB_BASE_URL": server.url,
            "SPREADWATCH_ALLOW_PRIVATE_NETWORKS": REPLAY_NETWORKS,
            "SPREADWATCH_DATA_DIR": data_dir,
        }
        first = crawl(env)
        asked = {(r.path, tuple(sorted(r.query.items()))) for r in server.requests}
        first_requests = len(server.requests)
        server.clear_log()
        clock.now = second_at
        second = crawl(env)
    repeats = [r for r in server.requests if (r.path, tuple(sorted(r.query.items()))) in asked]
    answered_304 = sum(1 for r in repeats if r.status == 304)
    return {
        "first_crawl_requests": first_requests,
        "second_crawl_requests": len(server.requests),
        "repeat_requests": len(repeats),
        "repeats_answered_304": answered_304,
        "share_304_of_repeats": round(answered_304 / len(repeats), 4) if repeats else None,
        "share_304_of_second_crawl": round(
            server.count(status=304) / max(1, len(server.requests)), 4
        ),
        "first_crawl_items": first.get("items_scraped"),
        "second_crawl_items": second.get("items_scraped"),
        "first_crawl_wall_s": first["wall_s"],
        "second_crawl_wall_s": second["wall_s"],
        "clock": [first_at.isoformat(), second_at.isoformat()],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    args = parser.parse_args(argv)
    settings = load_settings(index_prefix=f"bench-gh304-{uuid.uuid4().hex[:6]}")
    client = make_client(settings)
    names = IndexNames(settings.index_prefix)
    init(client, names)
    # The crawls get the node's URL: their data folder (crawl state) is a temporary one.
    env = {
        "SPREADWATCH_INDEX_PREFIX": settings.index_prefix,
        "SPREADWATCH_ES_URL": settings.es_url or client.transport.node_pool.get().base_url,
    }
    try:
        figures = {name: scenario(name, env) for name in args.scenario or list(SCENARIOS)}
    finally:
        delete_all(client, names)
        client.close()
    save("bench_github_304", figures)


if __name__ == "__main__":
    main()
