"""Long-running commands kept alive: started, watched, restarted with backoff, stopped cleanly.

Generic on purpose: the monitor supervises stream consumers (`spreadwatch stream ...`) by
command line, so any future consumer joins by configuration, not by code here.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Sequence

from crawlers.launch import terminate

logger = logging.getLogger(__name__)

#: A command that ran this long is considered healthy: its next failure restarts the backoff.
HEALTHY_AFTER = 60.0


class Supervisor:
    """Runs `command` in its own process group until `stop()`; restarts it when it exits."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        backoff_initial: float = 1.0,
        backoff_max: float = 300.0,
        stop_grace: float = 10.0,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.stop_grace = stop_grace
        self.restarts = 0
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._loop, name=f"supervise-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def _loop(self) -> None:
        delay = self.backoff_initial
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self._process = subprocess.Popen(self.command, start_new_session=True)
            except OSError:
                logger.exception("%s: cannot start %s", self.name, self.command[0])
            else:
                logger.info("%s started (pid %s)", self.name, self._process.pid)
                code = self._process.wait()
                if self._stopping.is_set():
                    break
                logger.warning("%s exited with code %s", self.name, code)
            if time.monotonic() - started > HEALTHY_AFTER:
                delay = self.backoff_initial
            self.restarts += 1
            logger.info("%s restarts in %.1fs", self.name, delay)
            if self._stopping.wait(delay):
                break
            delay = min(delay * 2, self.backoff_max)

    def stop(self) -> None:
        """Ask the process to end (SIGTERM to its group), kill it after the grace period."""
        self._stopping.set()
        process = self._process
        if process is not None and process.poll() is None:
            terminate(process, self.stop_grace)
        self._thread.join(timeout=self.stop_grace + 5)
