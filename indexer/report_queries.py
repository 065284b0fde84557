"""Queries the report needs beyond `indexer.analytics`: the most-read posts of each phase (one
`filters` aggregation with a `top_hits` per phase, then one post per author), the posts that
decide the reach ratio, the languages and each GitHub repository's activity.
"""

from __future__ import annotations

from dataclasses import dataclass

from elasticsearch import Elasticsearch
from elasticsearch.dsl import A, Q

from indexer.analytics import TIMESTAMP, PostRef, incident_search, post_ref
from indexer.connection import IndexNames
from indexer.phases import Phase
from indexer.scope import IncidentScope


def top_posts_per_phase(
    client: Elasticsearch,
    names: IndexNames,
    incident: str | IncidentScope,
    spans: list[Phase],
    size: int = 5,
) -> list[list[PostRef]]:
    """For each phase (same order), its `size` posts with most reach, one per author (a loud
    account must not fill the list); ties go to the earliest.

    A phase covers [start, end); the last one includes its end (the incident's last post, or
    its own start when it begins after it: see `indexer.phases`).
    """
    if not spans:
        return []
    search = incident_search(client, names.posts, incident)
    filters = {}
    for i, phase in enumerate(spans):
        upper = "lte" if i == len(spans) - 1 else "lt"
        bounds = {"gte": phase.start.isoformat(), upper: phase.end.isoformat()}
        filters[f"p{i}"] = Q("range", **{TIMESTAMP: bounds})
    per_phase = search.aggs.bucket("phase", "filters", filters=filters)
    per_phase.metric(
        "top",
        A(
            "top_hits",
            size=min(size * 20, 100),
            sort=[{"reach": {"order": "desc", "missing": "_last"}}, {TIMESTAMP: "asc"}],
            _source=[TIMESTAMP, "platform", "author", "url", "text", "title", "stance", "reach"],
        ),
    )
    buckets = search.execute().aggregations.phase.buckets
    return [
        _one_per_author([post_ref(hit) for hit in buckets[f"p{i}"].top.hits.hits], size)
        for i in range(len(spans))
    ]


def _one_per_author(refs: list[PostRef], size: int) -> list[PostRef]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for ref in refs:
        key = (ref.platform, ref.author or ref.id)
        if key not in seen:
            seen.add(key)
            kept.append(ref)
    return kept[:size]


@dataclass(frozen=True)
class LanguageShare:
    lang: str
    posts: int
    by_stance: dict[str, int]


def languages(
    client: Elasticsearch, names: IndexNames, incident: str | IncidentScope
) -> list[LanguageShare]:
    """Posts per language (and stance), most first."""
    search = incident_search(client, names.posts, incident)
    langs = search.aggs.bucket("langs", "terms", field="lang", size=30, missing="und")
    langs.bucket("stance", "terms", field="stance", size=10, missing="other")
    return [
        LanguageShare(
            str(b.key), int(b.doc_count), {s.key: int(s.doc_count) for s in b.stance.buckets}
        )
        for b in search.execute().aggregations.langs.buckets
    ]


@dataclass(frozen=True)
class RepoActivity:
    repo: str
    stars: int
    forks: int
    issues: int


def github_repos(
    client: Elasticsearch, names: IndexNames, incident: str | IncidentScope, size: int = 15
) -> list[RepoActivity]:
    """Stars and forks (activity index) and issues (posts) per repository, busiest first."""
    events = incident_search(
        client, names.activity, incident, Q("term", platform="github"),
        Q("terms", event=["star", "fork"]),
    )  # fmt: skip
    events.aggs.bucket("repos", "terms", field="repo", size=200).bucket(
        "event", "terms", field="event", size=5
    )
    issues = incident_search(
        client, names.posts, incident, Q("term", platform="github"), Q("term", kind="issue")
    )
    issues.aggs.bucket("repos", "terms", field="repo", size=200)
    counts: dict[str, dict[str, int]] = {}
    for b in events.execute().aggregations.repos.buckets:
        for e in b.event.buckets:
            counts.setdefault(str(b.key), {})[f"{e.key}s"] = int(e.doc_count)
    for b in issues.execute().aggregations.repos.buckets:
        counts.setdefault(str(b.key), {})["issues"] = int(b.doc_count)
    rows = [
        RepoActivity(repo, c.get("stars", 0), c.get("forks", 0), c.get("issues", 0))
        for repo, c in counts.items()
    ]
    rows.sort(key=lambda r: (-(r.stars + r.forks + r.issues), r.repo))
    return rows[:size]


#: The two sides of the reach ratio (`indexer.phases`: denial reach ÷ rumour reach).
REACH_SIDES = ("rumour", "denial")


@dataclass(frozen=True)
class ReachDecider:
    """A post with much of its side's reach, and how its label was decided."""

    post: PostRef
    share: float  # of the summed reach of its side's posts
    source: str | None  # stance_source: official, model, lexicon, human
    confidence: float | None


def reach_deciders(
    client: Elasticsearch, names: IndexNames, incident: str | IncidentScope, size: int = 5
) -> dict[str, list[ReachDecider]]:
    """Per side of the reach ratio, its `size` posts with most reach and each one's share of the
    side's summed reach (posts with no reach left out).

    The ratio weighs each post by its author's followers, so a handful of large accounts
    decide it and one of them read the wrong way moves it more than a thousand small ones:
    these are the labels a person checks first (and corrects with `spreadwatch stance set`).
    """
    search = incident_search(
        client,
        names.posts,
        incident,
        Q("terms", stance=list(REACH_SIDES)),
        Q("range", reach={"gt": 0}),
    )
    sides = search.aggs.bucket("side", "terms", field="stance", include=list(REACH_SIDES))
    sides.metric("reach", "sum", field="reach")
    sides.metric(
        "top",
        A(
            "top_hits",
            size=size,
            sort=[{"reach": {"order": "desc"}}, {TIMESTAMP: "asc"}],
            _source=[TIMESTAMP, "platform", "author", "url", "text", "title", "stance", "reach",
                     "stance_source", "stance_confidence"],
        ),
    )  # fmt: skip
    found: dict[str, list[ReachDecider]] = {side: [] for side in REACH_SIDES}
    for bucket in search.execute().aggregations.side.buckets:
        total = float(bucket.reach.value or 0)
        for hit in bucket.top.hits.hits:
            source = hit.to_dict().get("_source", {})
            ref = post_ref(hit)
            found[str(bucket.key)].append(
                ReachDecider(
                    post=ref,
                    share=ref.reach / total if total else 0.0,
                    source=source.get("stance_source"),
                    confidence=source.get("stance_confidence"),
                )
            )
    return found
