"""Queries the HTML report needs beyond `indexer.analytics`: the most-read posts of each phase.

One search: a `filters` aggregation with a bucket per phase and a `top_hits` by reach in each, so
a report costs one round trip however many phases the spread had.
"""

from __future__ import annotations

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
    """For each phase (same order), its `size` posts with most reach; ties go to the earliest.

    A phase covers [start, end); the last one includes its end, the incident's last post.
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
            size=size,
            sort=[{"reach": {"order": "desc", "missing": "_last"}}, {TIMESTAMP: "asc"}],
            _source=[TIMESTAMP, "platform", "author", "url", "text", "title", "stance", "reach"],
        ),
    )
    buckets = search.execute().aggregations.phase.buckets
    return [[post_ref(hit) for hit in buckets[f"p{i}"].top.hits.hits] for i in range(len(spans))]
