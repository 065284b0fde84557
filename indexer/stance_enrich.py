"""The learned stance head over a batch of post documents, with their context.

The per-item stance stage labels every post with the explainable lexicon at once (cheap, and
what a post keeps if the model cannot run). The learned head (`indexer.stance_model`) then
labels a batch of posts in one call, with their context: the post each replies to or quotes
(`reply_to`, `quote_of`, `repost_of`), looked up in the batch first and in Elasticsearch for
the rest (one `mget` per batch). Its batches: the pending posts of a pass after indexing
(`indexer.stance_pending`, the default), each writer batch just before it is written
(`BulkWriter.enrich`, with `SPREADWATCH_STANCE_DEFERRED=false`), each `reclassify` chunk.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from indexer.claims import with_claim_stances
from indexer.connection import IndexNames
from indexer.stance import Stance, StanceInput
from indexer.stance_model import StanceModel
from spreadwatch.incident import Incident

logger = logging.getLogger(__name__)

CONTEXT_FIELDS = ("reply_to", "quote_of", "repost_of")
#: Kinds a post is filed in rather than answers: an issue or a README points at its repository
#: (`reply_to`), but the repository's description is not what it says something about. Read as
#: context, a repository named "…-recording-is-fake" made its issues' questions denials.
NOT_CONTEXT_KINDS = frozenset({"repo"})


class StanceEnricher:
    """Labels a batch of post documents with `model`, in place."""

    def __init__(
        self,
        incident: Incident,
        model: StanceModel,
        client: Elasticsearch | None = None,
        names: IndexNames | None = None,
    ) -> None:
        self.incident, self.model, self.client, self.names = incident, model, client, names

    def __call__(self, docs: list[dict[str, Any]]) -> list[int]:
        """Returns the positions of the posts the head could not label (left as they were)."""
        posts = list(docs)
        if not posts:
            return []
        inputs = stance_inputs(posts, self.incident, self.parent_texts(posts))
        failed = []
        for position, (doc, stance) in enumerate(zip(posts, self._classify(inputs), strict=True)):
            if stance is None:
                failed.append(position)
                continue
            doc.update(stance.fields())
            with_claim_stances(doc, self.incident)
            if doc.get("claim_stances") is None:  # no claim named: no field, as at ingest
                doc.pop("claim_stances", None)
        return failed

    def _classify(self, inputs: list[StanceInput]) -> list[Stance | None]:
        """The head's labels; when a batch fails (a stored post of a shape it cannot read),
        each post alone, so one bad post costs only its own label."""
        try:
            return list(self.model.classify_batch(inputs))
        except Exception as error:
            logger.warning(
                "stance head failed on a batch of %d (%s); one by one", len(inputs), error
            )
        labels: list[Stance | None] = []
        for one in inputs:
            try:
                labels.append(self.model.classify_batch([one])[0])
            except Exception as error:
                logger.warning(
                    "stance head cannot label a post (%s: %s); it keeps the lexicon's label",
                    type(error).__name__, error,
                )  # fmt: skip
                labels.append(None)
        return labels

    def parent_texts(self, posts: Sequence[dict[str, Any]]) -> dict[str, str]:
        """Text of each post's parent: from the batch, else stored (lookup failures: none).
        A parent of a kind in `NOT_CONTEXT_KINDS` gives none."""
        found, missing = batch_parents(posts)
        if missing and self.client is not None and self.names is not None:
            try:
                reply = self.client.mget(
                    index=self.names.posts, ids=missing, source_includes=["title", "text", "kind"]
                )
            except (ApiError, TransportError, OSError) as error:
                logger.info("parents of a batch not looked up: %s", error)
                return {p: text for p, text in found.items() if text}
            for hit in reply.get("docs", []):
                if hit.get("found"):
                    found[hit["_id"]] = _context_text(hit.get("_source") or {})
        return {p: text for p, text in found.items() if text}


def stance_inputs(
    posts: Sequence[dict[str, Any]], incident: Incident, parents: dict[str, str]
) -> list[StanceInput]:
    """What the head reads of each post document: the post, its matched claims of `incident`,
    and the text of the post it answers (`parents`, by id)."""
    return [
        dataclasses.replace(
            StanceInput.from_doc(doc, claim_defs=incident.claims),
            parent_text=parents.get(parent_id(doc) or ""),
        )
        for doc in posts
    ]


def batch_parents(posts: Sequence[dict[str, Any]]) -> tuple[dict[str, str], list[str]]:
    """The texts of the posts' parents found in the batch itself (by id; a parent of a kind in
    `NOT_CONTEXT_KINDS` gives ""), and the ids of the parents still to look up."""
    in_batch = {f"{d.get('platform')}:{d.get('native_id')}": d for d in posts}
    wanted = {p for p in (parent_id(d) for d in posts) if p}
    found = {p: _context_text(in_batch[p]) for p in wanted if p in in_batch}
    missing = sorted(p for p in wanted if not found.get(p) and not _filed_in(in_batch.get(p)))
    return found, missing


def parent_id(doc: dict[str, Any]) -> str | None:
    """The id of the post a post replies to, quotes or reposts (the first of them it names)."""
    for name in CONTEXT_FIELDS:
        value = doc.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _filed_in(doc: dict[str, Any] | None) -> bool:
    return doc is not None and doc.get("kind") in NOT_CONTEXT_KINDS


def _context_text(doc: dict[str, Any]) -> str:
    return "" if _filed_in(doc) else _text(doc)


def _text(doc: dict[str, Any]) -> str:
    return "\n".join(t for t in (doc.get("title"), doc.get("text")) if isinstance(t, str) and t)
