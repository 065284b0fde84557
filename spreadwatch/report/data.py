"""Everything the report shows, gathered from Elasticsearch in one place before rendering.

Rendering never queries: the template and the charts get this frozen snapshot, so a report is
consistent even while crawls keep indexing, and rendering can be tested on known data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from elasticsearch import Elasticsearch, NotFoundError

from alerts.store import LIVE_STATES, AlertStore
from indexer import analytics
from indexer.analytics import (
    Amplifier,
    Cluster,
    GithubActivity,
    Origin,
    PostRef,
    Timeline,
)
from indexer.claims import ClaimReport, claim_report, indexed_claims
from indexer.connection import IndexNames
from indexer.evidence_queries import archived_link, changed_posts, status_of
from indexer.phases import Phases, phases
from indexer.report_queries import (
    LanguageShare,
    ReachDecider,
    RepoActivity,
    github_repos,
    languages,
    reach_deciders,
    top_posts_per_phase,
)
from indexer.scope import IncidentScope
from spreadwatch.incident import Claim


@dataclass(frozen=True)
class ChangedPost:
    """A post found deleted or edited, and where its archived copy is."""

    id: str
    platform: str
    author: str
    published: str
    url: str
    status: str
    changed_at: str
    archived: str
    text: str


def changed(
    client: Elasticsearch, names: IndexNames, incident: str, replay_url: str | None
) -> tuple[ChangedPost, ...]:
    rows = []
    for post in changed_posts(client, names, incident):
        author = post.get("author") or {}
        rows.append(
            ChangedPost(
                id=post["_id"],
                platform=post.get("platform", ""),
                author=author.get("handle") or author.get("name") or "",
                published=str(post.get("@timestamp", "")),
                url=post.get("url") or "",
                status=status_of(post),
                changed_at=str(post.get("deleted_at") or post.get("edited_at") or ""),
                archived=archived_link(
                    post.get("evidence") or post.get("deleted_evidence"), replay_url
                ),
                text=post.get("text") or post.get("title") or "",
            )
        )
    return tuple(rows)


@dataclass(frozen=True)
class AlertLine:
    """An alert raised for the incident, as the report lists it."""

    at: str
    rule_type: str
    subject: str
    state: str


def alert_lines(client: Elasticsearch, names: IndexNames, incident: str) -> tuple[AlertLine, ...]:
    try:
        raised = AlertStore(client, names).recent(incident, 100)
    except NotFoundError:
        return ()
    lines = [
        AlertLine(
            str(a["@timestamp"]),
            a.get("rule_type") or a.get("rule", ""),
            a.get("subject") or "",
            a["state"],
        )
        for a in raised
        if a.get("state") in LIVE_STATES and a.get("incident") == incident
    ]
    return tuple(sorted(lines, key=lambda line: line.at))


@dataclass(frozen=True)
class ReportData:
    incident_id: str
    title: str
    description: str
    generated_at: datetime
    timeline: Timeline
    phases: Phases
    origin: Origin
    amplifiers: list[Amplifier]
    clusters: list[Cluster]
    github: GithubActivity
    top_posts: list[list[PostRef]]  # aligned with phases.phases
    changed: tuple[ChangedPost, ...] = ()  # deleted or edited posts, with their archived copy
    claims: ClaimReport | None = None  # claim by claim (indexer/claims.py)
    languages: tuple[LanguageShare, ...] = ()
    repos: tuple[RepoActivity, ...] = ()  # GitHub activity per repository
    alerts: tuple[AlertLine, ...] = ()
    #: Per side of the reach ratio (rumour, denial), the posts with most of its reach.
    deciders: dict[str, list[ReachDecider]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.phases.span is None


def collect(
    client: Elasticsearch,
    names: IndexNames,
    incident: str | IncidentScope,
    *,
    title: str | None = None,
    description: str = "",
    now: datetime | None = None,
    replay_url: str | None = None,
    claims: list[Claim] | None = None,
) -> ReportData:
    """Query the analytics for one incident (about ten searches, whatever its size); given a
    scope, only posts inside the incident's window count."""
    scope = IncidentScope.of(incident)
    incident_id = scope.id
    generated_at = now or datetime.now(UTC)
    found = phases(client, names, scope, now=generated_at)
    timeline = analytics.timeline(client, names, scope, interval=found.interval)
    return ReportData(
        incident_id=incident_id,
        title=title or incident_id,
        description=description,
        generated_at=generated_at,
        timeline=timeline,
        phases=found,
        origin=analytics.first_seen(client, names, scope),
        amplifiers=analytics.amplifiers(client, names, scope, by="reach", size=10),
        clusters=analytics.clusters(client, names, scope, size=10),
        github=analytics.github_activity(client, names, scope),
        top_posts=top_posts_per_phase(client, names, scope, found.phases),
        changed=changed(client, names, incident_id, replay_url),
        claims=claim_report(
            client,
            names,
            scope,
            claims if claims is not None else indexed_claims(client, names, scope),
            interval=found.interval,
        ),
        languages=tuple(languages(client, names, scope)),
        repos=tuple(github_repos(client, names, scope)),
        alerts=alert_lines(client, names, incident_id),
        deciders=reach_deciders(client, names, scope),
    )
