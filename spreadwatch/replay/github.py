"""GitHub REST v3, replayed the way api.github.com answers.

- Search (repositories, issues, commits), repos, README, events, stargazers, forks, issues (pull
  requests included, `state`, `sort`, `direction`, `since`), issue comments, pull request
  review comments, pull request commits, commits (`since`/`until`) and commit details, users
  and their public events, `/rate_limit`. Data: `GithubData` (`github_data.py`).
- Search serves a query's first 1,000 results only: no `next` link past them, and a page that
  starts past them is a 422 ("Only the first 1000 search results are available").
- Paging by `page`/`per_page` (default 30, at most 100) with a `Link` header; lists of a
  repository link to `/repositories/<id>/...`, as GitHub does, and those paths are served too.
- Every 200 has an ETag; a matching `If-None-Match` is a 304 without body or `Link` header, and
  costs nothing against the rate limit.
- `x-ratelimit-*` headers (limit, remaining, used, reset, resource) per resource: `search` for
  `/search/*`, `core` for the rest; an exhausted resource answers 403 with remaining 0.
- Repository and user names are matched case-insensitively; replies spell them as GitHub does.
- Changes over time: a repo its owner deleted (`deleted_repos`) is 404 from then on and gone
  from search; a README reads as its latest edit by the clock (`readme_edits`).
  Stargazers carry `starred_at` only with `Accept: application/vnd.github.star+json`.
- Stargazers serve a repo's first 40,000 stars (`stars_served`; 400 pages of 100): a page that
  starts past them is a 422 "pagination is limited for this resource" (PyGithub/PyGithub#1876,
  star-history/star-history#194, MeltanoLabs/tap-github#120: its `rel="last"` link, the real
  last page, is refused the same way). `POST /graphql` answers the `repository.stargazers`
  connection (`first` ≤ 100, `after`, `orderBy: {field: STARRED_AT, direction: ASC|DESC}`) with
  GitHub's shapes: `totalCount`, `pageInfo {endCursor hasNextPage}`, `edges {starredAt node}`,
  opaque cursors that hold their place as stars arrive; 401 without a token; its own `graphql`
  rate limit, exhausted as a 200 with an error of type `RATE_LIMITED` (github/docs#22607); an
  unknown repository is `repository: null` with a `NOT_FOUND` error.
- Events (a repository's, a user's public ones) serve the newest 300 (`events_served`), newest
  first: a page that starts past them is the same 422 (MeltanoLabs/tap-github#26: `page=4` of
  100; the last page served has no `next` link).
"""

from __future__ import annotations

import base64
import bisect
import json
import re
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from spreadwatch.replay import github_search
from spreadwatch.replay.github_data import (
    GithubData,
    Record,
    commit_detail,
    commit_list_item,
    committed_at,
)
from spreadwatch.replay.paging import page_of
from spreadwatch.replay.server import ReplayApp, ReplayRequest, Reply, parse_time, visible

__all__ = ["STAR_MEDIA_TYPE", "GithubData", "GithubReplay"]

STAR_MEDIA_TYPE = "application/vnd.github.star+json"
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
_BY_ID = re.compile(r"/repositories/(?P<id>\d+)(?P<rest>/.*)?")
EVENTS_SERVED = 300
#: GitHub's REST stargazers list serves a repo's first 40,000 stars (400 pages of 100).
STARS_SERVED = 40_000
_PULL_COMMITS_MAX = 250


def _created(record: Record) -> datetime:
    return parse_time(record["created_at"])


def _starred(record: Record) -> datetime:
    return parse_time(record["starred_at"])


def _updated(record: Record) -> datetime:
    return parse_time(record.get("updated_at") or record["created_at"])


@dataclass
class _Budget:
    limit: int
    window: int
    used: int = 0
    reset: int = 0


