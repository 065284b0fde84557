"""The labelled sets that were frozen before anything ran on them stay as they were frozen.

A probe's figure is worth something only while nobody has edited a post or a label after seeing
what a head did with it. data/stance/README.md records, for each frozen set, the sha256 of the
file as it was committed; this reads those records from the README (not from any code under
test) and hashes the files.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

STANCE_DATA = Path(__file__).resolve().parent.parent / "data" / "stance"
README = STANCE_DATA / "README.md"

#: One bullet of the README: `- `name.jsonl` — …` up to the next bullet or blank line.
_BULLET = re.compile(r"^- `(?P<head>[^`]+\.jsonl)`.*?(?=^- |^\s*$)", re.MULTILINE | re.DOTALL)
_FILE = re.compile(r"`([\w-]+\.jsonl)`")
#: A recorded hash, whole or cut with an ellipsis.
_SHA = re.compile(r"sha256\s+`([0-9a-f]{16,64})…?`|`([0-9a-f]{64})`")


def recorded_hashes(readme: str) -> dict[str, str]:
    """File → recorded sha256 (or its prefix), from every README bullet that records one.

    A bullet naming several sets (`unseen9.jsonl` … and `unseen10.jsonl` …) records their
    hashes in the same order as it first names the files.
    """
    found: dict[str, str] = {}
    for bullet in _BULLET.finditer(readme):
        text = bullet.group(0)
        hashes = [a or b for a, b in _SHA.findall(text)]
        if not hashes:
            continue
        described = [name for name in dict.fromkeys(_FILE.findall(text)) if name != "train.jsonl"]
        named = described[: len(hashes)]
        found.update(zip(named, hashes, strict=True))
    return found


RECORDED = recorded_hashes(README.read_text(encoding="utf-8"))


def test_the_readme_records_a_hash_for_the_held_out_set_and_every_unseen_probe() -> None:
    probes = {p.name for p in STANCE_DATA.glob("unseen*.jsonl")}
    assert probes | {"holdout.jsonl"} <= set(RECORDED)


@pytest.mark.parametrize(("name", "recorded"), sorted(RECORDED.items()))
def test_a_frozen_set_hashes_to_what_the_readme_recorded_when_it_was_frozen(
    name: str, recorded: str
) -> None:
    digest = hashlib.sha256((STANCE_DATA / name).read_bytes()).hexdigest()
    assert digest.startswith(recorded), f"{name} changed after it was frozen"


def test_a_bullet_naming_two_sets_pairs_each_with_its_own_hash() -> None:
    bullet = (
        "- `a.jsonl` — about `a.yml`, and `b.jsonl` — about `b.yml`: frozen, sha256\n"
        "  `" + "1" * 64 + "` and\n  `" + "2" * 64 + "`. Scored once.\n\n"
    )
    assert recorded_hashes(bullet) == {"a.jsonl": "1" * 64, "b.jsonl": "2" * 64}
