"""The monitor's incident registry when several jobs of one incident load its file at once.

A monitor runs an incident's crawl jobs (one per source), its recheck, alert, digest and report
jobs on a pool of worker threads, and its file watcher in another thread: each loads the incident
file, which keeps the last good copy (`IncidentRegistry._remember`). Two jobs of one incident are
often started by the same scheduler wake-up, so two threads write that copy at the same moment.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scheduler_support import write_incident

from scheduler.incidents import IncidentRegistry
from spreadwatch.incident import Incident


def load_together(registry: IncidentRegistry, path: Path, threads: int) -> list[Any]:
    """`registry.load(path)` in `threads` threads; what each returned, or the error it raised."""
    results: list[Any] = [None] * threads

    def load(number: int) -> None:
        try:
            results[number] = registry.load(path)
        except Exception as error:  # what the job would have died of
            results[number] = error

    workers = [threading.Thread(target=load, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return results


def test_two_jobs_loading_one_incident_at_the_same_moment_both_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_incident(tmp_path)
    registry = IncidentRegistry(tmp_path / "last-good", lambda: datetime.now(UTC))
    # Both threads have written their copy before either puts it in place: the interleaving a
    # loaded machine makes likely (the monitor's crawl:inc-10:feeds and recheck:inc-10 started
    # 3 ms apart, and the crawl died of FileNotFoundError on the shared temporary file).
    both_copied = threading.Barrier(2, timeout=10)
    copyfile: Callable[..., Any] = shutil.copyfile

    def copy_then_wait(source: Any, target: Any, **options: Any) -> Any:
        done = copyfile(source, target, **options)
        both_copied.wait()
        return done

    monkeypatch.setattr(shutil, "copyfile", copy_then_wait)

    results = load_together(registry, path, threads=2)

    monkeypatch.undo()
    assert [type(result) for result in results] == [Incident, Incident]
    assert {result.id for result in results} == {"bytedance-intern-2024"}
    copy = registry.crawl_path(path)
    assert copy != path.resolve() and copy.read_bytes() == path.read_bytes()
    assert sorted(p.name for p in registry.folder.iterdir()) == [copy.name]  # no temporary left


def test_many_jobs_loading_one_incident_all_get_it_and_the_copy_stays_whole(
    tmp_path: Path,
) -> None:
    path = write_incident(tmp_path)
    registry = IncidentRegistry(tmp_path / "last-good", lambda: datetime.now(UTC))
    for _round in range(20):
        results = load_together(registry, path, threads=8)
        assert [type(result) for result in results] == [Incident] * 8
    copy = registry.crawl_path(path)
    assert copy.read_bytes() == path.read_bytes()
    assert sorted(p.name for p in registry.folder.iterdir()) == [copy.name]


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        ("start: 2024-10-17T00:00:00Z", "start: 2024-02-30T00:00:00Z"),
        ("queries:", "[zh, en]: 1\nqueries:"),
    ],
    ids=["february-30", "list-as-key"],
)
def test_an_edit_python_cannot_read_runs_the_last_good_version_and_is_a_problem(
    tmp_path: Path, good: str, bad: str
) -> None:
    path = write_incident(tmp_path)
    registry = IncidentRegistry(tmp_path / "last-good", lambda: datetime.now(UTC))
    assert registry.load(path) is not None
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(good, bad), encoding="utf-8")
    line = text.splitlines().index(next(r for r in text.splitlines() if good in r)) + 1

    running = registry.load(path)

    assert running is not None and running.id == "bytedance-intern-2024"
    problem = registry.problem(path)
    assert problem is not None and f"{path.resolve()}:{line}: " in problem.error


def test_an_edit_saved_between_validating_and_copying_never_becomes_the_last_good_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The monitor validates the file, then copies it: a person saving a typo in between (the
    airline scenario's 'a typo while running') must not put the typo in the copy every crawl
    reads, or every crawl fails on it until the file is mended."""
    path = write_incident(tmp_path)
    registry = IncidentRegistry(tmp_path / "last-good", lambda: datetime.now(UTC))
    assert registry.load(path) is not None
    good = path.read_bytes()
    copyfile: Callable[..., Any] = shutil.copyfile

    def saved_meanwhile(source: Any, target: Any, **options: Any) -> Any:
        Path(source).write_text(good.decode().replace("queries:", "[zh, en]: 1\nqueries:"))
        return copyfile(source, target, **options)

    monkeypatch.setattr(shutil, "copyfile", saved_meanwhile)
    registry.load(path)
    monkeypatch.undo()

    assert registry.crawl_path(path).read_bytes() == good
    assert sorted(p.name for p in registry.folder.iterdir()) == [registry.crawl_path(path).name]
