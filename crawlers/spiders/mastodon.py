"""Mastodon: per configured instance, hashtag timelines and (with a token) status search.

Statuses newer than the crawl window are asked for with `since_id`: Mastodon ids are
Snowflake-like (milliseconds since the epoch << 16), so the window's start is itself an id and the
same request both picks up new statuses and re-reads the last `refresh` span for engagement.
Pages are followed backwards by the `Link rel="next"` header. An instance that turned public
timelines off answers 401 without a token: counted as `refused/public_timeline_disabled` and
logged with the instance and what to set. Status search needs a user token (`token_env` of the
instance, else `SPREADWATCH_MASTODON_TOKEN`); without one only hashtags are read.
`SPREADWATCH_MASTODON_BASE_URL` sends every instance's requests to one host (tests, a proxy).

A reply names its parent by the instance's own id; where the status does not say the parent's
URI (its document id: a parent on another server), the parent is asked for
(`/api/v1/statuses/<id>`, once per crawl) before the reply is yielded with `reply_to` set, and
the parent comes along (kept when it matches). A parent the instance does not give (deleted,
private) leaves `reply_to` empty, counted as `mastodon/parent_unknown`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import scrapy
from scrapy.http import Response

from crawlers.items import Post
from crawlers.parsers import ParseError
from crawlers.parsers.mastodon import parse_status, unnamed_parents
from crawlers.social import API_SETTINGS, SocialSpider
from spreadwatch.sources import MastodonInstance, MastodonSource

logger = logging.getLogger(__name__)

PAGE_SIZE = 40
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def snowflake(moment: datetime) -> int:
    """The smallest Mastodon status id for statuses created at or after `moment`."""
    return int(moment.astimezone(UTC).timestamp() * 1000) << 16


class MastodonSpider(SocialSpider):
    name = "mastodon"
    source = "mastodon"
    section: MastodonSource
    custom_settings = API_SETTINGS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: (instance, instance-local id) → document id of parents asked for in this crawl,
        #: and the replies (with their query) waiting for a parent being asked for.
        self._parents: dict[tuple[str, str], str] = {}
        self._waiting: dict[tuple[str, str], list[tuple[Post, str]]] = {}

    def initial_requests(self) -> list[scrapy.Request]:
        requests = []
        for instance in self.section.instances:
            for tag in instance.hashtags:
                key = f"{_host(instance.url)}:#{tag.lstrip('#').lower()}"
                query: dict[str, Any] = {"limit": PAGE_SIZE, "since_id": snowflake(self.window_start(key))}  # fmt: skip
                if max_id := self.resume_point(key, str):
                    query["max_id"] = max_id  # an earlier run's walk goes on below its cap
                path = f"/api/v1/timelines/tag/{quote(tag.lstrip('#'))}?{urlencode(query)}"
                self.walk_started(key)
                requests.append(self._get(instance, path, self.parse_timeline, key=key, page=0))
            token = self._token(instance)
            if token is None:
                self.count("mastodon/search_without_token")
                continue
            for term in self.terms():
                search = {"q": term, "type": "statuses", "limit": PAGE_SIZE, "resolve": "false"}
                path = f"/api/v2/search?{urlencode(search)}"
                requests.append(self._get(instance, path, self.parse_search, key=f"{_host(instance.url)}:{term}", page=0))  # fmt: skip
        return requests

    def _token(self, instance: MastodonInstance) -> str | None:
        return self.env_secret("mastodon_token", instance.token_env)

    def _get(self, instance: MastodonInstance, path_or_url: str, callback: Any, dont_filter: bool = False, **meta: Any) -> scrapy.Request:  # fmt: skip
        base = self.settings_obj.base_url("mastodon") or instance.url.rstrip("/")
        url = path_or_url if path_or_url.startswith("http") else base + path_or_url
        token = self._token(instance)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.request(url, callback, headers=headers, meta={"instance": instance, **meta}, dont_filter=dont_filter)  # fmt: skip

    async def parse_timeline(self, response: Response) -> AsyncIterator[Any]:
        instance: MastodonInstance = response.meta["instance"]
        if response.status == 401:
            self.refused(response, "public_timeline_disabled", f"{instance.url} has public hashtag timelines turned off; give it a token (token_env) with read:statuses")  # fmt: skip
            return
        if self.unchanged(response):
            return
        payload = self.json_body(response)
        if payload is None:
            return
        if not isinstance(payload, list):
            self.drop("bad_shape", response.url, f"expected a list of statuses, got {str(payload)[:80]}")  # fmt: skip
            return  # the walk does not end: its since-value stays for the next run
        posts, unnamed = self._statuses(payload, instance, response.url)
        for item in self._yield(posts, unnamed, instance, response.meta["key"]):
            yield item
        self.walk_page(response.meta["key"], posts)
        if response.meta["page"] == 0 and not posts and isinstance(payload, list):
            logger.info("mastodon: %s returned no statuses for %s", instance.url, response.meta["key"])  # fmt: skip
        link = _decoded(response.headers.get("Link"))
        match = _NEXT.search(link or "")
        following = _bounded(_same_path(match.group(1)), response.url) if match else None
        if not (payload and following):  # a page of statuses all dropped still has a next page
            self.walk_ended(response.meta["key"], complete=True)  # `since_id` bounds the list
        elif response.meta["page"] + 1 >= self.section.max_pages:
            max_id = dict(parse_qsl(urlsplit(following).query)).get("max_id")
            self.walk_ended(response.meta["key"], complete=False, resume=max_id)
        else:
            yield self._get(instance, following, self.parse_timeline, key=response.meta["key"], page=response.meta["page"] + 1)  # fmt: skip

    def parse_search(self, response: Response) -> Iterator[Any]:
        instance: MastodonInstance = response.meta["instance"]
        if response.status == 401:
            self.refused(response, "token_refused", f"{instance.url} refused the Mastodon token")
            return
        if self.unchanged(response):
            return
        payload = self.json_body(response)
        if payload is None:
            return
        statuses = payload.get("statuses") if isinstance(payload, dict) else None
        posts, unnamed = self._statuses(statuses, instance, response.url)
        yield from self._yield(posts, unnamed, instance, response.meta["key"])

    def _statuses(
        self, statuses: Any, instance: MastodonInstance, url: str
    ) -> tuple[list[Post], dict[str, str]]:
        """Posts of a list of statuses (a status of the wrong shape is one counted drop), and
        the replies among them whose parent must be asked for (`unnamed_parents`)."""
        if not isinstance(statuses, list):
            self.drop("bad_shape", url, f"expected a list of statuses, got {str(statuses)[:80]}")
            return [], {}
        posts: list[Post] = []
        unnamed: dict[str, str] = {}
        for status in statuses:
            try:
                posts.extend(parse_status(status, instance.url))
            except ParseError as error:
                self.drop("bad_record", url, error)
                continue
            unnamed.update(unnamed_parents(status, instance.url))
        return posts, unnamed

    def _yield(
        self, posts: list[Post], unnamed: dict[str, str], instance: MastodonInstance, key: str
    ) -> Iterator[Any]:
        """The posts, each reply with an unnamed parent after the instance has named it (the
        parent is asked for once; replies to one parent wait for the same answer)."""
        for post in posts:
            parent = unnamed.get(post.doc_id)
            asked = (instance.url, parent or "")
            if parent is None:
                yield self.finish(post, key)
            elif asked in self._parents:
                post.reply_to = self._parents[asked]
                yield self.finish(post, key)
            elif asked in self._waiting:
                self._waiting[asked].append((post, key))
            else:
                self._waiting[asked] = [(post, key)]
                yield self._get(instance, f"/api/v1/statuses/{quote(parent)}", self.parse_parent, parent=parent)  # fmt: skip

    def parse_parent(self, response: Response) -> Iterator[Any]:
        """A parent status: it names its replies' `reply_to` and comes along as context."""
        instance: MastodonInstance = response.meta["instance"]
        asked = (instance.url, response.meta["parent"])
        waiting = self._waiting.pop(asked, [])
        payload = self.json_body(response) if response.status == 200 else None
        try:
            parents = parse_status(payload, instance.url) if isinstance(payload, dict) else []
        except ParseError as error:
            self.drop("bad_record", response.url, error)
            parents = []
        if parents:
            self._parents[asked] = parents[-1].doc_id
        else:
            self.count("mastodon/parent_unknown", len(waiting))
        for post, key in waiting:
            post.reply_to = self._parents.get(asked)
            yield self.finish(post, key)
        for parent in parents:
            yield self.finish(parent, waiting[0][1] if waiting else None)


def _host(url: str) -> str:
    return urlsplit(url if "://" in url else f"https://{url}").netloc


def _bounded(path: str, asked: str) -> str:
    """The next page's path with the `since_id` of the page asked: Mastodon's `next` link
    keeps only `limit` and the new `max_id` (`pagination_params`), and without its lower bound
    the walk would read on into posts older than the window, page after page."""
    since = dict(parse_qsl(urlsplit(asked).query)).get("since_id")
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "since_id"]
    if since is not None:
        query.append(("since_id", since))
    return f"{parts.path}?{urlencode(query)}"


def _same_path(url: str) -> str:
    """The path and query of a `Link` URL (the base URL may be rewritten for this instance)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _decoded(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)
