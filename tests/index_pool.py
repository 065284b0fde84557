"""Initialised index sets reused across tests, emptied in between.

Creating a prefix's six indices, templates and aliases costs seconds on a busy node (each is a
cluster-state update) and deleting them again as much; emptying them costs a search and a bulk
delete per index. A set goes back to the pool only when nothing but documents changed: its
indices, aliases, mappings and settings must equal what `init` made (a test that migrated,
remapped or blocked an index gets its set deleted instead), and it must be empty afterwards.
"""

from __future__ import annotations

import uuid
from typing import Any

from elasticsearch import Elasticsearch, helpers

from indexer.connection import IndexNames
from indexer.templates import delete_all, init

#: Settings that differ between two identical indices.
_VOLATILE = {"creation_date", "uuid", "version", "provided_name"}


def schema(client: Elasticsearch, names: IndexNames) -> dict[str, Any]:
    """Everything about a prefix's indices except their documents."""
    found = client.indices.get(index=f"{names.prefix}-*", allow_no_indices=True)
    shape = {}
    for index, body in found.items():
        settings = {
            k: v for k, v in body.get("settings", {}).get("index", {}).items() if k not in _VOLATILE
        }
        shape[index] = {
            "aliases": body.get("aliases"),
            "mappings": body.get("mappings"),
            "settings": settings,
        }
    return shape


def document_count(client: Elasticsearch, names: IndexNames) -> int:
    client.indices.refresh(index=names.all(), ignore_unavailable=True)
    return int(client.count(index=names.all(), ignore_unavailable=True)["count"])


def empty(client: Elasticsearch, names: IndexNames) -> None:
    """Delete every document under `names` (the node has no delete-by-query: ids, then bulk)."""
    client.indices.refresh(index=names.all(), ignore_unavailable=True)
    for alias in names.all():
        hits = client.search(index=alias, size=10_000, source=False)["hits"]["hits"]
        actions = [{"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]} for h in hits]
        if actions:
            helpers.bulk(client, actions, refresh=True)


class IndexPool:
    """Hands out one clean, initialised index set per test."""

    def __init__(self, client: Elasticsearch, session_prefix: str) -> None:
        self.client = client
        self.session_prefix = session_prefix
        self._free: list[IndexNames] = []
        self._made: dict[str, dict[str, Any]] = {}

    def take(self) -> IndexNames:
        while self._free:
            names = self._free.pop()
            if document_count(self.client, names) == 0:  # nothing arrived late
                return names
            self._discard(names)
        names = IndexNames(f"{self.session_prefix}-{uuid.uuid4().hex[:6]}")
        init(self.client, names)
        self._made[names.prefix] = schema(self.client, names)
        return names

    def give_back(self, names: IndexNames) -> None:
        try:
            reusable = schema(self.client, names) == self._made[names.prefix]
            if reusable:
                empty(self.client, names)
                reusable = document_count(self.client, names) == 0
        except Exception:  # the node is gone or the set is broken: never reuse it
            reusable = False
        if reusable:
            self._free.append(names)
        else:
            self._discard(names)

    def close(self) -> None:
        for names in self._free:
            self._discard(names)
        self._free.clear()

    def _discard(self, names: IndexNames) -> None:
        self._made.pop(names.prefix, None)
        delete_all(self.client, names)
