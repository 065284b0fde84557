"""Claims tracked one by one: which claims a post makes and its stance towards each, and per claim
across the incident — first seen, volume over time by stance, the reach of posts spreading it
against those denying it, and whether the official denial answered it.

Per post, `claim_stances` holds `"<claim>:<stance>"` for each claim it names (`matched.claims`).
A post naming one claim takes the post's stance towards it. A post naming several is read
sentence by sentence: the sentences naming a claim are classified on their own (a post may
repeat one claim while rejecting another), falling back to the post's stance when they say
nothing either way. Posts stored before the field existed count with their post stance.

Spreading = `rumour`; denying = `denial` and `debunk` (both reject the claim). "Addressed by the
official denial" = the official denial (`indexer.scope.OFFICIAL_DENIAL`) names the claim.

Stable API: `claim_stances(doc, incident) -> list[str]`;
`claim_report(client, names, scope, claims, interval=None) -> ClaimReport`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.dsl import Q

from indexer.analytics import (
    REF_FIELDS,
    TIMESTAMP,
    PostRef,
    earliest,
    execute_all,
    first_ref,
    incident_search,
    parse_time,
    span,
)
from indexer.connection import IndexNames
from indexer.intervals import auto_interval
from indexer.matching import claim_matches, fold
from indexer.scope import OFFICIAL_DENIAL, IncidentScope
from indexer.stance import StanceInput, classify
from spreadwatch.incident import Claim, Incident

SPREADING = ("rumour",)
DENYING = ("denial", "debunk")
_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s*|\n+")
_SIDED = frozenset({"rumour", "denial", "debunk"})


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def claim_stances(doc: dict[str, Any], incident: Incident) -> list[str]:
    """`"<claim>:<stance>"` for every claim the post names (its `matched.claims`)."""
    named = list((doc.get("matched") or {}).get("claims") or [])
    stance = str(doc.get("stance") or "other")
    if len(named) <= 1:
        return [f"{name}:{stance}" for name in named]
    by_name = {claim.name: claim for claim in incident.claims}
    sentences = _sentences(f"{doc.get('title') or ''}\n{doc.get('text') or ''}")
    return [
        f"{name}:{_stance_towards(doc, by_name.get(name), sentences, stance)}" for name in named
    ]


def _stance_towards(
    doc: dict[str, Any], claim: Claim | None, sentences: list[str], fallback: str
) -> str:
    if claim is None:
        return fallback
    span = " ".join(s for s in sentences if claim_matches(claim, fold(s)))
    if not span:
        return fallback
    spanned = {**doc, "title": None, "text": span}
    label = classify(StanceInput.from_doc(spanned, [claim.name], [claim])).label
    return label if label in _SIDED else fallback


def with_claim_stances(doc: dict[str, Any], incident: Incident) -> dict[str, Any]:
    """The document with its `claim_stances` (none when it names no claim)."""
    doc["claim_stances"] = claim_stances(doc, incident) or None
    return doc


# -- per claim, across the incident --------------------------------------------------------------


@dataclass(frozen=True)
class ClaimStats:
    name: str
    description: str
    first_seen: PostRef | None
    posts: int
    by_stance: dict[str, int]
    #: Per bucket of the report's interval: (start, {stance: posts}).
    series: list[tuple[datetime, dict[str, int]]]
    reach_spreading: int
    reach_denying: int
    addressed_by_denial: bool

    @property
    def spreading(self) -> int:
        return sum(self.by_stance.get(s, 0) for s in SPREADING)

    @property
    def denying(self) -> int:
        return sum(self.by_stance.get(s, 0) for s in DENYING)


@dataclass(frozen=True)
class ClaimReport:
    interval: str
    claims: list[ClaimStats] = field(default_factory=list)
    denial: PostRef | None = None
    denial_claims: list[str] = field(default_factory=list)


def claim_report(
    client: Elasticsearch,
    names: IndexNames,
    incident: str | IncidentScope,
    claims: list[Claim],
    interval: str | None = None,
) -> ClaimReport:
    """Per claim of the incident file: first seen, volume by stance, reach, answered or not."""
    scope = IncidentScope.of(incident)
    bounds = span(client, names, scope)
    if bounds is None or not claims:
        return ClaimReport(interval or "1h")
    interval = interval or auto_interval(bounds.start, bounds.end)
    index = names.posts
    named = [Q("term", **{"matched.claims": claim.name}) for claim in claims]
    firsts = [earliest(client, index, scope, query) for query in named]
    denial = earliest(client, index, scope, OFFICIAL_DENIAL).source([*REF_FIELDS, "matched"])
    search = incident_search(client, index, scope)
    per_claim = search.aggs.bucket("claims", "filters", filters=dict(enumerate(named)))
    _stance_aggs(per_claim)
    time = per_claim.bucket(
        "time", "date_histogram", field=TIMESTAMP, fixed_interval=interval, min_doc_count=0
    )
    _stance_aggs(time)
    *heads, first_denial, totals = execute_all(client, index, [*firsts, denial, search])
    denial_hits = first_denial.to_dict()["hits"]["hits"]
    denial_claims = (
        list(denial_hits[0]["_source"].get("matched", {}).get("claims") or [])
        if denial_hits
        else []
    )
    buckets = totals.aggregations.claims.buckets
    stats = [
        _claim_stats(claim, first_ref(head), buckets[str(i)], denial_claims)
        for i, (claim, head) in enumerate(zip(claims, heads, strict=True))
    ]
    return ClaimReport(interval, stats, first_ref(first_denial), denial_claims)


def indexed_claims(
    client: Elasticsearch, names: IndexNames, incident: str | IncidentScope
) -> list[Claim]:
    """The claims an incident's posts name, when its file is not at hand (no description)."""
    search = incident_search(client, names.posts, IncidentScope.of(incident))
    search.aggs.bucket("claims", "terms", field="matched.claims", size=100)
    buckets = search.execute().aggregations.claims.buckets
    return [Claim(name=b.key, patterns=[b.key]) for b in sorted(buckets, key=lambda b: b.key)]