class GithubReplay(ReplayApp):
    """The GitHub API over `GithubData`; limits are requests per window per resource."""

    name = "github"

    def __init__(
        self,
        data: GithubData,
        core_limit: int = 5000,
        search_limit: int = 30,
        stars_served: int = STARS_SERVED,
        graphql_limit: int = 5000,
        *,
        events_served: int = EVENTS_SERVED,
        search_window: int = 60,
    ) -> None:
        super().__init__()
        self.data = data
        #: Answer searches as GitHub does when a search timed out part-way.
        self.incomplete_results = False
        #: How many stars of a repo the REST stargazers list serves (GitHub: 40,000).
        self.stars_served = stars_served
        #: How many of a list's newest events GitHub serves (300; fewer on some busy repos,
        #: MeltanoLabs/tap-github#26).
        self.events_served = events_served
        self._budgets = {
            "core": _Budget(core_limit, 3600),
            "search": _Budget(search_limit, search_window),  # GitHub: 30 a minute
            "graphql": _Budget(graphql_limit, 3600),
        }
        self._lock = threading.Lock()
        #: The variables of every GraphQL query answered (cursors asked), for assertions.
        self.graphql_asked: list[dict[str, Any]] = []
        self._star_cache: dict[
            tuple[str, int, int, datetime], list[tuple[datetime, int, Record]]
        ] = {}
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
        self.route("GET", _REPO + r"/pulls/comments", self.review_comments)
        self.route("GET", _REPO + r"/pulls/(?P<number>\d+)/commits", self.pull_commits)
        self.route("GET", _REPO + r"/commits", self.commits)
        self.route("GET", _REPO + r"/commits/(?P<sha>[0-9a-fA-F]{4,40})", self.commit)
        self.route("GET", r"/users/(?P<login>[^/]+)", self.user)
        self.route("GET", r"/users/(?P<login>[^/]+)/events/public", self.user_events)
        self.route("GET", r"/rate_limit", self.rate_limit)
        self.route("POST", r"/graphql", self.graphql)

    # Routing by repository id, rate limits (charged in `dispatch`, reported in `decorate`).

    def dispatch(self, request: ReplayRequest) -> Reply:
        by_id = _BY_ID.fullmatch(request.path)
        if by_id:
            repo = self.data.repo_by_id(int(by_id["id"]))
            if repo is None:
                return self.not_found(request)
            request = replace(request, path=f"/repos/{repo['full_name']}{by_id['rest'] or ''}")
        budget = self._budget(request)
        with self._lock:
            now = int(request.now.timestamp())
            if now >= budget.reset:
                budget.used, budget.reset = 0, now + budget.window
            exhausted = budget.used >= budget.limit
            # Charged up front; a 304 is refunded in `decorate` (conditional hits are free).
            budget.used += 0 if exhausted else 1
        if exhausted and self._resource(request) == "graphql":
            return _graphql_error("RATE_LIMITED", "API rate limit exceeded for user ID 1.")
        if exhausted:
            return _uncached(
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
        if request.path == "/graphql":
            return "graphql"
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
        return _uncached({"resources": resources, "rate": resources["core"]})

    # Search.

    def search(self, request: ReplayRequest) -> Reply:
        query = request.query.get("q", "").strip()
        if not query:
            return _validation_failed("q")
        if len(query) > 256:
            return _validation_failed("q", "The search is longer than 256 characters.")
        kind = request.match.group("kind") if request.match else "repositories"
        items = github_search.search(self.data, kind, query, request.now)
        if kind == "repositories":  # counts as of now, as the repo endpoint shows them
            items = [self._with_counts(item, request.now) for item in items]
        order = request.query.get("order", "desc")
        items = github_search.sort(items, kind, request.query.get("sort"), order)
        per_page = request.int_param("per_page", 30, 1, 100)
        if (request.int_param("page", 1) - 1) * per_page >= SEARCH_SERVED:
            return _past_served()
        chunk, headers = page_of(items[:SEARCH_SERVED], request)
        body = {
            "total_count": len(items),
            "incomplete_results": self.incomplete_results,
            "items": chunk,
        }
        return Reply.json(body).with_headers(headers)

    # Repositories.

    def _repo(self, request: ReplayRequest) -> Record | None:
        assert request.match is not None
        repo = self.data.repo(f"{request.match['owner']}/{request.match['name']}")
        if repo is None or _created(repo) > request.now:
            return None
        if self.data.deleted(repo["full_name"], request.now):
            return None
        return self._with_counts(repo, request.now)

    def _with_counts(self, repo: Record, now: datetime) -> Record:
        """The repo as of `now`: star and fork counts grow as stargazers and forks appear, and
        `pushed_at` is its newest commit by then."""
        name = repo["full_name"]
        shown = dict(repo)
        pushes = [committed_at(c) for c in self.data.repo_commits.get(name, [])]
        pushes = [p for p in pushes if p <= now]
        if pushes:
            shown["pushed_at"] = max(pushes).strftime("%Y-%m-%dT%H:%M:%SZ")
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
        text = self.data.readme(repo["full_name"], request.now) if repo else None
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

    def _page(
        self,
        request: ReplayRequest,
        records: list[Any],
        repo: Record | None = None,
        extra: dict[str, str] | None = None,
    ) -> Reply:
        """One page of `records`; a repository's lists link by its id, as GitHub does."""
        path = None
        if repo is not None and repo.get("id") is not None and request.match is not None:
            rest = request.path[request.match.end("name") :]
            path = f"/repositories/{repo['id']}{rest}"
        chunk, headers = page_of(records, request, path=path)
        return Reply.json(chunk).with_headers({**headers, **(extra or {})})

    def repo_events(self, request: ReplayRequest) -> Reply:
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        events = self.data.repo_events.get(repo["full_name"], [])
        return self._events_page(request, events, repo)

    def _events_page(
        self, request: ReplayRequest, events: list[Record], repo: Record | None = None
    ) -> Reply:
        """Newest first, at most 300 (the events API's window); a page past them is a 422."""
        per_page = request.int_param("per_page", 30, 1, 100)
        if (request.int_param("page", 1) - 1) * per_page >= self.events_served:
            return _pagination_limited()
        shown = sorted(visible(events, request.now, _created), key=_created, reverse=True)
        return self._page(request, shown[: self.events_served], repo, extra=_POLL)

    def _stars(self, name: str, now: datetime) -> list[tuple[datetime, int, Record]]:
        """A repo's stars visible at `now`, oldest first, as (time, user id, record); cached
        per list, size and moment (a 40,000-star list is read 400 times a crawl)."""
        records = self.data.stargazers.get(name, [])
        key = (name, id(records), len(records), now)
        with self._lock:
            cached = self._star_cache.get(key)
        if cached is None:
            cached = sorted(
                ((_starred(s), int(s["user"].get("id") or 0), s) for s in records),
                key=lambda entry: entry[:2],
            )
            cached = [entry for entry in cached if entry[0] <= now]
            with self._lock:
                if len(self._star_cache) > 16:
                    self._star_cache.clear()
                self._star_cache[key] = cached
        return cached

    def stargazers(self, request: ReplayRequest) -> Reply:
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        per_page = request.int_param("per_page", 30, 1, 100)
        if (request.int_param("page", 1) - 1) * per_page >= self.stars_served:
            return _pagination_limited()
        stars = [entry[2] for entry in self._stars(repo["full_name"], request.now)]
        if STAR_MEDIA_TYPE not in (request.header("accept") or ""):
            stars = [s["user"] for s in stars]
        return self._page(request, stars, repo)

    # GraphQL: the stargazers connection.

    def graphql(self, request: ReplayRequest) -> Reply:
        authorization = request.header("authorization") or ""
        if not authorization.lower().startswith(("bearer ", "token ")):
            body = {
                "message": "This endpoint requires you to be authenticated.",
                "documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql",
            }
            return _uncached(body, status=401)
        payload = request.json_body()
        query = payload.get("query") if isinstance(payload, dict) else None
        variables = payload.get("variables") if isinstance(payload, dict) else None
        variables = variables if isinstance(variables, dict) else {}
        with self._lock:
            self.graphql_asked.append(dict(variables))
        if not isinstance(query, str) or "stargazers(" not in query:
            return _graphql_error("PARSE", "The replay answers repository.stargazers only.")
        first = variables.get("first")
        if not isinstance(first, int) or not 1 <= first <= 100:
            message = f"Requesting {first} records on the `stargazers` connection exceeds the `first` limit of 100 records."
            return _graphql_error("EXCESSIVE_PAGINATION", message)
        owner, name = variables.get("owner"), variables.get("name")
        repo = self.data.repo(f"{owner}/{name}")
        if (
            repo is None
            or _created(repo) > request.now
            or self.data.deleted(repo["full_name"], request.now)
        ):
            message = f"Could not resolve to a Repository with the name '{owner}/{name}'."
            return _graphql_error("NOT_FOUND", message, data={"repository": None})
        stars = self._stars(repo["full_name"], request.now)
        descending = "DESC" in query.split("STARRED_AT", 1)[-1][:40]
        ordered = list(reversed(stars)) if descending else stars
        cursor = _read_cursor(variables.get("cursor"))
        if cursor is None and variables.get("cursor") is not None:
            message = f"`{variables['cursor']}` does not appear to be a valid cursor."
            return _graphql_error("INVALID_CURSOR_ARGUMENTS", message)
        if cursor is not None:  # the stars after the cursor's, in the asked order
            keys = [entry[:2] for entry in stars]
            if descending:
                ordered = list(reversed(stars[: bisect.bisect_left(keys, cursor)]))
            else:
                ordered = stars[bisect.bisect_right(keys, cursor) :]
        chunk = ordered[:first]
        edges = [
            {
                "starredAt": record["starred_at"],
                "node": {"login": record["user"]["login"], "databaseId": record["user"].get("id")},
            }
            for _, _, record in chunk
        ]
        end = _cursor(chunk[-1][0], chunk[-1][1]) if chunk else None
        connection = {
            "totalCount": len(stars),
            "pageInfo": {"endCursor": end, "hasNextPage": len(ordered) > first},
            "edges": edges,
        }
        return _uncached({"data": {"repository": {"stargazers": connection}}})

    def forks(self, request: ReplayRequest) -> Reply:
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        forks = visible(self.data.forks.get(repo["full_name"], []), request.now, _created)
        newest = request.query.get("sort", "newest") == "newest"
        return self._page(request, sorted(forks, key=_created, reverse=newest), repo)

    def issues(self, request: ReplayRequest) -> Reply:
        """Issues and pull requests: `state` (default open), `sort` created|updated|comments
        (default created), `direction` (default desc), `since` (updated at or after)."""
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        records = self._since(request, self.data.issues.get(repo["full_name"], []))
        if records is None:
            return _validation_failed("since", "Invalid ISO 8601 timestamp.")
        state = request.query.get("state", "open")
        if state != "all":
            records = [r for r in records if r.get("state", "open") == state]
        by = request.query.get("sort", "created")
        key = {"updated": _updated, "comments": lambda r: r.get("comments") or 0}.get(by, _created)
        descending = request.query.get("direction", "desc") != "asc"
        return self._page(request, sorted(records, key=key, reverse=descending), repo)

    def comments(self, request: ReplayRequest) -> Reply:
        return self._comment_listing(request, self.data.comments)

    def review_comments(self, request: ReplayRequest) -> Reply:
        return self._comment_listing(request, self.data.review_comments)

    def _comment_listing(self, request: ReplayRequest, table: dict[str, list[Record]]) -> Reply:
        """Comments oldest first (`sort=created`, `direction` only with a sort), `since`."""
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        records = self._since(request, table.get(repo["full_name"], []))
        if records is None:
            return _validation_failed("since", "Invalid ISO 8601 timestamp.")
        by = request.query.get("sort")
        key = _updated if by == "updated" else _created
        descending = bool(by) and request.query.get("direction") == "desc"
        return self._page(request, sorted(records, key=key, reverse=descending), repo)

    def _since(self, request: ReplayRequest, records: list[Record]) -> list[Record] | None:
        """Visible records updated at or after `since` (None when `since` is unreadable)."""
        shown = visible(records, request.now, _created)
        since = request.query.get("since")
        if not since:
            return shown
        try:
            cutoff = parse_time(since)
        except ValueError:
            return None
        return [r for r in shown if _updated(r) >= cutoff]

    # Commits.

    def commits(self, request: ReplayRequest) -> Reply:
        """The default branch, newest first; `since`/`until` bound the commit (committer) date;
        `path` keeps the commits that touched that file."""
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        history = [c for c in self.data.repo_commits.get(repo["full_name"], [])]
        history = [c for c in history if committed_at(c) <= request.now]
        for name, op in (("since", "__ge__"), ("until", "__le__")):
            if request.query.get(name):
                try:
                    bound = parse_time(request.query[name])
                except ValueError:
                    return _validation_failed(name, "Invalid ISO 8601 timestamp.")
                history = [c for c in history if getattr(committed_at(c), op)(bound)]
        if request.query.get("path"):  # commits that touched this file
            path = request.query["path"]
            history = [
                c for c in history if path in {f.get("filename") for f in c.get("files", [])}
            ]
        history.sort(key=committed_at, reverse=True)
        return self._page(request, [commit_list_item(c) for c in history], repo)

    def commit(self, request: ReplayRequest) -> Reply:
        """One commit's detail; a SHA the repo no longer has (force-pushed away) answers 422."""
        repo = self._repo(request)
        assert request.match is not None
        if repo is None:
            return self.not_found(request)
        found = self.data.commit(repo["full_name"], request.match["sha"].lower())
        if found is None or committed_at(found) > request.now:
            return _unprocessable(f"No commit found for SHA: {request.match['sha']}")
        return Reply.json(commit_detail(found))

    def pull_commits(self, request: ReplayRequest) -> Reply:
        """A pull request's commits, oldest first, at most 250 (GitHub's cap)."""
        repo = self._repo(request)
        if repo is None:
            return self.not_found(request)
        assert request.match is not None
        key = f"{repo['full_name']}#{request.match['number']}"
        if key not in self.data.pull_commits:
            return self.not_found(request)
        shown = [c for c in self.data.pull_commits[key] if committed_at(c) <= request.now]
        shown = sorted(shown, key=committed_at)[:_PULL_COMMITS_MAX]
        return self._page(request, [commit_list_item(c) for c in shown], repo)

    # Single records (re-checked for deletion by the evidence spider).

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

    # Users.

    def user(self, request: ReplayRequest) -> Reply:
        assert request.match is not None
        user = self.data.user(request.match["login"])
        return Reply.json(user) if user else self.not_found(request)

    def user_events(self, request: ReplayRequest) -> Reply:
        assert request.match is not None
        user = self.data.user(request.match["login"])
        if user is None:
            return self.not_found(request)
        return self._events_page(request, self.data.user_events.get(user["login"], []))

    def not_found(self, request: ReplayRequest) -> Reply:
        return _uncached(
            {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
            status=404,
        )


_POLL = {"X-Poll-Interval": "60"}
#: GitHub's search serves the first 1,000 results of a query, whatever its `total_count`.
SEARCH_SERVED = 1000


def _validation_failed(field_name: str, message: str = "Missing required field.") -> Reply:
    body = {
        "message": "Validation Failed",
        "errors": [
            {"resource": "Search", "field": field_name, "code": "invalid", "message": message}
        ],
        "documentation_url": "https://docs.github.com/v3/search",
    }
    return _uncached(body, status=422)


def _past_served() -> Reply:
    """GitHub's answer to a search page that starts past the first 1,000 results."""
    body = {
        "message": "Only the first 1000 search results are available",
        "documentation_url": "https://docs.github.com/v3/search/",
        "status": "422",
    }
    return _uncached(body, status=422)


def _unprocessable(message: str) -> Reply:
    body = {
        "message": message,
        "documentation_url": "https://docs.github.com/rest/commits/commits#get-a-commit",
        "status": "422",
    }
    return _uncached(body, status=422)


def _pagination_limited() -> Reply:
    """GitHub's answer to a page that starts past what a list serves (stargazers, events)."""
    body = {
        "message": "In order to keep the API fast for everyone, pagination is limited for this resource. Check the rel=last link relation in the Link response header to see how far back you can traverse.",
        "documentation_url": "https://docs.github.com/v3/#pagination",
    }
    return _uncached(body, status=422)


def _graphql_error(kind: str, message: str, data: Any = None) -> Reply:
    """A GraphQL error: HTTP 200 with an `errors` list (github/docs#22607)."""
    body: dict[str, Any] = {"errors": [{"type": kind, "message": message}]}
    if data is not None:
        body = {"data": data, **body}
        body["errors"][0]["path"] = list(data)
    return _uncached(body)


def _cursor(moment: datetime, uid: int) -> str:
    """An opaque cursor (GitHub's are base64 too) holding a star's place: its time and user."""
    raw = f"cursor:v2:{moment.isoformat()}|{uid}"
    return base64.b64encode(raw.encode()).decode("ascii")


def _read_cursor(value: Any) -> tuple[datetime, int] | None:
    if not isinstance(value, str):
        return None
    try:
        moment, uid = base64.b64decode(value).decode().removeprefix("cursor:v2:").split("|")
        return datetime.fromisoformat(moment), int(uid)
    except ValueError:
        return None


def _uncached(body: Any, status: int = 200) -> Reply:
    """A JSON reply GitHub sends without an ETag (errors, rate limits, GraphQL)."""
    reply = Reply.json(body, status=status)
    reply.etag = False
    return reply
