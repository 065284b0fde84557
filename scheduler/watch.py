"""Noticing incident files that were added, edited or removed, without a restart.

Polling modification times every few seconds is enough for files people edit by hand, and works
the same on every filesystem (inotify does not see edits on network mounts).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from spreadwatch.incident import incident_files

logger = logging.getLogger(__name__)

Snapshot = dict[Path, tuple[int, int]]


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
