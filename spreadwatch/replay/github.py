"""GitHub REST v3, replayed: search, repos, README, events, stargazers, forks, issues, users.

Data is held in GitHub's own shapes (see `GithubData`), so a fixture can be pasted from a real
response. Every reply carries `x-ratelimit-*` headers counted per resource (core, search); a 304
is free, as on GitHub; an exhausted resource answers 403 with `x-ratelimit-remaining: 0`.
Stargazers come with `starred_at` only for `Accept: application/vnd.github.star+json`.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from spreadwatch.replay.paging import page_of
from spreadwatch.replay.server import ReplayApp, ReplayRequest, Reply, parse_time, visible

STAR_MEDIA_TYPE = "application/vnd.github.star+json"
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"


@dataclass
class GithubData:
    """Fixtures in GitHub's shapes, keyed by `owner/name` or login where per repo or per user."""

    repos: list[dict[str, Any]] = field(default_factory=list)
    readmes: dict[str, str] = field(default_factory=dict)
    stargazers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    forks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    issues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    repo_events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    user_events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    commits: list[dict[str, Any]] = field(default_factory=list)
    #: Repos blocked for legal reasons (451, e.g. a DMCA takedown): full name → `block` object.
    blocked: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Issues deleted by their repo's admin (410 `This issue was deleted`): `owner/name#N`.
    deleted_issues: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> GithubData:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def repo(self, full_name: str) -> dict[str, Any] | None:
        lowered = full_name.lower()
        return next((r for r in self.repos if r["full_name"].lower() == lowered), None)


def _created(record: dict[str, Any]) -> datetime:
    return parse_time(record["created_at"])


def _starred(record: dict[str, Any]) -> datetime:
    return parse_time(record["starred_at"])


def _commit_date(record: dict[str, Any]) -> datetime:
    return parse_time(record["commit"]["author"]["date"])


@dataclass
class _Budget:
    limit: int
    window: int
    used: int = 0
    reset: int = 0


