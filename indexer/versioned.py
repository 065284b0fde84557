"""Documents written with optimistic concurrency: read with their version, write only over it.

Elasticsearch's `if_seq_no` / `if_primary_term` make a write succeed only when the document is
still the one that was read; `op_type=create` only when there is none yet. Two processes racing
for the same document (two monitors for the standby lease, two crawls committing the same crawl
state) thus never overwrite each other silently: the loser gets `VersionConflictError` and re-reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

#: The error type of a write refused because the document is not the version read (a bulk
#: item's `error.type`, status 409).
CONFLICT = "version_conflict_engine_exception"


class VersionConflictError(RuntimeError):
    """Someone else wrote the document since it was read (or created it first)."""


@dataclass(frozen=True)
class Versioned:
    """A document's source with the version it was read at."""

    source: dict[str, Any]
    seq_no: int
    primary_term: int

    @property
    def version(self) -> tuple[int, int]:
        return (self.seq_no, self.primary_term)


def read(client: Elasticsearch, index: str, doc_id: str) -> Versioned | None:
    """The document as of now (a realtime get, not a search), or None when there is none."""
    try:
        found = client.get(index=index, id=doc_id, realtime=True)
    except NotFoundError:
        return None
    return Versioned(dict(found["_source"]), int(found["_seq_no"]), int(found["_primary_term"]))


def write(
    client: Elasticsearch,
    index: str,
    doc_id: str,
    document: dict[str, Any],
    over: Versioned | None,
    *,
    refresh: bool = False,
) -> Versioned:
    """Write `document` over the version read (`over`), or create it when `over` is None."""
    options = {k.lstrip("_"): v for k, v in bulk_condition(over).items()}
    try:
        result = client.index(index=index, id=doc_id, document=document, refresh=refresh, **options)
    except ConflictError as error:
        raise VersionConflictError(f"{index}/{doc_id} changed since it was read") from error
    return Versioned(document, int(result["_seq_no"]), int(result["_primary_term"]))


def bulk_condition(over: Versioned | None) -> dict[str, Any]:
    """A bulk action's part that makes it write only over the version read (`over`), or only
    create the document when `over` is None: a refusal is a `409` version conflict."""
    if over is None:
        return {"_op_type": "create"}
    return {"if_seq_no": over.seq_no, "if_primary_term": over.primary_term}


def delete(client: Elasticsearch, index: str, doc_id: str, over: Versioned) -> bool:
    """Delete the document if it is still the version read; False when it changed or is gone."""
    try:
        client.delete(
            index=index,
            id=doc_id,
            if_seq_no=over.seq_no,
            if_primary_term=over.primary_term,
            refresh=True,
        )
    except (ConflictError, NotFoundError):
        return False
    return True
