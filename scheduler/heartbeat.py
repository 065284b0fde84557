"""The monitor's heartbeat: every few seconds, who is running, since when, holding which jobs.

It runs on its own thread rather than as an APScheduler job: a job waits for a free worker and
is skipped when busy, and a heartbeat that stops while the monitor is alive would be a lie.
Each tick writes the record (`indexer.monitors`), then calls the tick hooks (a standby lease is
renewed by one); a failed write is logged and retried on the next tick, never fatal.

API for other parts of the monitor: `Heartbeat(client, names, identity, snapshot, interval)`,
`add_hook(fn)` (fn(now) runs after each successful write), `start()`, `tick()`, `stop()`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from indexer.connection import IndexNames
from indexer.monitors import heartbeat_id, write_heartbeat
from spreadwatch.clock import Clock, utc_now

logger = logging.getLogger(__name__)

TickHook = Callable[[datetime], None]


@dataclass(frozen=True)
class Identity:
    """Who this monitor is: host, pid, version and the job store it runs."""

    host: str
    pid: int
    version: str
    job_store: str

    @classmethod
    def current(cls, job_store: str) -> Identity:
        from spreadwatch import __version__  # noqa: PLC0415 - the package's own metadata

        return cls(socket.gethostname(), os.getpid(), __version__, job_store)

    @property
    def monitor_id(self) -> str:
        return f"{self.host}:{self.pid}"


@dataclass
class Heartbeat:
    client: Elasticsearch
    names: IndexNames
    identity: Identity
    #: What the monitor holds right now: {"jobs": [...], "incident_errors": [...], ...}.
    snapshot: Callable[[], dict[str, Any]]
    interval: float = 5.0
    clock: Clock = utc_now
    started: datetime = field(default_factory=utc_now)
    _hooks: list[TickHook] = field(default_factory=list)
    _last_snapshot: dict[str, Any] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def doc_id(self) -> str:
        return heartbeat_id(self.identity.host, self.identity.job_store)

    def add_hook(self, hook: TickHook) -> None:
        """Run `hook(now)` after every successful tick (e.g. renew a lease)."""
        self._hooks.append(hook)

    def start(self) -> None:
        self.started = self.clock()
        self.tick()
        self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking and mark the record stopped (a clean exit is not a crash)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
        self._write("stopped")

    def tick(self) -> bool:
        """Write the record now and run the hooks; False when Elasticsearch refused it."""
        now = self._write("running")
        if now is None:
            return False
        for hook in list(self._hooks):
            try:
                hook(now)
            except Exception:
                logger.exception("heartbeat hook %r failed", hook)
        return True

    def _write(self, state: str) -> datetime | None:
        now = self.clock()
        if state == "running":
            self._last_snapshot = self.snapshot()
        # A stopped monitor's record keeps what it last held (its scheduler is closed by now).
        doc = {
            "@timestamp": now.isoformat(),
            "monitor_id": self.identity.monitor_id,
            "host": self.identity.host,
            "pid": self.identity.pid,
            "version": self.identity.version,
            "job_store": self.identity.job_store,
            "state": state,
            "started": self.started.isoformat(),
            "interval_s": self.interval,
            **self._last_snapshot,
        }
        if state == "stopped":
            doc["stopped"] = now.isoformat()
        try:
            write_heartbeat(self.client, self.names, self.doc_id, doc)
        except (ApiError, TransportError) as error:
            logger.warning("heartbeat not written (%s); retrying in %.0fs", error, self.interval)
            return None
        return now

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()
