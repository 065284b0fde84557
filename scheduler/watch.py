"""Noticing incident files that were added, edited or removed, without a restart.

Polling modification times every few seconds is enough for files people edit by hand, and works
the same on every filesystem (inotify does not see edits on network mounts).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

Snapshot = dict[Path, tuple[int, int]]


def incident_files(paths: Sequence[Path]) -> list[Path]:
    """Every incident file named, or inside a named folder (*.yml, *.yaml), each once: a file
    named both itself and through its folder is one incident, not two with the same id."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.y*ml") if p.is_file()))
        elif path.is_file():
            files.append(path)
    return list(dict.fromkeys(f.resolve() for f in files))


def snapshot(paths: Sequence[Path]) -> Snapshot:
    state: Snapshot = {}
    for file in incident_files(paths):
        try:
            info = file.stat()
        except FileNotFoundError:
            continue
        state[file] = (info.st_mtime_ns, info.st_size)
    return state


class FileWatcher:
    """Calls `on_change` when the set of incident files or any file's content changes."""

    def __init__(
        self,
        paths: Sequence[Path],
        on_change: Callable[[], None],
        interval: float,
        stopping: threading.Event,
    ) -> None:
        self.paths = paths
        self.on_change = on_change
        self.interval = interval
        self.stopping = stopping
        self._thread = threading.Thread(target=self._loop, name="incident-watcher", daemon=True)

    def start(self) -> None:
        self._last = snapshot(self.paths)
        self._thread.start()

    def join(self) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 5)

    def check(self) -> bool:
        """Reload if anything changed since the last look; True when it did."""
        current = snapshot(self.paths)
        if current == self._last:
            return False
        self._last = current
        logger.info("incident files changed; reloading")
        try:
            self.on_change()
        except Exception:
            logger.exception("reloading incident files failed; will try again on the next change")
        return True

    def _loop(self) -> None:
        while not self.stopping.wait(self.interval):
            self.check()
