"""Recompute matches and stance of every post of an incident after its file (or the lexicons)
changed: scan, classify client-side, write back only what changed with partial-document bulk
updates (no painless, no update-by-query: the embedded node has neither).

`reclassify(client, names, incident) -> ReclassifyResult`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch, helpers

from indexer.connection import IndexNames
from indexer.documents import STANCE_FIELDS
from indexer.matching import Matcher
from indexer.stance import StanceInput, classify
from spreadwatch.incident import Incident

logger = logging.getLogger(__name__)

_FIELDS = ["platform", "kind", "title", "text", "lang", "domain", "url", "author", "matched"]
_FIELDS += list(STANCE_FIELDS)


@dataclass
class ReclassifyResult:
    scanned: int = 0
    changed: int = 0
    failed: int = 0
    stances: Counter[str] = field(default_factory=Counter)
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)


def reclassify(
    client: Elasticsearch, names: IndexNames, incident: Incident, chunk_size: int = 500
) -> ReclassifyResult:
    """Re-match and re-classify every post of `incident`; failures are counted and logged."""
    result = ReclassifyResult()
    matcher = Matcher(incident)
    hits = helpers.scan(
        client,
        index=names.posts,
        query={"query": {"term": {"incident": incident.id}}, "_source": _FIELDS},
        size=chunk_size,
    )
    updates = _updates(hits, matcher, incident, names, result)
    for ok, item in helpers.streaming_bulk(
        client, updates, chunk_size=chunk_size, raise_on_error=False, max_retries=3
    ):
        if not ok:
            result.failed += 1
            logger.error("reclassify: update failed: %s", item)
    client.indices.refresh(index=names.posts)
    return result


def _updates(
    hits: Iterable[dict[str, Any]],
    matcher: Matcher,
    incident: Incident,
    names: IndexNames,
    result: ReclassifyResult,
) -> Iterator[dict[str, Any]]:
    for hit in hits:
        result.scanned += 1
        source = hit["_source"]
        fields = recomputed(source, matcher, incident)
        result.stances[fields["stance"]] += 1
        if _unchanged(source, fields):
            continue
        result.changed += 1
        result.moves[(source.get("stance") or "", fields["stance"])] += 1
        yield {
            "_op_type": "update",
            "_index": hit["_index"],
            "_id": hit["_id"],
            "doc": fields,
        }


def recomputed(source: dict[str, Any], matcher: Matcher, incident: Incident) -> dict[str, Any]:
    """The matched/stance fields of one stored post under the incident's current rules."""
    author = dict(source.get("author") or {})
    official = bool(author.get("official")) or _official_now(source, author, incident)
    match = matcher.match(source.get("title"), source.get("text"))
    doc = {**source, "author": {**author, "official": official}}
    stance = classify(StanceInput.from_doc(doc, claims=match.claims))
    return {
        "author": doc["author"],
        "matched": {"queries": match.queries, "claims": match.claims, "official": official},
        **stance.fields(),
    }


def _official_now(source: dict[str, Any], author: dict[str, Any], incident: Incident) -> bool:
    if incident.official is None:
        return False
    platform = source.get("platform") or ""
    return incident.official.is_official(
        platform, author.get("handle"), author.get("id")
    ) or incident.official.is_official_url(source.get("url"))


def _unchanged(source: dict[str, Any], fields: dict[str, Any]) -> bool:
    matched = source.get("matched") or {}
    return (
        all(source.get(name) == fields[name] for name in STANCE_FIELDS if name != "stance_cues")
        and list(source.get("stance_cues") or []) == fields["stance_cues"]
        and list(matched.get("queries") or []) == fields["matched"]["queries"]
        and list(matched.get("claims") or []) == fields["matched"]["claims"]
        and bool(matched.get("official")) == fields["matched"]["official"]
        and bool((source.get("author") or {}).get("official")) == fields["author"]["official"]
    )
