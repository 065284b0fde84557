"""The Elasticsearch queries alert rules need, written with `elasticsearch.dsl`.

They live in `indexer/` because queries are the indexer's business; `alerts/` decides what the
numbers mean. Every method takes explicit time bounds (the caller's injected clock), so a rule
evaluated over fixture posts gives the same answer whenever the test runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.dsl import Q, Search
from elasticsearch.dsl.query import Query

from indexer.connection import IndexNames
from indexer.scope import OFFICIAL_DENIAL, IncidentScope

#: Posts denying the rumour, whoever wrote them (the denial side of the reach measure).
DENIAL = Q("term", stance="denial")


def _iso(when: datetime) -> str:
    return when.isoformat()


def _hit(hit: Any) -> dict[str, Any]:
    return {"_id": hit.meta.id, **hit.to_dict()}


def _author_key(post: dict[str, Any]) -> str:
    author = post.get("author") or {}
    who = author.get("id") or author.get("handle") or author.get("name") or post.get("_id")
    return f"{post.get('platform')}:{who}"


def diversify(posts: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """Up to `size` posts in their order, one per author, taking each platform's best in turn
    (round robin by platform) so that every platform present gets a place before any gets two."""
    seen: set[str] = set()
    queues: dict[str, list[dict[str, Any]]] = {}
    for post in posts:
        key = _author_key(post)
        if key in seen:
            continue
        seen.add(key)
        queues.setdefault(str(post.get("platform")), []).append(post)
    chosen: list[dict[str, Any]] = []
    while len(chosen) < size and any(queues.values()):
        for queue in queues.values():
            if queue and len(chosen) < size:
                chosen.append(queue.pop(0))
    rank = {id(p): i for i, p in enumerate(posts)}
    return sorted(chosen, key=lambda p: rank[id(p)])


@dataclass(frozen=True)
class IncidentQueries:
    """Queries over one incident's posts (inside its window, given a scope) and runs."""

    client: Elasticsearch
    names: IndexNames
    incident: str | IncidentScope

    @property
    def scope(self) -> IncidentScope:
        return IncidentScope.of(self.incident)

    def posts(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        platform: str | None = None,
    ) -> Search:
        """The incident's posts published in [start, end)."""
        bounds: dict[str, str] = {}
        if start is not None:
            bounds["gte"] = _iso(start)
        if end is not None:
            bounds["lt"] = _iso(end)
        search = Search(using=self.client, index=self.names.posts)
        search = search.filter(self.scope.posts())
        if bounds:
            search = search.filter("range", **{"@timestamp": bounds})
        if platform is not None:
            search = search.filter("term", platform=platform)
        return search

    def count(
        self,
        start: datetime,
        end: datetime,
        *,
        platform: str | None = None,
        stance: str | None = None,
    ) -> int:
        """Posts published in [start, end)."""
        search = self.posts(start, end, platform=platform)
        if stance is not None:
            search = search.filter("term", stance=stance)
        return int(search.extra(track_total_hits=True).count())

    def counts_by_platform(self, start: datetime, end: datetime) -> dict[str, int]:
        """Posts per platform in [start, end)."""
        search = self.posts(start, end).extra(size=0)
        search.aggs.bucket("platforms", "terms", field="platform", size=100)
        response = search.execute()
        return {b.key: int(b.doc_count) for b in response.aggregations.platforms.buckets}

    def first_per_platform(self, end: datetime) -> dict[str, dict[str, Any]]:
        """The earliest post on each platform before `end` (where and when the rumour arrived)."""
        search = self.posts(end=end).extra(size=0)
        search.aggs.bucket("platforms", "terms", field="platform", size=100).metric(
            "first", "top_hits", size=1, sort=[{"@timestamp": "asc"}]
        )
        found = {}
        for bucket in search.execute().aggregations.platforms.buckets:
            hit = bucket.first.hits.hits[0]
            found[bucket.key] = {"_id": hit["_id"], **hit["_source"].to_dict()}
        return found

    def find(
        self, query: Query, end: datetime, *, start: datetime | None = None, size: int = 50
    ) -> list[dict[str, Any]]:
        """Posts matching `query`, oldest first."""
        search = self.posts(start, end).query(query).sort("@timestamp")
        return [_hit(hit) for hit in search.extra(size=size).execute()]

    def first_denial(self, end: datetime) -> dict[str, Any] | None:
        """The earliest official denial (`indexer.scope.OFFICIAL_DENIAL`) published before
        `end`."""
        hits = self.find(OFFICIAL_DENIAL, end, size=1)
        return hits[0] if hits else None

    def still_qualifying(self, ids: list[str], query: Query) -> set[str]:
        """Which of these posts are still posts of the incident matching `query` (after an edit
        of the incident file or a reclassify, an alerted post may no longer be)."""
        if not ids:
            return set()
        search = self.posts().filter("ids", values=ids).query(query).source(False)
        return {hit.meta.id for hit in search.extra(size=len(ids)).execute()}

    def reach_by_stance(self, end: datetime) -> dict[str, float]:
        """Summed reach per stance up to `end` (how far each side travelled)."""
        search = self.posts(end=end).extra(size=0)
        search.aggs.bucket("stances", "terms", field="stance", size=20).metric(
            "reach", "sum", field="reach"
        )
        buckets = search.execute().aggregations.stances.buckets
        return {b.key: float(b.reach.value or 0) for b in buckets}

    def timeline(
        self,
        start: datetime,
        end: datetime,
        interval: timedelta,
        *,
        platform: str | None = None,
    ) -> list[tuple[datetime, int]]:
        """Post counts per fixed interval in [start, end), empty buckets included."""
        search = self.posts(start, end, platform=platform).extra(size=0)
        search.aggs.bucket(
            "over_time",
            "date_histogram",
            field="@timestamp",
            fixed_interval=f"{max(int(interval.total_seconds()), 1)}s",
            min_doc_count=0,
            extended_bounds={"min": _iso(start), "max": _iso(end - timedelta(seconds=1))},
        )
        buckets = search.execute().aggregations.over_time.buckets
        return [
            (datetime.fromisoformat(b.key_as_string.replace("Z", "+00:00")), int(b.doc_count))
            for b in buckets
        ]

    def top(
        self,
        start: datetime,
        end: datetime,
        *,
        platform: str | None = None,
        query: Query | None = None,
        size: int = 5,
    ) -> list[dict[str, Any]]:
        """The widest-reaching posts of a window, for an alert's body: at most one per author,
        and from as many platforms as the window has (one loud account or platform must not
        fill the list)."""
        search = self.posts(start, end, platform=platform)
        if query is not None:
            search = search.query(query)
        search = search.sort({"reach": {"order": "desc", "missing": "_last"}}, "-@timestamp")
        pool = [_hit(hit) for hit in search.extra(size=min(size * 20, 200)).execute()]
        return diversify(pool, size)

    def first_post(self, end: datetime) -> dict[str, Any] | None:
        """The incident's earliest post before `end`."""
        hits = self.find(Q("match_all"), end, size=1)
        return hits[0] if hits else None

    def timeline_by_stance(
        self, start: datetime, end: datetime, interval: str
    ) -> list[tuple[datetime, dict[str, int]]]:
        """Posts per `interval` (an Elasticsearch fixed interval) in [start, end) by stance,
        empty buckets included (a chart of the incident so far)."""
        search = self.posts(start, end).extra(size=0)
        search.aggs.bucket(
            "over_time",
            "date_histogram",
            field="@timestamp",
            fixed_interval=interval,
            min_doc_count=0,
            extended_bounds={"min": _iso(start), "max": _iso(end - timedelta(seconds=1))},
        ).bucket("stance", "terms", field="stance", size=10, missing="other")
        buckets = search.execute().aggregations.over_time.buckets
        return [
            (
                datetime.fromisoformat(b.key_as_string.replace("Z", "+00:00")),
                {s.key: int(s.doc_count) for s in b.stance.buckets},
            )
            for b in buckets
        ]

    def recent_runs(self, end: datetime, size: int = 200) -> list[dict[str, Any]]:
        """The incident's latest crawl runs before `end`, newest first."""
        search = (
            Search(using=self.client, index=self.names.runs)
            .filter("term", incident=self.scope.id)
            .filter("term", job="crawl")
            .filter("range", **{"@timestamp": {"lt": _iso(end)}})
            .sort("-@timestamp")
            .extra(size=size)
        )
        return [hit.to_dict() for hit in search.execute()]