class GithubReplay(ReplayApp):
    """The GitHub API over `GithubData`; `limits` sets requests per window per resource."""

    name = "github"

    def __init__(self, data: GithubData, core_limit: int = 5000, search_limit: int = 30) -> None:
        super().__init__()
        self.data = data
        #: Answer searches as GitHub does when a search timed out part-way.
        self.incomplete_results = False
        self._budgets = {"core": _Budget(core_limit, 3600), "search": _Budget(search_limit, 60)}
        self._lock = threading.Lock()
        self.route("GET", r"/search/(?P<kind>repositories|issues|commits)", self.search)
        self.route("GET", _REPO, self.repository)
        self.route("GET", _REPO + r"/readme", self.readme)
        self.route("GET", _REPO + r"/events", self.repo_events)
        self.route("GET", _REPO + r"/stargazers", self.stargazers)
        self.route("GET", _REPO + r"/forks", self.forks)
        self.route("GET", _REPO + r"/issues", self.issues)
        self.route("GET", _REPO + r"/issues/comments", self.comments)
        self.route("GET", _REPO + r"/issues/(?P<number>\d+)", self.issue)
        self.route("GET", _REPO + r"/issues/comments/(?P<id>\d+)", self.comment)
        self.route("GET", _REPO + r"/commits/(?P<sha>[0-9a-fA-F]+)", self.commit)
        self.route("GET", r"/users/(?P<login>[^/]+)", self.user)
        self.route("GET", r"/users/(?P<login>[^/]+)/events/public", self.user_events)
        self.route("GET", r"/rate_limit", self.rate_limit)

    # Rate limits: charged in `dispatch`, reported in `decorate`.

    def dispatch(self, request: ReplayRequest) -> Reply:
        budget = self._budget(request)
        with self._lock:
            now = int(request.now.timestamp())
            if now >= budget.reset:
                budget.used, budget.reset = 0, now + budget.window
            exhausted = budget.used >= budget.limit
            # Charged up front; a 304 is refunded in `decorate` (conditional hits are free).
            budget.used += 0 if exhausted else 1
        if exhausted:
            return Reply.json(
                {
                    "message": "API rate limit exceeded for 127.0.0.1.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                },
                status=403,
            )
        return super().dispatch(request)

    def decorate(self, request: ReplayRequest, reply: Reply) -> Reply:
        if any(k.lower().startswith("x-ratelimit") for k in reply.headers):
            return reply  # a scripted rate-limit reply keeps its own headers
        budget = self._budget(request)
        with self._lock:
            if reply.status == 304 and budget.used > 0:
                budget.used -= 1
            reply.headers.update(
                {
                    "x-ratelimit-limit": str(budget.limit),
                    "x-ratelimit-remaining": str(max(0, budget.limit - budget.used)),
                    "x-ratelimit-used": str(budget.used),
                    "x-ratelimit-reset": str(budget.reset),
                    "x-ratelimit-resource": self._resource(request),
                    "x-github-media-type": "github.v3; format=json",
                }
            )
        return reply

    def _resource(self, request: ReplayRequest) -> str:
        return "search" if request.path.startswith("/search/") else "core"

    def _budget(self, request: ReplayRequest) -> _Budget:
        return self._budgets[self._resource(request)]

    def rate_limit(self, request: ReplayRequest) -> Reply:
        resources = {
            name: {
                "limit": b.limit,
                "used": b.used,
                "remaining": b.limit - b.used,
                "reset": b.reset,
            }
            for name, b in self._budgets.items()
        }
        reply = Reply.json({"resources": resources, "rate": resources["core"]})
        reply.etag = False
        return reply

    # Search.

    def search(self, request: ReplayRequest) -> Reply:
        query = request.query.get("q", "").strip()
        if not query:
            return _validation_failed("q")
        if len(query) > 256:
            return _validation_failed("q", "The search is longer than 256 characters.")
        kind = request.match.group("kind") if request.match else "repositories"
        items = _search(self.data, kind, query, request.now)
        if kind == "repositories":  # counts as of now, as the repo endpoint shows them
            items = [self._with_counts(item, request.now) for item in items]
        items = _sort(items, kind, request.query.get("sort"), request.query.get("order", "desc"))
        chunk, headers = page_of(items[:1000], request)
        body = {
            "total_count": len(items),
            "incomplete_results": self.incomplete_results,
            "items": chunk,
        }
        return Reply.json(body).with_headers(headers)

    # Repositories.

    def _repo(self, request: ReplayRequest) -> dict[str, Any] | None:
        assert request.match is not None
        repo = self.data.repo(f"{request.match['owner']}/{request.match['name']}")
        if repo is None or _created(repo) > request.now:
            return None
        return self._with_counts(repo, request.now)

    def _with_counts(self, repo: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The repo as of `now`: star and fork counts grow as stargazers and forks appear."""
        name = repo["full_name"]
        shown = dict(repo)
        if name in self.data.stargazers:
            count = len(visible(self.data.stargazers[name], now, _starred))
            shown["stargazers_count"] = shown["watchers_count"] = shown["watchers"] = count
        if name in self.data.forks:
            shown["forks_count"] = shown["forks"] = len(
                visible(self.data.forks[name], now, _created)
            )
        return shown

    def repository(self, request: ReplayRequest) -> Reply:
        blocked = self._blocked(request)
        if blocked is not None:
            return blocked
        repo = self._repo(request)
        return Reply.json(repo) if repo else self.not_found(request)

    def readme(self, request: ReplayRequest) -> Reply:
        repo = self._repo(request)
        text = self.data.readmes.get(repo["full_name"]) if repo else None
        if repo is None or text is None:
            return self.not_found(request)
        encoded = base64.encodebytes(text.encode("utf-8")).decode("ascii")
        url = f"{request.base_url}/repos/{repo['full_name']}/contents/README.md"
        return Reply.json(
            {
                "type": "file",
                "encoding": "base64",
                "name": "README.md",
                "path": "README.md",
                "size": len(text.encode("utf-8")),
                "content": encoded,
                "url": url,
                "html_url": f"{repo['html_url']}/blob/main/README.md",
            }
        )

    def _listing(
        self, request: ReplayRequest, table: dict[str, list[dict[str, Any]]], key: Any
    ) -> Reply:
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        records = visible(table.get(repo["full_name"], []), request.now, key)
        return self._page(request, records)

    def _page(self, request: ReplayRequest, records: list[dict[str, Any]], **extra: str) -> Reply:
        chunk, headers = page_of(records, request)
        return Reply.json(chunk).with_headers({**headers, **extra})

    def repo_events(self, request: ReplayRequest) -> Reply:
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        return self._events(request, self.data.repo_events.get(repo["full_name"], []))

    def _events(self, request: ReplayRequest, events: list[dict[str, Any]]) -> Reply:
        """Newest first, at most 300 (the events API's window), polled with X-Poll-Interval."""
        shown = sorted(visible(events, request.now, _created), key=_created, reverse=True)[:300]
        return self._page(request, shown, **{"X-Poll-Interval": "60"})

    def stargazers(self, request: ReplayRequest) -> Reply:
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        stars = sorted(
            visible(self.data.stargazers.get(repo["full_name"], []), request.now, _starred),
            key=_starred,
        )
        if STAR_MEDIA_TYPE not in (request.header("accept") or ""):
            stars = [s["user"] for s in stars]
        return self._page(request, stars)

    def forks(self, request: ReplayRequest) -> Reply:
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        forks = visible(self.data.forks.get(repo["full_name"], []), request.now, _created)
        newest = request.query.get("sort", "newest") == "newest"
        return self._page(request, sorted(forks, key=_created, reverse=newest))

    def issues(self, request: ReplayRequest) -> Reply:
        return self._since_listing(request, self.data.issues)

    def comments(self, request: ReplayRequest) -> Reply:
        return self._since_listing(request, self.data.comments)

    def _since_listing(
        self, request: ReplayRequest, table: dict[str, list[dict[str, Any]]]
    ) -> Reply:
        """Issues or comments updated at or after `since`, oldest first (GitHub's `since`)."""
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        records = visible(table.get(repo["full_name"], []), request.now, _created)
        since = request.query.get("since")
        if since:
            try:
                cutoff = parse_time(since)
            except ValueError:
                return _validation_failed("since", "Invalid ISO 8601 timestamp.")
            records = [r for r in records if _updated(r) >= cutoff]
        return self._page(request, sorted(records, key=_created))

    # Users.

    def _blocked(self, request: ReplayRequest) -> Reply | None:
        assert request.match is not None
        name = f"{request.match['owner']}/{request.match['name']}".lower()
        block = {k.lower(): v for k, v in self.data.blocked.items()}.get(name)
        if block is None:
            return None
        body = {"message": "Repository access blocked", "block": block}
        return Reply(status=451, body=json.dumps(body).encode(), etag=False)

    def issue(self, request: ReplayRequest) -> Reply:
        """One issue; 410 once deleted, 404 when its repo is gone."""
        blocked = self._blocked(request)
        if blocked is not None:
            return blocked
        repo = self._repo(request)
        assert request.match is not None
        if repo is None:
            return self.not_found(request)
        number = int(request.match["number"])
        if f"{repo['full_name']}#{number}".lower() in {i.lower() for i in self.data.deleted_issues}:
            body = {"message": "This issue was deleted", "documentation_url": "https://docs.github.com/rest/issues/issues#get-an-issue", "status": "410"}  # fmt: skip
            return Reply(status=410, body=json.dumps(body).encode(), etag=False)
        for issue in visible(self.data.issues.get(repo["full_name"], []), request.now, _created):
            if issue.get("number") == number:
                return Reply.json(issue)
        return self.not_found(request)

    def comment(self, request: ReplayRequest) -> Reply:
        repo = self._repo(request)
        assert request.match is not None
        if repo is None:
            return self.not_found(request)
        for comment in visible(
            self.data.comments.get(repo["full_name"], []), request.now, _created
        ):
            if str(comment.get("id")) == request.match["id"]:
                return Reply.json(comment)
        return self.not_found(request)

    def commit(self, request: ReplayRequest) -> Reply:
        """One commit; a SHA the repo no longer has (force-pushed away) answers 422."""
        repo = self._repo(request)
        assert request.match is not None
        if repo is None:
            return self.not_found(request)
        sha = request.match["sha"].lower()
        for record in self.data.commits:
            same_repo = (record.get("repository") or {}).get("full_name", "").lower() == repo[
                "full_name"
            ].lower()
            if (
                same_repo
                and record["sha"].lower().startswith(sha)
                and _commit_date(record) <= request.now
            ):
                return Reply.json(record)
        body = {"message": f"No commit found for SHA: {request.match['sha']}", "documentation_url": "https://docs.github.com/rest/commits/commits#get-a-commit", "status": "422"}  # fmt: skip
        return Reply(status=422, body=json.dumps(body).encode(), etag=False)

    def user(self, request: ReplayRequest) -> Reply:
        assert request.match is not None
        user = self.data.users.get(request.match["login"])
        return Reply.json(user) if user else self.not_found(request)

    def user_events(self, request: ReplayRequest) -> Reply:
        assert request.match is not None
        login = request.match["login"]
        if login not in self.data.users:
            return self.not_found(request)
        return self._events(request, self.data.user_events.get(login, []))

    def not_found(self, request: ReplayRequest) -> Reply:
        reply = Reply.json(
            {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
            status=404,
        )
        reply.etag = False
        return reply


def _updated(record: dict[str, Any]) -> datetime:
    return parse_time(record.get("updated_at") or record["created_at"])


def _validation_failed(field_name: str, message: str = "Missing required field.") -> Reply:
    body = {
        "message": "Validation Failed",
        "errors": [
            {"resource": "Search", "field": field_name, "code": "invalid", "message": message}
        ],
        "documentation_url": "https://docs.github.com/v3/search",
    }
    reply = Reply.json(body, status=422)
    reply.etag = False
    return reply


_QUALIFIER = re.compile(r'(?P<key>[a-z_]+):(?P<op>[<>]=?)?(?P<value>"[^"]*"|\S+)')
_TERM = re.compile(r'"([^"]+)"|(\S+)')


def _parse_query(query: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Free terms (quoted phrases kept whole) and `key:[op]value` qualifiers."""
    qualifiers = [
        (m["key"], m["op"] or "", m["value"].strip('"')) for m in _QUALIFIER.finditer(query)
    ]
    rest = _QUALIFIER.sub(" ", query)
    terms = [a or b for a, b in _TERM.findall(rest)]
    terms = [t for t in terms if t.upper() not in ("AND", "OR", "NOT")]
    return [t.casefold() for t in terms], qualifiers


def _search(data: GithubData, kind: str, query: str, now: datetime) -> list[dict[str, Any]]:
    terms, qualifiers = _parse_query(query)
    if kind == "repositories":
        pool = [
            (r, _created(r), f"{r['full_name']} {r.get('description') or ''}") for r in data.repos
        ]
    elif kind == "issues":
        pool = [
            (
                dict(issue, repository_url=f"https://api.github.com/repos/{repo}"),
                _created(issue),
                f"{issue.get('title') or ''} {issue.get('body') or ''}",
            )
            for repo, issues in data.issues.items()
            for issue in issues
        ]
    else:
        pool = [(c, _commit_date(c), c["commit"]["message"]) for c in data.commits]
    found = []
    for record, created, text in pool:
        if created > now or not all(t in text.casefold() for t in terms):
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


def _sort(
    items: list[dict[str, Any]], kind: str, sort: str | None, order: str
) -> list[dict[str, Any]]:
    if not sort:
        return items
    key = _commit_date if kind == "commits" else _created
    if sort in ("stars", "forks", "comments"):
        field_name = {"stars": "stargazers_count", "forks": "forks_count", "comments": "comments"}[
            sort
        ]
        return sorted(items, key=lambda r: r.get(field_name) or -math.inf, reverse=order != "asc")
    return sorted(items, key=key, reverse=order != "asc")
