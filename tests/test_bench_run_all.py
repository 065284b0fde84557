"""bench/run_all.py renders docs/benchmarks.md honestly: figures, machine, failures, missing results."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parent.parent / "bench" / "run_all.py"
_SPEC = importlib.util.spec_from_file_location("bench_run_all", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
run_all = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(run_all)

RESULT = {
    "benchmark": "bench_cold_start",
    "machine": {
        "cores": 2,
        "ram_gib": 23.5,
        "cpu": "Xeon",
        "python": "3.11.7",
        "load_1m": 1.0,
        "when": "t",
    },
    "figures": {"cold_start_to_healthy_s_median": 13.74, "rounds_s": [15.7, 12.0]},
}


def test_figures_and_machine_are_rendered() -> None:
    text = run_all.render({"bench_cold_start": RESULT}, {})
    assert "| cold_start_to_healthy_s_median | 13.74 |" in text
    assert "| rounds_s | 15.7, 12.0 |" in text
    assert "2 cores, 23.5 GiB RAM, Xeon" in text


def test_a_failed_run_is_said_to_have_failed() -> None:
    text = run_all.render(
        {"bench_cold_start": RESULT}, {"bench_cold_start": {"exit": 1, "wall_s": 3}}
    )
    assert "**This run failed** (exit 1)" in text


def test_a_benchmark_without_result_is_listed_as_such() -> None:
    text = run_all.render({}, {"bench_never": {"exit": "timed out after 5s", "wall_s": 5}})
    assert "## bench_never" in text
    assert "No result yet." in text
    assert "**This run failed** (exit timed out after 5s)" in text
