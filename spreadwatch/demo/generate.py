"""Deterministic generator of the reconstructed founding-case dataset (`python -m spreadwatch.demo.generate`).

One seed, one output: `data/<platform>.jsonl` (one record a line, in the platform's native API
shape under `data`, with the time it was published under `at` so a replay can reveal it once its
clock has passed) and `data/truth.json` (what the story must find). The output is committed; a
test regenerates it and compares, so the generator and the data cannot drift apart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from spreadwatch.demo.context import SEED, Context, Record
from spreadwatch.demo.platforms import PLATFORM_BUILDERS
from spreadwatch.demo.truth import build_truth

DATA_DIR = Path(__file__).with_name("data")


def generate(seed: int = SEED) -> tuple[dict[str, list[Record]], dict[str, Any]]:
    """Every platform's records, and the truth computed from them."""
    ctx = Context(seed)
    records = {name: build(ctx) for name, build in PLATFORM_BUILDERS.items()}
    for items in records.values():
        items.sort(key=lambda r: (r.at, r.kind, r.id))
    return records, build_truth(records, seed)


def write(
    records: dict[str, list[Record]], truth: dict[str, Any], folder: Path = DATA_DIR
) -> list[Path]:
    """Write the compact data files and the truth; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for platform, items in records.items():
        path = folder / f"{platform}.jsonl"
        lines = (json.dumps(r.line(), ensure_ascii=False, separators=(",", ":")) for r in items)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    truth_path = folder / "truth.json"
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    written.append(truth_path)
    return written


if __name__ == "__main__":  # pragma: no cover - the committed data is regenerated this way
    for written_path in write(*generate()):
        sys.stdout.write(f"{written_path}\n")
