"""The crawlers' egg: what `spreadwatch scrapyd deploy` uploads to every Scrapyd daemon."""

from __future__ import annotations

import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from crawlers.deploy import build_egg


def _names(egg: Path) -> set[str]:
    with zipfile.ZipFile(egg) as archive:
        return set(archive.namelist())


def test_the_egg_holds_the_crawlers_and_what_they_import(tmp_path: Path) -> None:
    names = _names(build_egg(tmp_path / "spreadwatch.egg"))
    assert {"crawlers/settings.py", "indexer/writer.py", "spreadwatch/settings.py"} <= names
    assert not any(name.startswith("tests/") for name in names)


def test_builds_from_one_checkout_at_once_all_succeed(tmp_path: Path) -> None:
    # bdist_egg writes build/ inside the tree: unheld, two of three such builds failed.
    targets = [tmp_path / f"egg-{n}" / "spreadwatch.egg" for n in range(3)]
    for target in targets:
        target.parent.mkdir()
    with ThreadPoolExecutor(len(targets)) as pool:
        eggs = list(pool.map(build_egg, targets))
    assert eggs == targets
    assert all("crawlers/settings.py" in _names(egg) for egg in eggs)
