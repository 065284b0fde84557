"""Monitor heartbeats in `<prefix>-monitors`: written by a running monitor, read by `status`.

A heartbeat is one document per (host, job store), rewritten every tick, so a restarted monitor
replaces its own record and the index never grows. A monitor that stops cleanly marks its record
`stopped`; one that is killed simply stops ticking, and `status` sees its `last_tick` age.
Other documents (a standby lease) may share the index: every read here filters on `kind`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError
from elasticsearch.dsl import Search

from indexer.connection import IndexNames

HEARTBEAT = "heartbeat"
#: A heartbeat older than this many intervals (plus `SLACK`) means the monitor is gone.
MISSED_TICKS = 3
SLACK = timedelta(seconds=5)


def heartbeat_id(host: str, job_store: str) -> str:
    """One record per host and job store: a restart overwrites, two stores do not collide."""
    digest = hashlib.sha1(job_store.encode("utf-8")).hexdigest()[:12]
    return f"{HEARTBEAT}:{host}:{digest}"


def write_heartbeat(
    client: Elasticsearch, names: IndexNames, doc_id: str, doc: dict[str, Any]
) -> None:
    """Store one tick; refreshed at once so `status` right after sees it."""
    client.index(index=names.monitors, id=doc_id, document={**doc, "kind": HEARTBEAT}, refresh=True)


@dataclass(frozen=True)
class Liveness:
    """What one heartbeat record says at `now`."""

    doc: dict[str, Any]
    last_tick: datetime
    alive: bool

    @property
    def host(self) -> str:
        return str(self.doc.get("host") or "?")

    @property
    def started(self) -> datetime | None:
        value = self.doc.get("started")
        return _time(value) if value else None


def _time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def liveness(doc: dict[str, Any], now: datetime) -> Liveness:
    """Alive = not stopped and ticked within `MISSED_TICKS` intervals (+ `SLACK`: a busy
    machine delays a tick by a few seconds without the monitor being gone)."""
    last = _time(doc["@timestamp"])
    allowed = timedelta(seconds=float(doc.get("interval_s") or 5.0) * MISSED_TICKS) + SLACK
    alive = doc.get("state") == "running" and now - last <= allowed
    return Liveness(doc, last, alive)


def heartbeats(
    client: Elasticsearch, names: IndexNames, job_store: str | None = None, size: int = 50
) -> list[dict[str, Any]]:
    """Heartbeat records, newest tick first (only those of `job_store` when given)."""
    search = Search(using=client, index=names.monitors).filter("term", kind=HEARTBEAT)
    if job_store is not None:
        search = search.filter("term", job_store=job_store)
    search = search.sort("-@timestamp").extra(size=size)
    try:
        return [{"_id": hit.meta.id, **hit.to_dict()} for hit in search.execute()]
    except NotFoundError:  # never initialised: no monitor ever ran against this cluster
        return []
