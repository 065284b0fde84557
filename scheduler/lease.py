"""The standby lease: of several monitors on one cluster, the one holding it runs the jobs.

One document (`_id` `lease`, `kind: lease`) in `<prefix>-monitors` names the holder. The
heartbeat tick calls `renew()`: the holder rewrites it over the version it last wrote
(`if_seq_no`/`if_primary_term`), a standby takes it over the version it last saw once that
version has not changed for `ttl` seconds, and a race between two standbys has one winner.

Expiry never compares two hosts' clocks: a standby measures, on its own monotonic clock, how long
the document has stayed the same version; the holder counts itself the holder only until `ttl`
after its own last successful write, which always comes before any standby saw that version. So
the old holder has stopped starting jobs by the time a standby may take over, even when only the
holder has lost the cluster. The `expires` field is for people and `status`, not for the logic.
A clean stop releases the lease, so the standby takes over at its next tick.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from indexer import versioned
from indexer.connection import IndexNames
from indexer.versioned import VersionConflictError, Versioned
from spreadwatch.clock import Clock, utc_now

logger = logging.getLogger(__name__)

LEASE_ID = "lease"
LEASE_KIND = "lease"

Monotonic = Callable[[], float]


@dataclass
class Lease:
    """This monitor's view of the lease; `renew()` once per heartbeat tick."""

    client: Elasticsearch
    names: IndexNames
    holder: str
    ttl: float = 15.0
    clock: Clock = utc_now
    monotonic: Monotonic = time.monotonic
    #: Until when (monotonic) this monitor may start jobs: `ttl` after its last renewal.
    _held_until: float | None = None
    _mine: Versioned | None = None
    #: The other holder's version last seen, and since when (monotonic) it has not changed.
    _seen: tuple[tuple[int, int], float] | None = None
    _listeners: list[Callable[[bool], None]] = field(default_factory=list)
    #: The role the listeners were last told (True: active).
    _reported: bool = False

    def on_change(self, listener: Callable[[bool], None]) -> None:
        """Call `listener(True)` when this monitor becomes the holder, `listener(False)` when
        it stops being one."""
        self._listeners.append(listener)

    def held(self) -> bool:
        """True while this monitor may start jobs."""
        return self._held_until is not None and self.monotonic() < self._held_until

    def renew(self) -> bool:
        """Keep, take or wait for the lease; returns whether this monitor holds it now."""
        try:
            self._renew()
        except VersionConflictError:
            logger.info("lease taken by another monitor first")
            self._mine = None
            self._held_until = None
        except (ApiError, TransportError) as error:
            # Unknown: keep counting down; past ttl without a renewal this monitor stops.
            logger.warning("lease not renewed (%s)", error)
        now_held = self.held()
        if now_held != self._reported:  # told as a role change, even if it lapsed in between
            self._reported = now_held
            logger.warning("this monitor is %s", "now ACTIVE" if now_held else "now STANDBY")
            for listener in list(self._listeners):
                listener(now_held)
        return now_held

    def release(self) -> None:
        """Give the lease up (clean stop), so a standby takes over without waiting `ttl`."""
        mine, self._mine, self._held_until, self._reported = self._mine, None, None, False
        if mine is None:
            return
        try:
            versioned.delete(self.client, self.names.monitors, LEASE_ID, mine)
        except (ApiError, TransportError) as error:
            logger.warning(
                "lease not released (%s); a standby takes over after %.0fs", error, self.ttl
            )

    # -- the decision -------------------------------------------------------------------------

    def _renew(self) -> None:
        stored = versioned.read(self.client, self.names.monitors, LEASE_ID)
        if stored is None:
            self._take(None, "no monitor held it")
        elif self._mine is not None and stored.version == self._mine.version:
            self._take(stored, "")  # ours, unchanged: renew
        elif stored.source.get("holder") == self.holder and self._mine is None:
            self._take(stored, "it still named this monitor")
        else:
            self._wait_or_take(stored)

    def _wait_or_take(self, stored: Versioned) -> None:
        """Someone else's lease: take it once its version stayed the same for `ttl` seconds."""
        self._mine = None
        self._held_until = None
        now = self.monotonic()
        if self._seen is None or self._seen[0] != stored.version:
            self._seen = (stored.version, now)
            return
        if now - self._seen[1] >= self.ttl:
            self._take(stored, f"{stored.source.get('holder')} stopped renewing it")

    def _take(self, over: Versioned | None, why: str) -> None:
        started = self.monotonic()
        now = self.clock()
        acquired = over.source.get("acquired") if over and not why else now.isoformat()
        document = {
            "@timestamp": now.isoformat(),
            "kind": LEASE_KIND,
            "holder": self.holder,
            "acquired": acquired,
            "expires": (now + timedelta(seconds=self.ttl)).isoformat(),
            "ttl_s": self.ttl,
        }
        self._mine = versioned.write(
            self.client, self.names.monitors, LEASE_ID, document, over, refresh=True
        )
        self._held_until = started + self.ttl
        self._seen = None
        if why:
            logger.warning("lease acquired by %s: %s", self.holder, why)


def lease_document(client: Elasticsearch, names: IndexNames) -> dict[str, Any] | None:
    """Who runs the jobs of this cluster's monitors, as stored (for `status`)."""
    try:
        found = versioned.read(client, names.monitors, LEASE_ID)
    except (ApiError, TransportError):
        return None
    return found.source if found else None
