"""Bluesky: `searchPosts` through an app-password session, with followers from `getProfiles`.

Post search works only logged in (the public AppView has refused logged-out search on and off
since 2025-01, and always refuses its cursors). With a handle and app password
(`SPREADWATCH_BLUESKY_HANDLE` / `_APP_PASSWORD`, or the variables the incident names) the spider
creates a session on the PDS and searches through it, refreshing the session when the access
token expires. Without them it tries the public AppView once per term and counts a refusal as
`refused/search_needs_login`. Each page's authors are looked up in one `getProfiles` call (≤25
actors) for their follower counts before the posts are yielded; a failed lookup yields the posts
without followers. Windows are `since`/`until`; pages follow `cursor`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from crawlers.items import Post
from crawlers.parsers import ParseError
from crawlers.parsers.bluesky import parse_post_views, parse_profiles
from crawlers.redirects import REDIRECT_STATUSES
from crawlers.social import API_SETTINGS, SocialSpider
from crawlers.spiders.base import HANDLED_STATUSES
from spreadwatch.sources import BlueskySource

logger = logging.getLogger(__name__)

XRPC = "/xrpc"
PAGE_SIZE = 100
PROFILES_PER_CALL = 25


class BlueskySpider(SocialSpider):
    name = "bluesky"
    source = "bluesky"
    section: BlueskySource
    custom_settings = API_SETTINGS
    extra_statuses = (400,)

    def configure(self, crawler: Any) -> None:
        super().configure(crawler)
        self.access: str | None = None
        self.refresh_token: str | None = None
        self.refreshing: list[scrapy.Request] = []

    def initial_requests(self) -> list[scrapy.Request]:
        handle = self.env_secret("bluesky_handle", self.section.handle_env)
        password = self.env_secret("bluesky_app_password", self.section.app_password_env)
        if not (handle and password):
            self.count("bluesky/without_credentials")
            logger.warning("bluesky: no handle/app password; trying logged-out search (usually refused)")  # fmt: skip
            return list(self.searches())
        body = json.dumps({"identifier": handle, "password": password})
        return [self._post("com.atproto.server.createSession", body, self.parse_session)]

    def _post(self, method: str, body: str, callback: Any, token: str | None = None) -> scrapy.Request:  # fmt: skip
        """A session call. It carries the app password (body) or the refresh token (header),
        so a redirect is never followed: it reaches `callback` as a refusal."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        statuses = [*HANDLED_STATUSES, *self.extra_statuses, *REDIRECT_STATUSES]
        meta = {"dont_redirect": True, "handle_httpstatus_list": statuses}
        return self.request(f"{self.base_url}{XRPC}/{method}", callback, method="POST", body=body, headers=headers, meta=meta, dont_filter=True)  # fmt: skip

    def parse_session(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status in REDIRECT_STATUSES:
            where = (response.headers.get("Location") or b"").decode("latin-1")
            self.refused(response, "login_redirected", f"Bluesky answered the session call with a redirect to {where!r}; credentials are not sent on (check SPREADWATCH_BLUESKY_BASE_URL)")  # fmt: skip
            return
        payload = self.json_body(response) if response.status == 200 else None
        if not isinstance(payload, dict) or not isinstance(payload.get("accessJwt"), str):
            self.refused(response, "bad_credentials", "Bluesky refused the handle/app password (createSession); check SPREADWATCH_BLUESKY_HANDLE and SPREADWATCH_BLUESKY_APP_PASSWORD")  # fmt: skip
            return
        first = self.access is None
        self.access, self.refresh_token = payload["accessJwt"], payload.get("refreshJwt")
        if first:
            yield from self.searches()
        else:
            waiting, self.refreshing = self.refreshing, []
            for request in waiting:
                yield self._authorised(request)

    def searches(self) -> Iterator[scrapy.Request]:
        languages: list[str | None] = list(self.section.languages or []) or [None]
        end = self.window_end().isoformat().replace("+00:00", "Z")
        for term in self.terms():
            for lang in languages:
                key = f"{term}:{lang or '*'}"
                query = {"q": term, "sort": "latest", "limit": PAGE_SIZE, "until": end,
                         "since": self.window_start(key).isoformat().replace("+00:00", "Z")}  # fmt: skip
                if lang:
                    query["lang"] = lang
                if until := self.resume_point(key, str):
                    query["until"] = until  # an earlier run's walk goes on below its cap
                self.walk_started(key)
                yield self._search(query, key, page=0)

    def _search(self, query: dict[str, Any], key: str, page: int) -> scrapy.Request:
        base = self.base_url if self.access else self.settings_obj.base_url("bluesky_public")
        url = f"{base}{XRPC}/app.bsky.feed.searchPosts?{urlencode(query)}"
        request = self.request(url, self.parse_search, meta={"query": query, "key": key, "page": page})  # fmt: skip
        return self._authorised(request)

    def _authorised(self, request: scrapy.Request) -> scrapy.Request:
        if not self.access:
            return request
        headers = dict(request.headers.to_unicode_dict())
        headers["Authorization"] = f"Bearer {self.access}"
        return request.replace(headers=headers, dont_filter=True)

    async def parse_search(self, response: Response) -> AsyncIterator[Any]:
        if self._expired(response):
            for request in self._refresh(response.request):
                yield request
            return
        if response.status in (401, 403):
            reason = "search_needs_login" if not self.access else "search_forbidden"
            self.refused(response, reason, "Bluesky refused post search; set SPREADWATCH_BLUESKY_HANDLE and SPREADWATCH_BLUESKY_APP_PASSWORD (an app password)")  # fmt: skip
            return
        if self.unchanged(response):
            return
        payload = self.json_body(response)
        if payload is None:
            return
        found = self._posts(payload, response.url)
        if found is None:
            return  # the walk does not end: its since-value stays for the next run
        posts, results = found
        meta = response.meta
        # The search's own results, not the posts they quote: a quoted post can be years
        # older, and taken as the oldest read it would send a capped walk's `until` below
        # the window's start (the next run would read nothing and end the walk).
        self.walk_page(meta["key"], results)
        cursor = payload.get("cursor") if isinstance(payload, dict) else None
        for item in self._with_followers(posts, meta["query"]["q"]):
            yield item
        # A page whose posts were all dropped still has a next page; `since` bounds the search.
        if not (isinstance(cursor, str) and cursor and payload["posts"]):
            self.walk_ended(meta["key"], complete=True)
        elif meta["page"] + 1 >= self.section.max_pages:
            self.walk_ended(meta["key"], complete=False, resume=self._resume(meta["key"]))
        else:
            yield self._search({**meta["query"], "cursor": cursor}, meta["key"], meta["page"] + 1)

    def _resume(self, key: str) -> str | None:
        """`until` for the rest of a capped search: a second past the oldest post read (`until`
        excludes its own time; the posts of that second read twice are one document each)."""
        oldest = self.walk_oldest(key)
        if oldest is None:
            return None
        return (oldest + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")

    def _posts(self, payload: Any, url: str) -> tuple[list[Post], list[Post]] | None:
        """(every post of a page, quoted ones first; the page's own results)."""
        views = payload.get("posts") if isinstance(payload, dict) else None
        if not isinstance(views, list):
            self.drop("bad_shape", url, "searchPosts answer without posts")
            return None
        posts, results = [], []
        for view in views:
            try:
                found = parse_post_views(view)
            except ParseError as error:
                self.drop("bad_record", url, error)
                continue
            posts.extend(found)
            results.append(found[-1])
        return posts, results

    def _with_followers(self, posts: list[Post], term: str) -> Iterator[Any]:
        if not posts:
            return
        if not self.access:
            yield from (self.finish(p, term) for p in posts)
            return
        actors = list(dict.fromkeys(p.author.id for p in posts if p.author.id))
        for start in range(0, len(actors), PROFILES_PER_CALL):
            chunk = actors[start : start + PROFILES_PER_CALL]
            batch = [p for p in posts if p.author.id in chunk]
            url = f"{self.base_url}{XRPC}/app.bsky.actor.getProfiles?{urlencode([('actors', a) for a in chunk])}"  # fmt: skip
            request = self.request(url, self.parse_profiles, meta={"posts": batch, "term": term}, errback=self.profiles_failed)  # fmt: skip
            yield self._authorised(request)
        yield from (self.finish(p, term) for p in posts if not p.author.id)

    def profiles_failed(self, failure: Any) -> Iterator[Post]:
        """Profiles that could not be fetched (the network, after retries): the posts waiting
        for their follower counts go on without them, never with the lookup."""
        request = failure.request
        self.drop("profiles_failed", request.url, failure.value)
        for post in request.meta["posts"]:
            yield self.finish(post, request.meta["term"])

    async def parse_profiles(self, response: Response) -> AsyncIterator[Any]:
        posts: list[Post] = response.meta["posts"]
        if self._expired(response):
            for request in self._refresh(response.request):
                yield request
            return
        counts: dict[str, int] = {}
        payload = self.json_body(response) if response.status == 200 else None
        try:
            counts = parse_profiles(payload) if payload is not None else {}
        except ParseError as error:
            self.drop("bad_profiles", response.url, error)
        if response.status != 200:
            self.count(f"refused/{response.status}")
        for post in posts:
            post.author.followers = counts.get(post.author.id or "", post.author.followers)
            yield self.finish(post, response.meta["term"])

    def _expired(self, response: Response) -> bool:
        if response.status != 400:
            return False
        payload = self.json_body(response)
        return isinstance(payload, dict) and payload.get("error") == "ExpiredToken"

    def _refresh(self, request: scrapy.Request | None) -> Iterator[scrapy.Request]:
        """Refresh the session once, then replay the requests that met the expired token."""
        if request is not None:
            self.refreshing.append(request)
        if len(self.refreshing) > 1 or not self.refresh_token:
            return
        self.count("bluesky/session_refreshed")
        yield self._post("com.atproto.server.refreshSession", "", self.parse_session, token=self.refresh_token)  # fmt: skip
