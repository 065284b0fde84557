"""A real Scrapyd daemon (scrapyd from PyPI) on a free loopback port, in its own folder.

It runs in its own process group with the crawl settings it is given and its own data folder
(its host's spool), as a Scrapyd host would. `stop_hard()` kills the group — the daemon and its
crawls — as a lost host goes. The fixture is in `conftest_scrapyd.py`. `ScrapydGateway` stands in
front of one, as nginx or an ingress does in production.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from spreadwatch.replay import ReplayApp, ReplayRequest, Reply, faults

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


class ScrapydGateway(ReplayApp):
    """A reverse proxy in front of one Scrapyd, served by a `ReplayServer` (which logs what it
    answered): every request is passed to the daemon and its answer back, and when the daemon
    does not take the connection the gateway answers 502 with its own page, as nginx does (504
    when it does not answer in time). `ReplayServer.script(...)` with `faults.gateway_error`
    makes it answer so while the daemon is up (a blip). While `stale_end` is set, a job the
    daemon reports finished is passed on as still running (a cache serving an old answer): the
    monitor does not learn the crawl ended."""

    name = "scrapyd-gateway"

    def __init__(self, upstream: str, timeout: float = 120) -> None:
        super().__init__()
        self.upstream = upstream
        self.timeout = timeout
        self.stale_end = threading.Event()

    def dispatch(self, request: ReplayRequest) -> Reply:
        passed = {
            k: v for k, v in request.headers.items() if k in ("content-type", "authorization")
        }
        try:
            answer = requests.request(
                request.method,
                f"{self.upstream}{request.path}",
                params=request.query_lists,
                data=request.body or None,
                headers=passed,
                timeout=self.timeout,
            )
        except requests.Timeout:
            return faults.gateway_error(504)
        except requests.ConnectionError:
            return faults.gateway_error(502)
        body = answer.content
        if self.stale_end.is_set() and request.path == "/status.json":
            found = answer.json()
            if found.get("currstate") == "finished":
                body = json.dumps({**found, "currstate": "running"}).encode()
        content_type = answer.headers.get("content-type", "")
        return Reply(answer.status_code, body, content_type=content_type, etag=False)
