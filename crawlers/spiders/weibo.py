"""Weibo (m.weibo.cn): keyword search and watched users' timelines, with the login cookie.

Searches read the 实时 (real-time) tab (`100103type=61`), newest first, so paging can stop at the
window's start; the 综合 (mixed) tab, `type=1`, ranks much-shared posts first whatever their
age, and its first old post would end paging before the fresh ones below it.

Weibo answers nothing useful without a valid `SUB` cookie: HTTP 432 (since late 2025) or
`{"ok": -100}`. The cookie comes from `SPREADWATCH_WEIBO_COOKIE` (or the variable the incident
names) and is sent with the `Referer` Weibo checks. A 432 or -100 is counted as
`refused/cookie_missing_or_expired` and logged once as "cookie missing or expired", and the crawl
ends cleanly. Truncated posts (`isLongText`) get their full text from `/statuses/extend` before
they are yielded; reposts come with their original (`repost_of`). Paging stops at the page's own posts older
than the window, at the end marker (`ok: 0`) or at `max_pages`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import scrapy
from scrapy.http import Response

from crawlers.items import Post
from crawlers.parsers import ParseError
from crawlers.parsers.weibo import (
    WeiboLoginRequiredError,
    long_text_ids,
    parse_cards,
    unknown_cards,
    with_long_text,
)
from crawlers.social import SocialSpider
from spreadwatch.sources import WeiboSource

logger = logging.getLogger(__name__)

LOGIN_STATUS = 432
#: Weibo's answer to a client it finds too fast ("I'm a teapot"): back off until the next run.
THROTTLED_STATUS = 418
REFERER = "https://m.weibo.cn/"
#: The search tab of posts newest first (实时); `1` is the 综合 tab, ranked by how much is shared.
REALTIME_SEARCH = 61
COOKIE_MESSAGE = "Weibo: cookie missing or expired; set SPREADWATCH_WEIBO_COOKIE to a logged-in m.weibo.cn cookie (with SUB=)"  # fmt: skip


class WeiboSpider(SocialSpider):
    name = "weibo"
    source = "weibo"
    section: WeiboSource
    extra_statuses = (LOGIN_STATUS, THROTTLED_STATUS)
    #: A website's own API that bans fast clients: one request at a time, with the project's
    #: politeness delay and AutoThrottle (not the API settings' zero delay).
    #: The login cookie is sent as a header, never mixed with a cookie jar.
    custom_settings = {  # noqa: RUF012 (Scrapy's own class attribute)
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,
    }

    def configure(self, crawler: Any) -> None:
        super().configure(crawler)
        self.cookie = self.env_secret("weibo_cookie", self.section.cookie_env if self.section else None)  # fmt: skip
        self.login_reported = False

    def initial_requests(self) -> list[scrapy.Request]:
        if not self.cookie:
            self.count("weibo/without_cookie")
        requests = []
        if self.section.search:
            for term in self.terms():
                container = f"100103type={REALTIME_SEARCH}&q={term}"
                self.walk_started(f"search:{term}")
                requests.append(self._page(container, f"search:{term}", page=1, extra={"page_type": "searchall"}))  # fmt: skip
        for uid in self.section.users:
            key = f"user:{uid}"
            self.walk_started(key)
            resume = self.resume_point(key, (int, str))  # Weibo pages a timeline by `since_id`
            requests.append(self._page(f"107603{uid}", key, page=1, extra={"since_id": resume} if resume else None))  # fmt: skip
        return requests

    def _get(self, path: str, callback: Any, meta: dict[str, Any]) -> scrapy.Request:
        headers = {"Referer": REFERER, "X-Requested-With": "XMLHttpRequest", "MWeibo-Pwa": "1"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        return self.request(f"{self.base_url}{path}", callback, headers=headers, meta=meta)

    def _page(self, container: str, key: str, page: int, extra: dict[str, Any] | None = None) -> scrapy.Request:  # fmt: skip
        query = {"containerid": container, **(extra or {})}
        if page > 1 and "since_id" not in query:
            query["page"] = page
        path = f"/api/container/getIndex?{urlencode(query, quote_via=quote)}"
        return self._get(path, self.parse_page, {"container": container, "key": key, "page": page, "extra": extra or {}})  # fmt: skip

    def parse_page(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        payload = self._payload(response)
        if payload is None:
            return
        try:
            posts, errors = parse_cards(payload, self.clock())
        except WeiboLoginRequiredError:
            self._login_wall(response)
            return
        except ParseError as error:
            self.drop("bad_page", response.url, error)
            return
        for problem in errors:
            self.drop("bad_record", response.url, problem)
        for kind in unknown_cards(payload):
            self.drop("unknown_card", response.url, f"a card of type {kind} (not a post)")
        start = self.window_start(meta["key"])
        fresh = [p for p in posts if p.timestamp >= start]
        self.walk_page(meta["key"], fresh)
        yield from self._emit(fresh, set(long_text_ids(payload)), meta["key"])
        # Originals embedded in reposts are older by nature; only the page's own posts tell
        # whether paging has reached the window's start.
        embedded = {p.repost_of for p in posts if p.repost_of}
        own = [p for p in posts if p.doc_id not in embedded]
        reached_start = any(p.timestamp < start for p in own)
        following = self._next(payload, meta) if own and not reached_start else None
        if following is None:
            self.walk_ended(meta["key"], complete=True)
        elif meta["page"] >= self.section.max_pages:
            # A user timeline's `since_id` stays put; a search's page numbers shift as posts
            # arrive, so a search is read down again instead.
            self.walk_ended(meta["key"], complete=False, resume=following.meta["extra"].get("since_id"))  # fmt: skip
        else:
            yield following

    def _next(self, payload: dict[str, Any], meta: dict[str, Any]) -> scrapy.Request | None:
        """The next page: user timelines by the `since_id` Weibo gives (none = the last page),
        searches by `page`."""
        data = payload.get("data")
        info = data.get("cardlistInfo") if isinstance(data, dict) else None
        since = info.get("since_id") if isinstance(info, dict) else None
        extra = dict(meta["extra"])
        if meta["container"].startswith("107603"):
            if not since:
                return None
            extra["since_id"] = since
        return self._page(meta["container"], meta["key"], meta["page"] + 1, extra)

    def _payload(self, response: Response) -> Any | None:
        if response.status == LOGIN_STATUS:
            self._login_wall(response)
            return None
        if response.status == THROTTLED_STATUS:
            self.count("refused/throttled_418")
            logger.warning(
                "weibo: throttled (418) on %s; the rest waits for the next run", response.url
            )
            return None
        if self.unchanged(response):
            return None
        return self.json_body(response)

    def _emit(self, posts: list[Post], long_ids: set[str], key: str) -> Iterator[Any]:
        for post in posts:
            # A repost's own words are often just "转发微博": what it spreads is its original.
            post.always_keep = post.always_keep or post.repost_of is not None
            if post.native_id in long_ids:
                yield self._get(f"/statuses/extend?id={post.native_id}", self.parse_long_text, {"post": post, "key": key})  # fmt: skip
            else:
                yield self.finish(post, key)

    def parse_long_text(self, response: Response) -> Iterator[Any]:
        post: Post = response.meta["post"]
        payload = self._payload(response)
        if payload is not None:
            try:
                with_long_text(post, payload)
            except ParseError as error:
                self.count("weibo/long_text_unavailable")  # the truncated text is kept
                logger.warning("weibo: no long text for %s: %s", post.native_id, error)
        yield self.finish(post, response.meta["key"])

    def _login_wall(self, response: Response) -> None:
        self.count("refused/cookie_missing_or_expired")
        if not self.login_reported:
            self.login_reported = True
            logger.error("%s (%s answered %d)", COOKIE_MESSAGE, response.url, response.status)
