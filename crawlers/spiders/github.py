"""GitHub: searches, watched and followed repositories, watched users, commits as evidence.

What is followed and kept (`crawlers.github.follow`): the incident's repos (every item kept by
default, `keep_all`), repos owned by a watched user, and repos that match the incident
themselves (name, description or README). A search hit elsewhere is kept when it matches and
its repo is only checked, never followed for the hit's sake. For each followed repo: metadata,
README, events (GitHub serves a list's newest 300: a cut before the events read last time is
counted, `github/events_capped`), stargazers (`starred_at`; past the 40,000 GitHub's list
serves, through GraphQL with a token: `crawlers.github.stars`), forks, issues and pull
requests, issue and review comments, commits (the detail with its files for matching ones) and
the commits of matching pull requests. Nothing from outside the incident's window is kept unless
the section asks for `history` (then it is marked `before_window`). Ids and `repo` use
case-folded names.

Every list is paged by one discipline (`crawlers.github.paging`): fixed once per run, relative
cursors, conditional requests whose 304s still walk on. Record handling lives in
`crawlers.github.records`. Commit authors' follower counts come from their profiles (cached in
the state, asked conditionally at most once a run and page).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from crawlers.github.authors import Authors
from crawlers.github.follow import FollowRegistry
from crawlers.github.paging import (
    SEARCH_SERVED,
    ListSpec,
    PageMeta,
    Walk,
    absolute,
    beyond_served,
    next_link,
    search_slice,
)
from crawlers.github.records import KINDS, GithubRecords, Waiting
from crawlers.github.stars import StarsPastServed, pagination_limited
from crawlers.items import Activity, Author, Post
from crawlers.normalise import plausible
from crawlers.parsers import github as gh
from crawlers.parsers.common import ParseError, from_iso
from crawlers.social import API_SETTINGS
from crawlers.spiders.base import HANDLED_STATUSES, IncidentSpider
from indexer.matching import Matcher
from spreadwatch.sources import GithubSource

logger = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
JSON_MEDIA = "application/vnd.github+json"
STAR_MEDIA = "application/vnd.github.star+json"
_SEARCH_SORT = {"repositories": "updated", "issues": "created", "commits": "committer-date"}
#: How many of a list's newest events GitHub serves (repository and user events alike).
EVENTS_SERVED = 300
EVENT_KINDS = frozenset({"events", "user-events"})
#: A `since`-bounded list read over more pages than this moves its `since` up for the next run.
COMPACT_PAGES = 5

Item = Post | Activity | scrapy.Request


class GithubSpider(IncidentSpider):
    name = "github"
    source = "github"
    section: GithubSource
    #: GitHub's own limits (x-ratelimit-*, obeyed per resource by the middleware) pace it; 8 at a
    #: time stays far below the secondary limit (100 concurrent). The 8 go to the resources that
    #: may go: a search waiting for its window's reset waits in the scheduler
    #: (`crawlers.scheduler`), not in one of the 8 places, so issues, comments, events and
    #: stargazers (`core`, 5,000 an hour) go on while search (30 a minute) is spent. As many per
    #: host as in all: a request never waits in Scrapy's per-host queue after the rate-limit
    #: hold let it through, so none reaches GitHub while its bucket is being waited out.
    custom_settings = {  # noqa: RUF012 (Scrapy's own class attribute)
        **API_SETTINGS,
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    }

    def configure(self, crawler: Any) -> None:
        super().configure(crawler)
        self.per_page = self.settings_obj.github_per_page
        self.matcher = Matcher(self.incident)
        self.walks: dict[str, Walk] = {}
        self.following: set[str] = set()  # repos whose lists were asked this run
        self.checked: set[str] = set()  # candidate repos checked this run
        self.authors = Authors(self)
        self.followers = self.authors.followers
        self.records = GithubRecords(self)
        self.stars_past_served = StarsPastServed(self)
        if self.section is None:
            return
        self.registry = FollowRegistry(self.state, self.clock(), self.section.follow_expiry)
        for watched in self.section.watched_repos():
            self.registry.watch(watched.repo, watched.keep_all)
        self.watched_users = {gh.canonical(u) for u in self.section.users}

    # Requests.

    def token(self) -> str | None:
        """The settings' token, else the incident's `token_env` variable; none is fine (60/h)."""
        variable = self.section.token_env if self.section is not None else None
        return self.settings_obj.credential("github_token", variable)

    def api(
        self,
        rel: str,
        callback: Callable[..., Any],
        *,
        accept: str = JSON_MEDIA,
        conditional: bool = True,
        **cb_kwargs: Any,
    ) -> scrapy.Request:
        """A request for `rel` (path + query below the base URL), conditional on what the last
        run stored for it; its rate-limit bucket is GitHub's resource for that path."""
        headers = {
            "Accept": accept,
            "User-Agent": self.settings_obj.user_agent,
            "X-GitHub-Api-Version": API_VERSION,
        }
        if conditional:
            headers.update(self.state.conditional_headers(rel))
        token = self.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        meta = {
            "handle_httpstatus_list": HANDLED_STATUSES,
            "rel": rel,
            "ratelimit_bucket": "search" if rel.startswith("/search/") else "core",
        }
        return scrapy.Request(
            absolute(rel, self.base_url),
            callback=callback,
            headers=headers,
            cb_kwargs=cb_kwargs,
            meta=meta,
            # Searches (30/min) yield to core requests, so a search wait holds few of them.
            priority=-1 if meta["ratelimit_bucket"] == "search" else 0,
            dont_filter=True,  # repeats are decided here (walks, once-a-run sets), not by URL
        )

    def remember_rel(self, response: Response) -> None:
        """Store the validators under the relative URL, so a new base URL keeps them."""
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        self.state.remember_validators(
            response.meta["rel"],
            etag.decode("latin-1") if etag else None,
            modified.decode("latin-1") if modified else None,
        )

    def initial_requests(self) -> list[scrapy.Request]:
        """Watched users' profiles first: their follower counts then reach every post of theirs
        found in this run; the rest starts once each profile has answered (or failed)."""
        if not self.section.users:
            return self.main_requests()
        self.profiles_pending = len(self.section.users)
        return [
            self.api(f"/users/{login}", self.parse_user, login=login).replace(
                errback=self.profile_failed
            )
            for login in self.section.users
        ]

    def main_requests(self) -> list[scrapy.Request]:
        requests = [r for kind, q in self.searches() for r in self.search_walk(kind, q)]
        for login in self.section.users:
            spec = ListSpec(
                f"user-events:{gh.canonical(login)}",
                f"/users/{login}/events/public?per_page={self.per_page}",
            )
            requests += self.start_walk(spec, "user-events", cutoff=self.cutoff(spec.key))
        for followed in list(self.registry.repos.values()):
            requests += self.follow(followed.name)
        return requests

    def profile_done(self) -> list[scrapy.Request]:
        self.profiles_pending -= 1
        return self.main_requests() if self.profiles_pending == 0 else []

    def profile_failed(self, failure: Any) -> list[scrapy.Request]:
        """A profile that could not be fetched (network error) must not stall the crawl."""
        self.drop("request_failed", getattr(failure.request, "url", "?"), failure.value)
        return self.profile_done()

    def searches(self) -> list[tuple[str, str]]:
        """(kind, query) pairs: the configured searches, then the incident's terms (deduplicated)."""
        pairs: dict[tuple[str, str], None] = {}
        for search in self.section.searches:
            for kind in search.types:
                pairs[(kind, search.query)] = None
        for term in self.section.terms or self.incident.search_terms():
            for kind in ("repositories", "issues", "commits"):
                pairs[(kind, term)] = None
        return list(pairs)

    def search_walk(self, kind: str, query: str) -> list[scrapy.Request]:
        params = urlencode({"q": query, "sort": _SEARCH_SORT[kind], "order": "desc"})
        spec = ListSpec(f"search:{kind}:{query}", f"/search/{kind}?{params}&{self._per_page}")
        cutoff = self.cutoff(spec.key, refresh=self.section.refresh)
        return self.start_walk(spec, f"search-{kind}", cutoff=cutoff, query=query)

    @property
    def _per_page(self) -> str:
        return f"per_page={self.per_page}"

    # Followed repositories.

    def follow(self, name: str) -> list[scrapy.Request]:
        """Every list of one followed repo, asked once a run."""
        key = gh.canonical(name)
        if key in self.following:
            return []
        self.following.add(key)
        repo, per_page = f"/repos/{name}", self._per_page
        since = "sort=updated&direction=asc"
        # A repo followed this run may have been checked (and its ETag stored) before: its
        # metadata and README are asked afresh once.
        fresh = self.registry.is_new(name)
        requests = [self.api(repo, self.parse_repo, conditional=not fresh, repo=name, fresh=fresh)]
        cutoff_lists = [
            (ListSpec(f"repo-events:{key}", f"{repo}/events?{per_page}"), "events"),
            (ListSpec(f"forks:{key}", f"{repo}/forks?sort=newest&{per_page}"), "forks"),
        ]
        for spec, kind in cutoff_lists:
            requests += self.start_walk(spec, kind, cutoff=self.cutoff(spec.key), repo=name)
        stars = ListSpec(
            f"stargazers:{key}",
            f"{repo}/stargazers?{per_page}",
            newest_first=False,
            resume=True,
            accept=STAR_MEDIA,
        )
        requests += self.start_walk(stars, "stars", repo=name)
        bounded = [
            (self.bounded(f"issues:{key}", f"{repo}/issues?state=all&{since}"), "issues"),
            (self.bounded(f"comments:{key}", f"{repo}/issues/comments?{since}"), "comments"),
            (
                self.bounded(f"review-comments:{key}", f"{repo}/pulls/comments?{since}"),
                "review-comments",
            ),
            (self.bounded(f"commits:{key}", f"{repo}/commits?", newest_first=True), "commits"),
        ]
        for spec, kind in bounded:
            requests += self.start_walk(spec, kind, repo=name)
        return requests

    def parse_repo(self, response: Response, repo: str, fresh: bool) -> Iterator[Item]:
        if self.unchanged(response):
            return  # unchanged: its document (and README) are as stored
        data = self.json_body(response)
        post = self.records.convert(response, gh.repo_post, data, self.followers) if data else None
        if post is None:
            return
        self.remember_rel(response)
        if post.engagement.stars is not None:
            self.stars_past_served.star_counts[gh.canonical(repo)] = post.engagement.stars
        yield from self.records.emit(post)
        pushed = _time_or(data.get("pushed_at") if isinstance(data, dict) else None, post.timestamp)
        yield self.api(
            f"/repos/{repo}/readme",
            self.parse_readme,
            conditional=not fresh,
            repo=repo,
            owner=post.author,
            pushed=pushed,
        )

    def parse_readme(
        self, response: Response, repo: str, owner: Author, pushed: datetime
    ) -> Iterator[Item]:
        if response.status == 404:  # a repository without a README
            self.count("github/no_readme")
            return
        if self.unchanged(response):
            return
        data = self.json_body(response)
        post = self.records.convert(response, gh.readme_post, data, repo, owner) if data else None
        if post is None:
            return
        self.remember_rel(response)
        path = data.get("path") if isinstance(data, dict) else None
        if not isinstance(path, str):
            post.timestamp = pushed
            yield from self.records.emit(post)
            return
        # A README is as new as the last commit that changed it.
        query = urlencode({"path": path, "per_page": 1})
        yield self.api(
            f"/repos/{repo}/commits?{query}",
            self.parse_readme_time,
            conditional=False,
            post=post,
            pushed=pushed,
        )

    def parse_readme_time(self, response: Response, post: Post, pushed: datetime) -> Iterator[Item]:
        data = None if self.unchanged(response) else self.json_body(response)
        # [{commit: {committer: {date}}}]; any part missing, null or odd: the push time
        first = data[0] if isinstance(data, list) and data else None
        commit = first.get("commit") if isinstance(first, dict) else None
        committer = commit.get("committer") if isinstance(commit, dict) else None
        changed = committer.get("date") if isinstance(committer, dict) else None
        post.timestamp = _time_or(changed, pushed)
        yield from self.records.emit(post)

    # Walks: one discipline for every list (crawlers.github.paging).

    def floor(self) -> datetime | None:
        """The oldest time a list must reach back to: the window's start (none with history)."""
        return None if self.section.history else self.incident.window.start

    def cutoff(self, key: str, refresh: timedelta | None = None) -> datetime | None:
        """Where a newest-first list stops this run: the newest record of its last complete
        walk (minus `refresh` for posts whose counts should be refreshed), or the floor."""
        since = self.state.since_time(key)
        floor = self.floor()
        if since is None:
            return floor
        since -= refresh or timedelta(0)
        return max(since, floor) if floor else since

    def bounded(self, key: str, path: str, newest_first: bool = False) -> ListSpec:
        """A list filtered by `since`: the floor, or where a long walk compacted it to."""
        since = self.state.since_time(key) or self.floor()
        query = ("" if path.endswith("?") else "&") + self._per_page
        if since is not None:
            query += "&" + urlencode({"since": since.strftime("%Y-%m-%dT%H:%M:%SZ")})
        return ListSpec(key, path + query, newest_first=newest_first, bounded=True)

    def start_walk(
        self, spec: ListSpec, kind: str, cutoff: datetime | None = None, **context: Any
    ) -> list[scrapy.Request]:
        """The first request of a list's walk; a list is walked once a run."""
        if spec.key in self.walks:
            return []
        saved = self.state.cursors.get(spec.key)
        walk = Walk(spec, cutoff, saved if isinstance(saved, dict) else {})
        self.walks[spec.key] = walk
        return [self.page_request(walk, walk.start, kind, context)]

    def page_request(
        self, walk: Walk, rel: str, kind: str, context: dict[str, Any], conditional: bool = True
    ) -> scrapy.Request:
        return self.api(
            rel,
            self.on_page,
            accept=walk.spec.accept,
            conditional=conditional,
            key=walk.spec.key,
            kind=kind,
            context=context,
        )

    def on_page(
        self, response: Response, key: str, kind: str, context: dict[str, Any]
    ) -> Iterator[Item]:
        """One page of any list: its records handled, then the walk goes on or ends."""
        walk, rel = self.walks[key], response.meta["rel"]
        self.registry.prune()
        if response.status == 304:
            self.count("not_modified")
            meta = walk.saved_meta(rel)
            if meta is None:  # the ETag outlived its cursor: ask for the page itself
                yield self.page_request(walk, rel, kind, context, conditional=False)
            else:
                yield from self.walk_on(walk, rel, meta, fresh=False, kind=kind, context=context)
            return
        if kind == "stars" and pagination_limited(response):
            # Not a refusal: the page before was the last GitHub serves (crawlers.github.stars).
            if walk.served_end(rel):
                self.state.set_cursor(walk.spec.key, walk.cursor())
            yield from self.stars_past_served.reached(walk, context["repo"])
            return
        if pagination_limited(response) and walk.served_end(rel):
            # Not a refusal either: events past their newest 300 (a 304 on a full last page asks
            # the page after it, or a saved resume page GitHub no longer serves).
            yield from self.walk_ended(walk, rel, kind, context)
            return
        if self.unchanged(response):
            return  # a refusal, counted: the walk stops, its cursor stays as it was
        data = self.json_body(response)
        record_kind = KINDS[kind]
        records = data.get(record_kind.list_key) if isinstance(data, dict) else data
        if not isinstance(records, list):
            if data is not None:
                self.drop("bad_shape", response.url, "expected a list of records")
            return
        if isinstance(data, dict) and data.get("incomplete_results"):
            self.count("github/incomplete_results")
        moments = [t for t in map(record_kind.time_of, records) if t is not None]
        walk.seen(moments, self.clock())
        handle = getattr(self.records, record_kind.handle)
        handled = (
            item
            for record in records
            if not _older(record_kind.time_of(record), walk)
            for item in handle(response, record, **context)
        )
        yield from self.deliver(handled)
        self.remember_rel(response)
        following = next_link(_header(response, "Link"), self.base_url)
        if following is None and isinstance(data, dict) and kind.startswith("search-"):
            following = self.past_served(rel, kind, data.get("total_count"), moments)
        meta = PageMeta(
            next=following,
            full=len(records) >= self.per_page,
            oldest=min(moments).isoformat() if moments else None,
        )
        yield from self.walk_on(walk, rel, meta, fresh=True, kind=kind, context=context)

    def past_served(self, rel: str, kind: str, total: Any, moments: list[datetime]) -> str | None:
        """Where a search goes on after the last page GitHub serves (`paging.search_slice`);
        results it cannot reach are counted and named, never passed over in silence."""
        if not beyond_served(rel, total, self.per_page):
            return None
        real = [m for m in moments if plausible(m, self.clock())]
        following = search_slice(rel, kind, min(real) if real else None)
        if following is None:
            self.count("github/search_capped")
            logger.warning(
                "%s: GitHub serves the first %d of %s results and the query cannot be "
                "narrowed further by date; the rest are not read (narrow the search)",
                rel, SEARCH_SERVED, total,
            )  # fmt: skip
        return following

    def walk_on(
        self,
        walk: Walk,
        rel: str,
        meta: PageMeta,
        *,
        fresh: bool,
        kind: str,
        context: dict[str, Any],
    ) -> Iterator[Item]:
        following = walk.after(rel, meta, fresh, self.section.max_pages)
        if following is not None:
            yield self.page_request(walk, following, kind, context)
            return
        yield from self.walk_ended(walk, rel, kind, context)

    def walk_ended(
        self, walk: Walk, rel: str, kind: str, context: dict[str, Any]
    ) -> Iterator[Item]:
        """The walk's place saved for the next run; what it could not read counted."""
        if walk.newest is not None and _moves_since(walk):
            since = walk.newest
            if walk.spec.bounded and walk.complete:
                since -= self.section.refresh  # compacted, but recent records stay in the list
            self.state.advance_since(walk.spec.key, since)
        self.state.set_cursor(walk.spec.key, walk.cursor())
        if kind == "stars" and walk.at_served_end:
            yield from self.stars_past_served.reached(walk, context["repo"])
        if not walk.complete:
            self.count("github/capped")
            logger.warning(
                "%s: stopped after %d pages (max_pages); the next run goes on", rel, walk.read
            )
        elif kind in EVENT_KINDS and walk.served_out:
            self.count("github/events_capped")
            logger.warning(
                "%s: GitHub serves a list's newest %d events (and none older than 90 days); "
                "the walk reached their end before the events it had read before, so older "
                "ones may be missing (crawl more often)",
                walk.spec.first, EVENTS_SERVED,
            )  # fmt: skip

    def deliver(self, handled: Iterable[Item | Waiting]) -> Iterator[Item]:
        return self.authors.deliver(handled)

    def parse_user(self, response: Response, login: str) -> Iterator[Item]:
        """A watched user's profile, before the crawl proper starts."""
        retry = self.authors.profile(response, login, self.parse_user)
        if retry is not None:
            yield retry.replace(errback=self.profile_failed)
            return
        yield from self.profile_done()


def _older(moment: datetime | None, walk: Walk) -> bool:
    """A record of a newest-first list that the cutoff says was seen (or is too old)."""
    return walk.spec.newest_first and None not in (moment, walk.cutoff) and moment < walk.cutoff  # type: ignore[operator]


def _moves_since(walk: Walk) -> bool:
    """Cutoff lists move their since-value when complete; `since`-bounded lists when they grew
    long or were capped (compaction); resumable lists keep their place in the cursor."""
    if walk.spec.resume:
        return False
    if walk.spec.bounded:
        return walk.read > COMPACT_PAGES or not walk.complete
    return walk.complete and walk.spec.newest_first


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if isinstance(value, bytes) else None


def _time_or(value: Any, fallback: datetime) -> datetime:
    try:
        return from_iso(value, "pushed_at")
    except ParseError:
        return fallback
