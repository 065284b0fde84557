"""The queries evidence needs: which posts to re-check, what an incident's archive holds.

Posts of interest (re-checked for deletion and edits): official posts, evidence (repos, their
READMEs, commits, statements), and matched posts whose author reaches at least `min_reach`;
never ones already known deleted. Largest reach first, so a cap keeps what matters most.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.dsl import Q, Search

from indexer.connection import IndexNames

EVIDENCE_KINDS = ("repo", "commit", "statement")
TARGET_FIELDS: list[str | Any] = ["platform", "native_id", "kind", "url", "repo", "@timestamp"]


def recheck_targets(
    client: Elasticsearch, names: IndexNames, incident: str, min_reach: int, limit: int = 5000
) -> list[dict[str, Any]]:
    """The incident's posts to re-check, as {platform, native_id, kind, url, repo, timestamp}."""
    interest = (
        Q("term", **{"author.official": True})
        | Q("terms", kind=list(EVIDENCE_KINDS))
        | Q("wildcard", native_id="*:readme")
        | Q("range", reach={"gte": min_reach})
    )
    search = (
        Search(using=client, index=names.posts)
        .filter("term", incident=incident)
        .filter(interest)
        .exclude("exists", field="deleted_at")
        .sort({"reach": {"order": "desc", "missing": "_last"}})
        .source(TARGET_FIELDS)
        .extra(size=limit)
    )
    targets = []
    for hit in search.execute():
        doc = hit.to_dict()
        targets.append(
            {
                "platform": doc["platform"],
                "native_id": doc["native_id"],
                "kind": doc.get("kind", "post"),
                "url": doc.get("url"),
                "repo": doc.get("repo"),
                "timestamp": doc.get("@timestamp"),
            }
        )
    return targets


def render_targets(
    client: Elasticsearch, names: IndexNames, incident: str, sources: list[str]
) -> list[dict[str, Any]]:
    """Posts whose page is captured rendered too: official posts, statements, GitHub repos,
    as the incident's `evidence.render` lists them; not deleted, with an http(s) URL."""
    wanted = []
    if "official" in sources:
        wanted.append(Q("term", **{"author.official": True}))
    if "pages" in sources:
        wanted.append(Q("term", kind="statement"))
    if "github" in sources:
        wanted.append(Q("term", platform="github") & Q("term", kind="repo"))
    if not wanted:
        return []
    search = (
        Search(using=client, index=names.posts)
        .filter("term", incident=incident)
        .filter(Q("bool", should=wanted, minimum_should_match=1))
        .filter("prefix", url="http")
        .exclude("exists", field="deleted_at")
        .source(["platform", "native_id", "url", "kind", "evidence", "rendered"])
    )
    return [{"_id": hit.meta.id, **hit.to_dict()} for hit in search.scan()]


def changed_posts(
    client: Elasticsearch, names: IndexNames, incident: str, size: int = 200
) -> list[dict[str, Any]]:
    """The incident's posts found deleted or edited, most recent change first."""
    search = (
        Search(using=client, index=names.posts)
        .filter("term", incident=incident)
        .filter(Q("exists", field="deleted_at") | Q("exists", field="edited_at"))
        .sort(
            {"deleted_at": {"order": "desc", "missing": "_last"}},
            {"edited_at": {"order": "desc", "missing": "_last"}},
        )
        .extra(size=size)
    )
    return [{"_id": hit.meta.id, **hit.to_dict()} for hit in search.execute()]


def status_of(post: dict[str, Any]) -> str:
    """`deleted (how)`, `edited` (with how many earlier versions), or empty."""
    parts = []
    if post.get("deleted_at"):
        parts.append(f"deleted ({post.get('deleted_how') or 'gone'})")
    if post.get("edited_at"):
        parts.append(f"edited ({len(post.get('versions') or [])} earlier)")
    return ", ".join(parts)


def archived_link(evidence: dict[str, Any] | None, replay_url: str | None = None) -> str:
    """Where a post's archived copy is: a replay URL (pywb's `<collection>/<14-digit time>/<url>`)
    when one is configured, else `evidence/<warc file>#<record id>` under the data folder."""
    if not evidence:
        return ""
    uri, captured = evidence.get("uri"), str(evidence.get("captured_at") or "")
    if replay_url and uri and captured:
        stamp = "".join(c for c in captured[:19] if c.isdigit())
        return f"{replay_url.rstrip('/')}/{stamp}/{uri}"
    return f"evidence/{evidence.get('warc')}#{evidence.get('record_id')}"


def archived_posts(client: Elasticsearch, names: IndexNames, incident: str) -> list[dict[str, Any]]:
    """Every post of the incident with an archived copy (its evidence, versions, deletion)."""
    search = (
        Search(using=client, index=names.posts)
        .filter("term", incident=incident)
        .filter(Q("exists", field="evidence") | Q("exists", field="deleted_evidence"))
        .sort("@timestamp")
    )
    return [{"_id": hit.meta.id, **hit.to_dict()} for hit in search.scan()]


def referenced_records(client: Elasticsearch, names: IndexNames, incident: str) -> set[str]:
    """WARC record ids any post of the incident points at (now, in a version, its deletion, or
    its rendered capture: screenshot and DOM). Every post is read: `rendered` is stored but not
    indexed, so no query can pick the posts that have one."""
    search = (
        Search(using=client, index=names.posts)
        .filter("term", incident=incident)
        .source(["evidence", "deleted_evidence", "versions.evidence", "rendered"])
    )
    ids: set[str] = set()
    for hit in search.scan():
        post = hit.to_dict()
        for evidence in (post.get("evidence"), post.get("deleted_evidence")):
            if evidence:
                ids.add(evidence["record_id"])
        for version in post.get("versions") or []:
            if version.get("evidence"):
                ids.add(version["evidence"]["record_id"])
        rendered = post.get("rendered") or {}
        ids.update(rendered[key] for key in ("screenshot", "dom") if rendered.get(key))
    return ids
