"""GitHub search, replayed: free terms (all must appear), quoted phrases, `key:op value` qualifiers.

Repositories are searched in name and description (GitHub's default fields); issues and pull
requests in title and body; commits in their message. Like GitHub, a term matches inside a
longer word's text here (a search for a slogan finds any project whose name holds one of its
words): relevance is the caller's business, which is why spreadwatch's matcher checks every hit.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from spreadwatch.replay.github_data import (
    GithubData,
    Record,
    authored_at,
    commit_search_item,
    committed_at,
)
from spreadwatch.replay.server import parse_time

_QUALIFIER = re.compile(r'(?P<key>[a-z_-]+):(?P<op>[<>]=?)?(?P<value>"[^"]*"|\S+)')
_TERM = re.compile(r'"([^"]+)"|(\S+)')
_SORT_FIELDS = {"stars": "stargazers_count", "forks": "forks_count", "comments": "comments"}


def parse_query(query: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Free terms (quoted phrases kept whole) and `key:[op]value` qualifiers."""
    qualifiers = [
        (m["key"], m["op"] or "", m["value"].strip('"')) for m in _QUALIFIER.finditer(query)
    ]
    rest = _QUALIFIER.sub(" ", query)
    terms = [a or b for a, b in _TERM.findall(rest)]
    terms = [t for t in terms if t.upper() not in ("AND", "OR", "NOT")]
    return [t.casefold() for t in terms], qualifiers


def _created(record: Record) -> datetime:
    return parse_time(record["created_at"])


def _pool(data: GithubData, kind: str) -> list[tuple[Record, datetime, str]]:
    """(record as the search returns it, its time, the text searched) for one search kind."""
    if kind == "repositories":
        return [
            (r, _created(r), f"{r['full_name']} {r.get('description') or ''}") for r in data.repos
        ]
    if kind == "issues":
        return [
            (
                dict(issue, repository_url=f"https://api.github.com/repos/{repo}"),
                _created(issue),
                f"{issue.get('title') or ''} {issue.get('body') or ''}",
            )
            for repo, issues in data.issues.items()
            for issue in issues
        ]
    pool = [(c, committed_at(c), c["commit"]["message"]) for c in data.commits]
    for name, history in data.repo_commits.items():
        repo = data.repo(name) or {"full_name": name}
        pool += [
            (commit_search_item(c, repo), committed_at(c), c["commit"]["message"]) for c in history
        ]
    return pool


def search(data: GithubData, kind: str, query: str, now: datetime) -> list[Record]:
    """Every visible record of `kind` matching `query`, unsorted."""
    terms, qualifiers = parse_query(query)
    found = []
    for record, created, text in _pool(data, kind):
        if created > now or not all(t in text.casefold() for t in terms):
            continue
        if kind == "repositories" and data.deleted(record["full_name"], now):
            continue
        if all(_qualifies(created, q) for q in qualifiers):
            found.append(dict(record, score=1.0))
    return found


def _qualifies(created: datetime, qualifier: tuple[str, str, str]) -> bool:
    key, op, value = qualifier
    if key not in ("created", "author-date", "committer-date"):
        return True  # other qualifiers (in:, is:, repo:) are accepted and not filtered on
    try:
        bound = parse_time(value if "T" in value else value + "T00:00:00Z")
    except ValueError:
        return True
    return {
        ">": created > bound,
        ">=": created >= bound,
        "<": created < bound,
        "<=": created <= bound,
        "": created.date() == bound.date(),
    }[op]


def sort(items: list[Record], kind: str, by: str | None, order: str) -> list[Record]:
    """GitHub's `sort`/`order`; without `sort`, best match (here: the pool's order)."""
    if not by:
        return items
    descending = order != "asc"
    if by in _SORT_FIELDS:
        name = _SORT_FIELDS[by]
        return sorted(items, key=lambda r: r.get(name) or -math.inf, reverse=descending)
    key: Any = _created
    if kind == "commits":
        key = authored_at if by == "author-date" else committed_at
    elif by == "updated":
        key = _updated
    return sorted(items, key=key, reverse=descending)


def _updated(record: Record) -> datetime:
    return parse_time(record.get("updated_at") or record.get("pushed_at") or record["created_at"])
