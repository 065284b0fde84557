"""A real Scrapyd daemon (scrapyd from PyPI) on a free loopback port, in its own folder.

It runs in its own process group with the crawl settings it is given and its own data folder
(its host's spool), as a Scrapyd host would. `stop_hard()` kills the group — the daemon and its
crawls — as a lost host goes. The fixture is in `conftest_scrapyd.py`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

CONFIG = """\
[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
poll_interval = 0.5
max_proc = 4
eggs_dir = {home}/eggs
logs_dir = {home}/logs
dbs_dir = {home}/dbs
items_dir =
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Daemon:
    home: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def job_logs(self) -> list[Path]:
        """One log file per crawl this daemon started (kept on disk after a kill)."""
        return sorted((self.home / "logs").rglob("*.log"))

    def stop_hard(self) -> None:
        with_group = self.process.poll() is None
        if with_group:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.stop_hard()
        # Crawls it started live in its group; none may outlive the test.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/daemonstatus.json", timeout=2).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"Scrapyd at {url} did not start within {timeout:.0f}s")
