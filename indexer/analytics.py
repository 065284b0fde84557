"""Spread analytics of one incident, computed by Elasticsearch aggregations (`elasticsearch.dsl`).

Only core aggregations are used (date_histogram, terms, filters, min, max, sum, cardinality,
composite, cumulative_sum): the embedded node has no aggregations module and no painless.
"First post of X" is a sorted size-1 search (several go in one `_msearch`), which skips whole
segments where a top_hits aggregation would visit every document: on 1M posts, span went from
~110 ms to ~4 ms (bench/bench_timeline.py). Phases and their measures live in `indexer.phases`.

Stable API (the HTML report, the Kibana export and the demo use it):

- `span(client, names, incident) -> Span | None` — first and last post time, post count.
- `timeline(client, names, incident, interval=None) -> Timeline` — per-bucket counts by platform
  and by stance, with the cumulative volume.
- `first_seen(client, names, incident) -> Origin` — the first post overall and per platform, in
  the order platforms picked the story up.
- `amplifiers(client, names, incident, by="reach"|"reposts", size=10) -> list[Amplifier]` —
  accounts by `author.handle` with summed reach and reposts; `platform` is the one they posted
  on most.
- `clusters(client, names, incident, min_accounts=2, size=20) -> list[Cluster]` — near-duplicate
  groups by `fingerprint` (paged with a composite aggregation), most accounts first.
- `github_activity(client, names, incident, repos=None, interval=None) -> GithubActivity` — stars
  and forks (activity index, events star/fork) and issues (posts of kind issue) per bucket; the
  interval comes from the activity's own span (`indexer.intervals.auto_interval`), so years of
  star history give yearly-or-coarser bars, never too many buckets.

Every histogram's interval comes from `indexer.intervals.auto_interval` (bounded bucket count).

`incident` is an incident id (the `incident` keyword of the documents), or an
`indexer.scope.IncidentScope` (id and window: only posts inside the window count). Times are aware UTC
datetimes. A post's reach is its `reach` field (followers/views as the pipeline computed it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from elasticsearch import ApiError, Elasticsearch, NotFoundError
from elasticsearch.dsl import MultiSearch, Q, Search
from elasticsearch.dsl.document_base import InstrumentedField
from elasticsearch.dsl.query import Query

from indexer.connection import IndexNames
from indexer.intervals import auto_interval
from indexer.scope import IncidentScope

logger = logging.getLogger(__name__)

TIMESTAMP = "@timestamp"
#: What a `PostRef` is built from.
REF_FIELDS = [TIMESTAMP, "platform", "author", "url", "text", "title", "stance", "reach"]


@dataclass(frozen=True)
class Span:
    """When the incident's posts start and end, and how many there are."""

    start: datetime
    end: datetime
    posts: int


@dataclass(frozen=True)
class Bucket:
    """One bar of the timeline: posts in [start, start + interval)."""

    start: datetime
    total: int
    cumulative: int
    by_platform: dict[str, int] = field(default_factory=dict)
    by_stance: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Timeline:
    interval: str
    buckets: list[Bucket]

    @property
    def total(self) -> int:
        return self.buckets[-1].cumulative if self.buckets else 0

    def series(self, dimension: Literal["platform", "stance"], key: str) -> list[int]:
        """One platform's or stance's counts, aligned with `buckets` (for charts)."""
        attr = "by_platform" if dimension == "platform" else "by_stance"
        return [getattr(b, attr).get(key, 0) for b in self.buckets]

    def keys(self, dimension: Literal["platform", "stance"]) -> list[str]:
        attr = "by_platform" if dimension == "platform" else "by_stance"
        seen: dict[str, int] = {}
        for bucket in self.buckets:
            for key, count in getattr(bucket, attr).items():
                seen[key] = seen.get(key, 0) + count
        return sorted(seen, key=lambda k: (-seen[k], k))


@dataclass(frozen=True)
class PostRef:
    """Enough of a post to name it in a report: id, time, platform, author, url, text."""

    id: str
    timestamp: datetime
    platform: str
    author: str | None = None
    url: str | None = None
    text: str = ""
    stance: str | None = None
    reach: int = 0


