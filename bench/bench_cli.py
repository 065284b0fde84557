"""CLI start-up: how long a whole `spreadwatch` process takes, as a user waits for it.

Each command is run as a new process (the console script next to this Python), the way a user
types it, and timed from spawn to exit (wall) with the CPU time the process used (user + system,
which a loaded machine does not inflate); the median of N rounds is kept. The search commands run
against the configured node (embedded by default, started once before timing, so the figures
are those of "a running node") over a throw-away index prefix holding 2,000 synthetic posts.

    .venv/bin/python -m bench.bench_cli [--rounds 7] [--before /path/to/old/checkout]

`--before` also times an older checkout of the project (same Python and packages; the editable
install's import hook is removed so that the older folder's modules are the ones imported),
round by round alternating with this one, so the before/after ratio comes from one run under
one load.

The figures to compare with issue #14: `--help` under 0.3 s, a search under 1 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import helpers

from bench.machine import save
from indexer.connection import IndexNames, make_client
from indexer.templates import delete_all, init
from spreadwatch.settings import load_settings

INCIDENT = "bench-cli"
START = datetime(2024, 10, 18, tzinfo=UTC)


#: Runs the CLI of the checkout named by argv[1] instead of the editable install's.
BEFORE_RUNNER = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in type(f).__module__]
sys.path.insert(0, sys.argv[1])
sys.argv = ["spreadwatch", *sys.argv[2:]]
from spreadwatch.cli import main
assert main.__module__ == "spreadwatch.cli" and sys.modules["spreadwatch"].__file__.startswith(
    sys.path[0]
), sys.modules["spreadwatch"].__file__
main()
"""


def executable() -> str:
    """The `spreadwatch` console script of this environment (what a user runs)."""
    beside = Path(sys.executable).parent / "spreadwatch"
    found = str(beside) if beside.exists() else shutil.which("spreadwatch")
    if not found:
        raise SystemExit("no `spreadwatch` console script: pip install -e . first")
    return found


def index_posts(prefix: str, count: int = 2000) -> None:
    settings = load_settings()
    client = make_client(settings)
    names = IndexNames(prefix)
    init(client, names)
    docs = (
        {
            "_index": names.posts,
            "_id": f"bench:{i}",
            "_source": {
                "@timestamp": (START + timedelta(minutes=7 * i)).isoformat(),
                "incident": [INCIDENT],
                "platform": ("weibo", "reddit", "github", "news")[i % 4],
                "kind": "post",
                "native_id": str(i),
                "author": {"handle": f"user{i % 300}", "followers": i * 10},
                "text": f"post {i}: the intern sabotaged 8000 H100 GPUs 实习生",
                "lang": "en",
                "stance": ("rumour", "report", "denial")[i % 3],
                "reach": i * 10,
            },
        }
        for i in range(count)
    )
    helpers.bulk(client, docs, chunk_size=1000, refresh="wait_for")
    client.close()


def drop(prefix: str) -> None:
    client = make_client(load_settings())
    delete_all(client, IndexNames(prefix))
    client.close()


def time_once(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", type=Path, help="An older checkout to compare with.")
    args = parser.parse_args()
    prefix = f"bench-cli-{uuid.uuid4().hex[:6]}"
    index_posts(prefix)
    env = {**os.environ, "SPREADWATCH_INDEX_PREFIX": prefix}
    versions = {"": ([executable()], env)}
    if args.before is not None:
        before = [sys.executable, "-c", BEFORE_RUNNER, str(args.before.resolve())]
        versions["before_"] = (before, env)
    cases = {
        "help": ["--help"],
        "search_help": ["search", "--help"],
        "report_help": ["report", "--help"],
        "search": ["search", "intern", "--incident", INCIDENT, "--limit", "20"],
        "search_json": ["search", "H100", "--incident", INCIDENT, "--format", "json"],
    }
    figures: dict[str, object] = {"rounds": args.rounds, "posts_indexed": 2000}
    try:
        for name, case in cases.items():
            walls: dict[str, list[float]] = {v: [] for v in versions}
            cpus: dict[str, list[float]] = {v: [] for v in versions}
            for _ in range(args.rounds):
                for version, (command, version_env) in versions.items():
                    wall, cpu = time_once([*command, *case], version_env)
                    walls[version].append(wall)
                    cpus[version].append(cpu)
            for version in versions:
                figures[f"{version}{name}_wall_s_median"] = _median(walls[version])
                figures[f"{version}{name}_cpu_s_median"] = _median(cpus[version])
                print(
                    f"{version}{name}: wall {_median(walls[version]):.3f}s, "
                    f"cpu {_median(cpus[version]):.3f}s (median of {args.rounds})",
                    flush=True,
                )
            if args.before is not None:
                figures[f"{name}_wall_speedup"] = round(
                    statistics.median(walls["before_"]) / statistics.median(walls[""]), 1
                )
    finally:
        drop(prefix)
    save("bench_cli", figures)


if __name__ == "__main__":
    main()
