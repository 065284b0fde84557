"""Run every benchmark in bench/ and render docs/benchmarks.md from their results.

Each `bench/bench_*.py` prints the machine and its figures and writes them to
`bench/results/<script>.json` (see `bench/machine.py`); this script runs them one after another
(one process each, so one failing benchmark does not stop the others) and renders the results —
including which ones failed or have never produced a result — into docs/benchmarks.md. Never
edit docs/benchmarks.md by hand: re-run this.

    .venv/bin/python -m bench.run_all                      # run all, then render
    .venv/bin/python -m bench.run_all --only bench_cold_start --args "--rounds 1"
    .venv/bin/python -m bench.run_all --render-only        # render from the stored results
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
DOC = ROOT / "docs" / "benchmarks.md"


def scripts(only: list[str] | None = None, skip: list[str] | None = None) -> list[str]:
    """Benchmark module names in bench/, in name order."""
    names = sorted(p.stem for p in BENCH.glob("bench_*.py"))
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; have {', '.join(names)}")
        names = [n for n in names if n in only]
    return [n for n in names if n not in (skip or [])]


def run(name: str, extra: list[str], timeout: float) -> dict[str, Any]:
    """Run one benchmark in its own process; its outcome for the document."""
    command = [sys.executable, "-m", f"bench.{name}", *extra]
    print(f"== {name}: {shlex.join(command)}", flush=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, timeout=timeout, check=False)
        code: int | str = done.returncode
    except subprocess.TimeoutExpired:
        code = f"timed out after {timeout:.0f}s"
    wall = round(time.perf_counter() - started, 1)
    print(f"== {name}: exit {code} in {wall}s", flush=True)
    return {"exit": code, "wall_s": wall}


def load_results() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(RESULTS.glob("*.json")):
        try:
            found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            found[path.stem] = {"error": f"unreadable result file: {error}"}
    return found


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k} {_value(v)}" for k, v in value.items())
    return str(value).replace("|", "\\|")


def _machine(machine: dict[str, Any]) -> str:
    return (
        f"{machine.get('cores', '?')} cores, {machine.get('ram_gib', '?')} GiB RAM, "
        f"{machine.get('cpu', '?')}, Python {machine.get('python', '?')}, "
        f"load {machine.get('load_1m', '?')}, {machine.get('when', '?')}"
    )


def _doc_line(name: str) -> str:
    """The first line of a benchmark's docstring: what it measures."""
    path = BENCH / f"{name}.py"
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8").lstrip()
    if not text.startswith('"""'):
        return ""
    return text[3:].split("\n", 1)[0].strip().rstrip('"')


def render(results: dict[str, dict[str, Any]], outcomes: dict[str, dict[str, Any]]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Rendered by `.venv/bin/python -m bench.run_all` from `bench/results/*.json`; do not edit",
        "by hand. Each benchmark prints the machine it ran on; re-run one with",
        "`.venv/bin/python -m bench.<name>`.",
        "",
        "| benchmark | measures | last run on |",
        "|---|---|---|",
    ]
    names = sorted(set(results) | set(outcomes) | set(scripts()))
    for name in names:
        machine = results.get(name, {}).get("machine")
        when = _machine(machine) if machine else "**no result yet**"
        lines.append(f"| `{name}` | {_value(_doc_line(name))} | {when} |")
    for name in names:
        lines += ["", f"## {name}", ""]
        doc = _doc_line(name)
        if doc:
            lines += [doc, ""]
        outcome = outcomes.get(name)
        if outcome is not None and outcome["exit"] != 0:
            lines += [
                f"**This run failed** (exit {outcome['exit']}); figures below, if any, are older.",
                "",
            ]
        result = results.get(name)
        if not result or "figures" not in result:
            lines.append(result.get("error", "No result yet.") if result else "No result yet.")
            continue
        lines += [
            f"Machine: {_machine(result.get('machine', {}))}",
            "",
            "| figure | value |",
            "|---|---|",
        ]
        lines += [f"| {k} | {_value(v)} |" for k, v in result["figures"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", help="run only these benchmarks (module names)")
    parser.add_argument("--skip", nargs="*", help="do not run these benchmarks")
    parser.add_argument("--args", default="", help="extra arguments passed to each benchmark run")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per benchmark")
    parser.add_argument("--render-only", action="store_true", help="only render the stored results")
    args = parser.parse_args(argv)
    outcomes: dict[str, dict[str, Any]] = {}
    if not args.render_only:
        for name in scripts(args.only, args.skip):
            outcomes[name] = run(name, shlex.split(args.args), args.timeout)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(load_results(), outcomes), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    failed = [n for n, o in outcomes.items() if o["exit"] != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