@dataclass(frozen=True)
class Origin:
    """The first post overall, and the first per platform in pick-up order."""

    first: PostRef | None
    per_platform: list[PostRef]

    @property
    def platform_order(self) -> list[str]:
        return [ref.platform for ref in self.per_platform]


@dataclass(frozen=True)
class Amplifier:
    author: str
    platform: str
    posts: int
    reach: int
    reposts: int


@dataclass(frozen=True)
class Cluster:
    """Posts sharing one near-duplicate fingerprint: copy-paste spread."""

    fingerprint: str
    posts: int
    accounts: int
    first: datetime
    last: datetime
    first_post: PostRef


@dataclass(frozen=True)
class ActivityBucket:
    """Stars, forks and new issues in [start, start + interval)."""

    start: datetime
    stars: int = 0
    forks: int = 0
    issues: int = 0


@dataclass(frozen=True)
class GithubActivity:
    """The GitHub activity curve: non-empty buckets in time order, of one `interval`."""

    interval: str
    buckets: list[ActivityBucket]


Incident = str | IncidentScope


def incident_search(client: Elasticsearch, index: str, incident: Incident, *extra: Query) -> Search:
    """A size-0 search over one incident's documents (inside its window, for a scope), with
    optional extra filters."""
    search = Search(using=client, index=index).filter(IncidentScope.of(incident).posts())
    for query in extra:
        search = search.filter(query)
    return search.extra(size=0, track_total_hits=True)


def parse_time(value: Any) -> datetime:
    """An aggregation's epoch-millis (or ISO) value as an aware UTC datetime."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def span(client: Elasticsearch, names: IndexNames, incident: Incident) -> Span | None:
    """First and last post time of the incident; None when it has no posts."""
    first = earliest(client, names.posts, incident).extra(track_total_hits=True)
    last = earliest(client, names.posts, incident, newest=True)
    head, tail = execute_all(client, names.posts, [first, last])
    total = head.hits.total.value
    if not total:
        return None
    return Span(_hit_time(head), _hit_time(tail), total)


def earliest(
    client: Elasticsearch, index: str, incident: Incident, *extra: Query, newest: bool = False
) -> Search:
    """The first (or last) post matching the filters, as a sorted size-1 search.

    Cheaper than a top_hits aggregation: a size-1 sort on the date skips whole segments.
    """
    order = "desc" if newest else "asc"
    search = Search(using=client, index=index).filter(IncidentScope.of(incident).posts())
    for query in extra:
        search = search.filter(query)
    return (
        search.sort(*[{name: {"order": order}} for name in (TIMESTAMP, "platform", "native_id")])
        .source(list[str | InstrumentedField](REF_FIELDS))
        .extra(size=1, track_total_hits=False)
    )


def execute_all(client: Elasticsearch, index: str, searches: list[Search]) -> list[Any]:
    """Run searches in one `_msearch` round trip; any failed one raises like `execute()` would."""
    multi = MultiSearch(using=client, index=index)
    for search in searches:
        multi = multi.add(search)
    try:
        return list(multi.execute(raise_on_error=True))
    except ApiError as error:
        # The DSL reports a failed msearch item as a status-less ApiError; give a missing
        # index the NotFoundError a plain search would have raised.
        body = error.body if isinstance(error.body, dict) else {}
        if body.get("status") != 404:
            raise
        reason = body.get("error", {})
        kind = reason.get("type", "not_found") if isinstance(reason, dict) else str(reason)
        raise NotFoundError(message=kind, meta=error.meta, body=body) from None


def first_ref(response: Any) -> PostRef | None:
    """The first hit of a search response as a `PostRef`, if any."""
    hits = response.to_dict()["hits"]["hits"]  # raw hits keep `_id` and `_source`
    return post_ref(hits[0]) if hits else None


def _hit_time(response: Any) -> datetime:
    return parse_time(response.to_dict()["hits"]["hits"][0]["_source"][TIMESTAMP])


def timeline(
    client: Elasticsearch, names: IndexNames, incident: Incident, interval: str | None = None
) -> Timeline:
    """Posts per bucket by platform and by stance, plus the running total."""
    if interval is None:
        bounds = span(client, names, incident)
        if bounds is None:
            return Timeline("1h", [])
        interval = auto_interval(bounds.start, bounds.end)
    search = incident_search(client, names.posts, incident)
    histogram = search.aggs.bucket(
        "time", "date_histogram", field=TIMESTAMP, fixed_interval=interval, min_doc_count=0
    )
    histogram.bucket("platform", "terms", field="platform", size=50)
    histogram.bucket("stance", "terms", field="stance", size=10, missing="other")
    histogram.pipeline("cumulative", "cumulative_sum", buckets_path="_count")
    response = search.execute()
    buckets = [
        Bucket(
            start=parse_time(b.key),
            total=b.doc_count,
            cumulative=int(b.cumulative.value),
            by_platform={p.key: p.doc_count for p in b.platform.buckets},
            by_stance={s.key: s.doc_count for s in b.stance.buckets},
        )
        for b in response.aggregations.time.buckets
    ]
    return Timeline(interval, buckets)


def first_seen(client: Elasticsearch, names: IndexNames, incident: Incident) -> Origin:
    """The origin post, and each platform's first post ordered by time (how it travelled)."""
    search = incident_search(client, names.posts, incident)
    search.aggs.bucket("platform", "terms", field="platform", size=100)
    platforms = [b.key for b in search.execute().aggregations.platform.buckets]
    if not platforms:
        return Origin(None, [])
    searches = [earliest(client, names.posts, incident, Q("term", platform=p)) for p in platforms]
    refs = [first_ref(r) for r in execute_all(client, names.posts, searches)]
    per_platform = sorted((r for r in refs if r), key=lambda ref: (ref.timestamp, ref.platform))
    return Origin(per_platform[0], per_platform)


