"""Crawl state in Elasticsearch: any host can run any crawl, and two crawls never undo each other.

One document per (incident, source) in `<prefix>-state` holds the state's stored form
(`CrawlState.to_dict()`: validators, cursors, since-values, seen ids, spider extras such as
GitHub's followed repos). A commit reads the document with its version, applies the delta and
writes it back only over that version (`indexer.versioned`); when another crawl wrote first,
it re-reads and re-applies the delta (applying is pure), so concurrent commits both count.

The cluster being unreachable never costs an item: `load` then starts from an empty state (the
crawl fetches again; ids dedupe) and `commit` skips the delta (the next run fetches that part
again) — the documents themselves are spooled by the writer as always.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from crawlers.state import CrawlState, FileStateStore, StateConflictError, StateDelta, StateStore
from indexer import versioned
from indexer.connection import ConnectionFailedError, IndexNames, make_client
from indexer.embedded import EmbeddedNodeError
from indexer.templates import init
from indexer.versioned import VersionConflictError
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)

#: Re-reads after a version conflict before a commit gives up (`StateConflictError`).
ATTEMPTS = 8
#: What "the cluster cannot be used now" looks like: refused or unanswered requests, and a
#: client that cannot be made (no reachable node; an embedded node that does not start).
UNREACHABLE = (ApiError, TransportError, ConnectionFailedError, EmbeddedNodeError, OSError)


def state_id(incident_id: str, source: str) -> str:
    return f"{incident_id}:{source}"


class EsStateStore:
    """`StateStore` on the cluster; thread-safe (commits run on the writer's thread)."""

    def __init__(self, settings: Settings, client: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.names = IndexNames(settings.index_prefix)
        self._client = client
        self._ready = False
        self._lock = threading.Lock()

    def load(self, incident_id: str, source: str) -> CrawlState:
        try:
            found = versioned.read(
                self._connected(), self.names.state, state_id(incident_id, source)
            )
        except UNREACHABLE as error:
            logger.warning(
                "crawl state of %s/%s not loaded (%s); this crawl starts afresh",
                incident_id,
                source,
                error,
            )
            return CrawlState()
        return CrawlState.from_dict(found.source.get("state") or {}) if found else CrawlState()

    def commit(self, incident_id: str, source: str, delta: StateDelta) -> None:
        if not delta:
            return
        doc_id = state_id(incident_id, source)
        try:
            client = self._connected()
            self._ensure_index(client)
            for attempt in range(ATTEMPTS):
                found = versioned.read(client, self.names.state, doc_id)
                stored = (found.source.get("state") or {}) if found else {}
                state = delta.apply(CrawlState.from_dict(stored))
                try:
                    versioned.write(
                        client,
                        self.names.state,
                        doc_id,
                        self._document(incident_id, source, state),
                        found,
                    )
                    return
                except VersionConflictError:
                    # Another crawl of this source committed first: re-read, re-apply.
                    time.sleep(random.uniform(0, 0.05 * (attempt + 1)))
        except UNREACHABLE as error:
            logger.warning(
                "crawl state of %s/%s not committed (%s); the next run fetches that part again",
                incident_id,
                source,
                error,
            )
            return
        raise StateConflictError(f"crawl state {doc_id}: {ATTEMPTS} concurrent writes won first")

    def _document(self, incident_id: str, source: str, state: CrawlState) -> dict[str, Any]:
        return {
            "@timestamp": datetime.now(UTC).isoformat(),
            "incident": incident_id,
            "source": source,
            "state": state.to_dict(),
        }

    def _connected(self) -> Elasticsearch:
        with self._lock:
            if self._client is None:
                self._client = make_client(self.settings)
            return self._client

    def _ensure_index(self, client: Elasticsearch) -> None:
        """The state alias before the first write (else a write would create a plain index)."""
        with self._lock:
            if self._ready:
                return
            if not client.indices.exists_alias(name=self.names.state):
                init(client, self.names)
            self._ready = True


def state_store(settings: Settings, client: Elasticsearch | None = None) -> StateStore:
    """The configured store: Elasticsearch (`<prefix>-state`) unless `SPREADWATCH_STATE_STORE`
    is `file`, for a single host that wants its state beside its spool."""
    if settings.state_store == "file":
        return FileStateStore(settings.data_dir)
    return EsStateStore(settings, client)
