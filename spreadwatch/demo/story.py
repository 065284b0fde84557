"""The story the demo tells at the end, read back from Elasticsearch by the analytics module.

Every figure comes from what the real crawl indexed (`indexer.analytics`, `indexer.phases`) and
what the alert job stored; nothing is copied from the dataset's truth, which the test compares
against instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from indexer.analytics import PostRef, first_seen
from indexer.connection import IndexNames
from indexer.evidence_queries import archived_link, changed_posts, status_of
from indexer.phases import Phases, phases
from spreadwatch.demo import RECONSTRUCTION_NOTICE


@dataclass(frozen=True)
class FiredAlert:
    """An alert as the demo saw it fire: on which round (simulated time) and what it said."""

    at: datetime
    rule: str
    rule_type: str
    key: str
    subject: str


@dataclass(frozen=True)
class ChangedRef:
    """A post the demo found deleted or edited, and its archived copy."""

    id: str
    platform: str
    author: str
    status: str
    published: str
    archived: str

    @classmethod
    def of(cls, post: dict[str, Any]) -> ChangedRef:
        author = post.get("author") or {}
        return cls(
            id=post["_id"],
            platform=post.get("platform", ""),
            author=author.get("handle") or author.get("name") or "",
            status=status_of(post),
            published=str(post.get("@timestamp", "")),
            archived=archived_link(post.get("evidence") or post.get("deleted_evidence")),
        )


@dataclass
class Story:
    origin: PostRef | None
    platform_order: list[str]
    found: Phases
    posts_per_platform: dict[str, int]
    alerts: list[FiredAlert] = field(default_factory=list)
    #: Posts found deleted or edited (`indexer.evidence_queries.changed_posts`), oldest first.
    changed: list[ChangedRef] = field(default_factory=list)

    @property
    def denial(self) -> PostRef | None:
        return self.found.denial

    def as_dict(self) -> dict[str, Any]:
        m = self.found.measures
        return {
            "origin": _ref(self.origin),
            "platform_order": self.platform_order,
            "denial": _ref(self.found.denial),
            "evidence": _ref(self.found.evidence),
            "time_to_denial_h": _hours(m.time_to_denial),
            "denial_reach": m.denial_reach,
            "rumour_reach": m.rumour_reach,
            "reach_ratio": m.reach_ratio,
            "half_life_h": _hours(m.half_life),
            "posts_per_platform": self.posts_per_platform,
            "alerts": [
                {
                    "at": a.at.isoformat(),
                    "rule": a.rule,
                    "type": a.rule_type,
                    "key": a.key,
                    "subject": a.subject,
                }
                for a in self.alerts
            ],
            "changed": [c.__dict__ for c in self.changed],
        }


def _ref(ref: PostRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {
        "id": ref.id,
        "platform": ref.platform,
        "at": ref.timestamp.isoformat(),
        "url": ref.url,
        "author": ref.author,
    }


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 2)


def posts_per_platform(client: Elasticsearch, names: IndexNames, incident: str) -> dict[str, int]:
    response = client.search(
        index=names.posts,
        size=0,
        query={"term": {"incident": incident}},
        aggs={"p": {"terms": {"field": "platform", "size": 50}}},
    )
    return {b["key"]: b["doc_count"] for b in response["aggregations"]["p"]["buckets"]}


def read_story(
    client: Elasticsearch, names: IndexNames, incident: str, alerts: list[FiredAlert]
) -> Story:
    client.indices.refresh(index=names.posts)
    origin = first_seen(client, names, incident)
    changed = sorted(changed_posts(client, names, incident), key=lambda p: str(p.get("@timestamp")))
    return Story(
        origin=origin.first,
        platform_order=origin.platform_order,
        found=phases(client, names, incident),
        posts_per_platform=posts_per_platform(client, names, incident),
        alerts=alerts,
        changed=[ChangedRef.of(post) for post in changed],
    )


def _line(label: str, value: str) -> str:
    return f"  {label:<22} {value}"


def _post(ref: PostRef | None) -> str:
    if ref is None:
        return "not found"
    return f"{ref.platform} {ref.timestamp:%a %d %b %Y %H:%M} UTC  {ref.url or ref.id}"


def render_story(story: Story) -> str:
    """The story as plain text, for the terminal and story.txt."""
    m = story.found.measures
    ratio = f"{m.reach_ratio:.2f}" if m.reach_ratio is not None else "n/a"
    lines = [
        RECONSTRUCTION_NOTICE,
        "",
        "The story, read back from Elasticsearch:",
        _line("origin", _post(story.origin)),
        _line("platform order", " → ".join(story.platform_order) or "none"),
        _line("evidence", _post(story.found.evidence)),
        _line("first official denial", _post(story.found.denial)),
        _line("time to denial", f"{_hours(m.time_to_denial)} h"),
        _line(
            "denial vs rumour reach", f"{m.denial_reach:,} vs {m.rumour_reach:,} (ratio {ratio})"
        ),
        _line("rumour half-life", f"{_hours(m.half_life)} h after the denial"),
        _line(
            "posts per platform",
            ", ".join(f"{p} {n}" for p, n in sorted(story.posts_per_platform.items())),
        ),
        "",
        f"Alerts fired ({len(story.alerts)}):",
    ]
    lines += [f"  {a.at:%d %b %H:%M} UTC  {a.rule_type:<18} {a.subject}" for a in story.alerts]
    lines += ["", f"Deleted or edited since first archived ({len(story.changed)}):"]
    lines += [
        f"  {c.status:<34} {c.platform} {c.id}  by {c.author or 'unknown'}  archived: {c.archived}"
        for c in story.changed
    ]
    return "\n".join(lines)