def post_ref(hit: Any) -> PostRef:
    """A `PostRef` from a raw hit (dict or AttrDict with `_id` and `_source`)."""
    raw = hit.to_dict() if hasattr(hit, "to_dict") else hit
    source = raw.get("_source", {})
    author = source.get("author") or {}
    text = source.get("text") or source.get("title") or ""
    return PostRef(
        id=raw["_id"],
        timestamp=parse_time(source[TIMESTAMP]),
        platform=source.get("platform", ""),
        author=author.get("handle") or author.get("name") or author.get("id"),
        url=source.get("url"),
        text=text,
        stance=source.get("stance"),
        reach=int(source.get("reach") or 0),
    )


def amplifiers(
    client: Elasticsearch,
    names: IndexNames,
    incident: Incident,
    by: Literal["reach", "reposts"] = "reach",
    size: int = 10,
) -> list[Amplifier]:
    """Accounts whose posts reached most people (or were reposted most), with their counts.

    An account's reach is counted once: the most any of its posts reached (its followers),
    not the sum over its posts — 120 posts by a 2.5M account reach 2.5M people, not 300M.
    """
    metric = "reach" if by == "reach" else "reposts"
    search = incident_search(client, names.posts, incident)
    authors = search.aggs.bucket(
        "authors", "terms", field="author.handle", size=size, order={metric: "desc"}
    )
    authors.metric("reach", "max", field="reach")
    authors.metric("reposts", "sum", field="engagement.reposts")
    authors.bucket("platform", "terms", field="platform", size=1)
    buckets = search.execute().aggregations.authors.buckets
    return [
        Amplifier(
            author=b.key,
            platform=b.platform.buckets[0].key if b.platform.buckets else "",
            posts=b.doc_count,
            reach=int(b.reach.value or 0),
            reposts=int(b.reposts.value),
        )
        for b in buckets
    ]


def clusters(
    client: Elasticsearch,
    names: IndexNames,
    incident: Incident,
    *,
    min_accounts: int = 2,
    size: int = 20,
    page_size: int = 1000,
) -> list[Cluster]:
    """Fingerprints posted by at least `min_accounts` accounts, most accounts first.

    Groups are paged with a composite aggregation (counts only); the first post is fetched for
    the `size` groups returned, not for every group.
    """
    groups = [g for g in _groups(client, names, incident, page_size) if g[2] >= min_accounts]
    groups.sort(key=lambda g: (-g[2], -g[1], g[3], g[0]))
    top = groups[:size]
    if not top:
        return []
    searches = [earliest(client, names.posts, incident, Q("term", fingerprint=g[0])) for g in top]
    firsts = [first_ref(r) for r in execute_all(client, names.posts, searches)]
    return [
        Cluster(fp, posts, accounts, first, last, ref)
        for (fp, posts, accounts, first, last), ref in zip(top, firsts, strict=True)
        if ref is not None
    ]