def _stance_aggs(parent: Any) -> None:
    """Per-claim stances, and the post stance of posts stored without them (older posts)."""
    parent.bucket("pairs", "terms", field="claim_stances", size=200).metric(
        "reach", "sum", field="reach"
    )
    legacy = parent.bucket("legacy", "filter", ~Q("exists", field="claim_stances"))
    legacy.bucket("stance", "terms", field="stance", size=10, missing="other").metric(
        "reach", "sum", field="reach"
    )


def _counts(bucket: Any, claim: str) -> tuple[dict[str, int], dict[str, int]]:
    """Posts and reach per stance towards `claim` in one aggregation bucket."""
    posts: dict[str, int] = {}
    reach: dict[str, int] = {}
    prefix = f"{claim}:"
    for pair in bucket.pairs.buckets:
        if pair.key.startswith(prefix):
            stance = pair.key[len(prefix) :]
            posts[stance] = posts.get(stance, 0) + pair.doc_count
            reach[stance] = reach.get(stance, 0) + int(pair.reach.value or 0)
    for old in bucket.legacy.stance.buckets:
        posts[old.key] = posts.get(old.key, 0) + old.doc_count
        reach[old.key] = reach.get(old.key, 0) + int(old.reach.value or 0)
    return posts, reach


def _claim_stats(
    claim: Claim, first: PostRef | None, bucket: Any, denial_claims: list[str]
) -> ClaimStats:
    posts, reach = _counts(bucket, claim.name)
    series = [(parse_time(b.key), _counts(b, claim.name)[0]) for b in bucket.time.buckets]
    return ClaimStats(
        name=claim.name,
        description=claim.description,
        first_seen=first,
        posts=int(bucket.doc_count),
        by_stance=posts,
        series=series,
        reach_spreading=sum(reach.get(s, 0) for s in SPREADING),
        reach_denying=sum(reach.get(s, 0) for s in DENYING),
        addressed_by_denial=claim.name in denial_claims,
    )


__all__ = [
    "ClaimReport",
    "ClaimStats",
    "claim_report",
    "claim_stances",
    "indexed_claims",
    "with_claim_stances",
]
