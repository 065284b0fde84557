"""The learned stance head as a step after indexing (`SPREADWATCH_STANCE_DEFERRED`, the default).

Labelling each writer batch with the head before it is written made the ingest a third slower
(docs/benchmarks.md, `bench_ingest`). Deferred, a crawl or the stream writes every post with
the lexicon's label at once, marked `stance_pending`, and the head labels the pending posts
afterwards, in batches, with their context (`indexer.stance_enrich`): the monitor's `stance:`
job every `SPREADWATCH_STANCE_EVERY` seconds, each alert run and scheduled report before they
read anything, the end of `spreadwatch crawl`, a `spreadwatch stream` run on its own
(`spreadwatch.cli.deferred`) and `spreadwatch stance label`. Until then a post counts with its
provisional label, and an alert raised meanwhile says how many posts carry one.

A label is written only over the version it was computed from (`if_seq_no`): a post that a
crawl stored again meanwhile is left pending and labelled by the next pass. A re-crawl of a
post the head already labelled keeps that label (`indexer.merge`), unless its text changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from indexer.connection import IndexNames
from indexer.documents import HUMAN, KEPT_STANCE_FIELDS, LABELLED_AT, PENDING
from indexer.reclassify import chunks
from indexer.stance_enrich import StanceEnricher
from indexer.stance_model import StanceModel
from indexer.versioned import CONFLICT, Versioned, bulk_condition
from spreadwatch.clock import Clock, utc_now
from spreadwatch.incident import Incident

logger = logging.getLogger(__name__)

UNLABELLED_CUE = "model: could not label"
#: Kept out of what a labelling pass reads: large, and the head never looks at them.
_UNREAD = ["versions", "rendered", "evidence", "deleted_evidence", "*_stemmed"]


@dataclass
class LabelRun:
    """What one pass over an incident's pending posts did."""

    labelled: int = 0
    #: Posts the head cannot read (a stored shape it fails on): they keep the lexicon's label,
    #: no longer pending, with the cue `UNLABELLED_CUE`, and are logged.
    unlabelled: int = 0
    #: Stored again by a crawl between the read and the write: left for the next pass.
    conflicts: int = 0
    failed: int = 0
    seconds: float = 0.0


def mark_pending(docs: list[dict[str, Any]]) -> None:
    """The writer's hook in deferred mode: the lexicon's label stands until the head's comes.
    A pinned statement (`stance_source` official) is final already."""
    for doc in docs:
        if doc.get("stance_source") == "lexicon":
            doc[PENDING] = True


def pending_query(incident_id: str | None = None) -> dict[str, Any]:
    """Posts still carrying the lexicon's provisional label (of one incident, or of all)."""
    incident = [{"term": {"incident": incident_id}}] if incident_id is not None else []
    return {
        "bool": {
            "filter": [*incident, {"term": {PENDING: True}}],
            "must_not": [{"term": {"stance_source": HUMAN}}],
        }
    }


def backlog(client: Elasticsearch, names: IndexNames) -> dict[str, Any]:
    """What waits for the head, for `spreadwatch status`: posts per incident, and since when
    the longest waiting one was written (its `last_seen`, the crawl that wrote it)."""
    reply = client.search(
        index=names.posts,
        query=pending_query(),
        size=0,
        aggs={
            "incidents": {"terms": {"field": "incident", "size": 100}},
            "oldest": {"min": {"field": "last_seen"}},
        },
    )
    aggs = reply["aggregations"]
    oldest = aggs["oldest"].get("value_as_string") if aggs["oldest"].get("value") else None
    return {
        "posts": int(reply["hits"]["total"]["value"]),
        "by_incident": {b["key"]: b["doc_count"] for b in aggs["incidents"]["buckets"]},
        "oldest": oldest,
    }


def pending_count(client: Elasticsearch, names: IndexNames, incident_id: str) -> int:
    """Posts of the incident still carrying the lexicon's provisional label."""
    reply = client.count(index=names.posts, query=pending_query(incident_id))
    return int(reply["count"])


def label_pending(
    client: Elasticsearch,
    names: IndexNames,
    incident: Incident,
    model: StanceModel,
    *,
    batch_size: int = 500,
    clock: Clock = utc_now,
) -> LabelRun:
    """Label every post of the incident pending when the pass starts (one scroll over them,
    `batch_size` at a time); what a crawl adds meanwhile waits for the next pass. Labels are
    visible on return."""
    started = time.monotonic()
    run = LabelRun()
    enrich = StanceEnricher(incident, model, client, names)
    client.indices.refresh(index=names.posts)  # what the last writer batch stored, too
    hits = helpers.scan(
        client,
        index=names.posts,
        query={
            "query": pending_query(incident.id),
            "_source": {"excludes": _UNREAD},
            "seq_no_primary_term": True,
        },
        size=batch_size,
    )
    for batch in chunks(hits, batch_size):
        docs = [dict(hit["_source"]) for hit in batch]  # the stored versions stay in `batch`
        for position in enrich(docs):
            doc = docs[position]
            doc["stance_cues"] = [*(doc.get("stance_cues") or []), UNLABELLED_CUE]
            run.unlabelled += 1
            logger.warning(
                "%s keeps the lexicon's stance: the head cannot label it", batch[position]["_id"]
            )
        _write_labels(client, batch, docs, clock().isoformat(), run)
    if run.labelled:
        client.indices.refresh(index=names.posts)
    run.seconds = round(time.monotonic() - started, 3)
    return run


def _write_labels(
    client: Elasticsearch,
    hits: list[dict[str, Any]],
    docs: list[dict[str, Any]],
    now: str,
    run: LabelRun,
) -> None:
    actions = [_label_action(hit, doc, now) for hit, doc in zip(hits, docs, strict=True)]
    for ok, item in _bulk(client, actions):
        if ok:
            run.labelled += 1
            continue
        error = next(iter(item.values()))
        if (error.get("error") or {}).get("type") == CONFLICT:
            run.conflicts += 1
        elif error.get("status") != 404:  # 404: removed meanwhile (reclassify), nothing to do
            run.failed += 1
            logger.warning("stance label of %s not written: %s", error.get("_id"), error)


def _label_action(hit: dict[str, Any], doc: dict[str, Any], now: str) -> dict[str, Any]:
    """A partial update over the version read; a field the label leaves empty is cleared only
    when the stored post has it (no null is stored where there was nothing)."""
    stored = hit["_source"]
    fields = {
        name: doc.get(name)
        for name in KEPT_STANCE_FIELDS
        if doc.get(name) is not None or stored.get(name) is not None
    }
    fields.update({PENDING: False, LABELLED_AT: now})
    read = Versioned(stored, int(hit["_seq_no"]), int(hit["_primary_term"]))
    where = {"_index": hit["_index"], "_id": hit["_id"], **bulk_condition(read)}
    return {"_op_type": "update", **where, "doc": fields}


def _bulk(
    client: Elasticsearch, actions: list[dict[str, Any]]
) -> Iterable[tuple[bool, dict[str, Any]]]:
    try:
        yield from helpers.streaming_bulk(
            client, actions, raise_on_error=False, raise_on_exception=False, max_retries=2
        )
    except (ApiError, TransportError) as error:
        logger.warning("stance labels of %d posts not written: %s", len(actions), error)