_Group = tuple[str, int, int, datetime, datetime]  # fingerprint, posts, accounts, first, last


def _groups(
    client: Elasticsearch, names: IndexNames, incident: Incident, page_size: int
) -> Iterator[_Group]:
    """Every fingerprint with at least two posts, page by page."""
    after: dict[str, Any] | None = None
    while True:
        search = incident_search(client, names.posts, incident, Q("exists", field="fingerprint"))
        composite = {"sources": [{"fp": {"terms": {"field": "fingerprint"}}}], "size": page_size}
        if after is not None:
            composite["after"] = after
        groups = search.aggs.bucket("groups", "composite", **composite)
        groups.metric("accounts", "cardinality", field="author.handle")
        groups.metric("first", "min", field=TIMESTAMP)
        groups.metric("last", "max", field=TIMESTAMP)
        result = search.execute().aggregations.groups
        for b in result.buckets:
            if b.doc_count >= 2:
                first, last = parse_time(b.first.value), parse_time(b.last.value)
                yield (b.key.fp, b.doc_count, int(b.accounts.value), first, last)
        after_key = getattr(result, "after_key", None)
        if not result.buckets or after_key is None:
            return
        after = after_key.to_dict()


def github_activity(
    client: Elasticsearch,
    names: IndexNames,
    incident: Incident,
    repos: list[str] | None = None,
    interval: str | None = None,
) -> GithubActivity:
    """Stars, forks and new issues per bucket on the incident's GitHub repos (or `repos`).

    The interval comes from the span of these events themselves (a repo's star history may
    reach back years before the incident's first post), with a bounded bucket count.
    """
    repo_filter = [Q("terms", repo=[r.lower() for r in repos])] if repos else []
    incident = IncidentScope.of(incident).id  # a repo's history is not bound by the window
    events = incident_search(
        client,
        names.activity,
        incident,
        Q("term", platform="github"),
        Q("terms", event=["star", "fork"]),
        *repo_filter,
    )
    issues = incident_search(
        client,
        names.posts,
        incident,
        Q("term", platform="github"),
        Q("term", kind="issue"),
        *repo_filter,
    )
    if interval is None:
        bounds = _bounds([events, issues])
        if bounds is None:
            return GithubActivity("1h", [])
        interval = auto_interval(*bounds, shortest="1h")  # stars come in hourly bursts
    events.aggs.bucket("time", "date_histogram", field=TIMESTAMP, fixed_interval=interval).bucket(
        "event", "terms", field="event", size=5
    )
    issues.aggs.bucket("time", "date_histogram", field=TIMESTAMP, fixed_interval=interval)
    per_bucket: dict[datetime, dict[str, int]] = {}
    for b in events.execute().aggregations.time.buckets:
        counts = per_bucket.setdefault(parse_time(b.key), {})
        for e in b.event.buckets:
            counts[f"{e.key}s"] = e.doc_count
    for b in issues.execute().aggregations.time.buckets:
        if b.doc_count:
            per_bucket.setdefault(parse_time(b.key), {})["issues"] = b.doc_count
    buckets = [
        ActivityBucket(start, **counts)
        for start, counts in sorted(per_bucket.items())
        if any(counts.values())
    ]
    return GithubActivity(interval, buckets)


def _bounds(searches: list[Search]) -> tuple[datetime, datetime] | None:
    """The earliest and latest @timestamp over several searches' documents (None if empty)."""
    times: list[datetime] = []
    for search in searches:
        ranged = search.extra(size=0)
        ranged.aggs.metric("first", "min", field=TIMESTAMP)
        ranged.aggs.metric("last", "max", field=TIMESTAMP)
        aggs = ranged.execute().aggregations
        times += [parse_time(v) for v in (aggs.first.value, aggs.last.value) if v is not None]
    return (min(times), max(times)) if times else None
