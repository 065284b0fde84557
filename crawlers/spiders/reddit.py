"""Reddit: global search and configured subreddits, newest first, paged by `after`.

With credentials (`SPREADWATCH_REDDIT_CLIENT_ID`/`_SECRET`, or the variables the incident names)
the spider takes an application-only token (client-credentials grant) and searches the OAuth
API, paced by the rate-limit middleware (`crawlers.middlewares`) from
`X-Ratelimit-Remaining/-Reset`. Without them it tries the public JSON, which Reddit now mostly
answers with 403: that is counted as `refused/public_json_forbidden` and logged once with what
to configure, never a crash. Paging stops at posts older than the window (the last run's newest
post minus `refresh`, so recent scores are re-read).

Reddit serves at most about 1,000 posts of a listing and then answers `after: null`, as at the
true end. A walk that ends so above the last run's newest post (posts at or before it exist:
that run read them) was cut: the posts between the oldest it read and that point cannot be
fetched from the listing, and are counted as `reddit/listing_capped` with a warning. A first run
has no such point, so it counts only a walk that read about the cap's worth (`FIRST_RUN_CUT`),
over every run it took: a walk `max_pages` stops keeps what its pages served with the saved
walk (`SavedWalk.served`), so 1,000 read as 500 and 500 still add up to a cut.
Either way the since-value moves on to the newest post: reading down again would be cut at the
same place.

Search returns links only, never comments: with `comment_trees` (default) each matched link's
tree is read (`/comments/{id}`, its `more` stubs through `/api/morechildren`) and its comments
kept as replies, even those not repeating the search words. Comments keep coming after a link
was found, so the links are remembered (crawl state) and their trees read again every run
while they are at most `comment_window` older than the newest matched link (time measured by
the posts seen, as the search window is, so a replay on a simulated clock behaves the same).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from crawlers.parsers import ParseError
from crawlers.parsers.reddit import (
    comment_things,
    listing_children,
    listing_data,
    more_things,
    parse_thing,
    parse_things,
)
from crawlers.social import API_SETTINGS, SocialSpider
from spreadwatch.sources import RedditSource

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
#: Comments per tree request (Reddit's most); the rest come as `more` stubs.
TREE_LIMIT = 500
#: Ids per `/api/morechildren` request (Reddit's most).
MORE_PER_REQUEST = 100
#: Crawl-state key prefix of the remembered links whose comment trees are re-read.
THREAD_KEY = "thread:"
#: Posts of a listing Reddit serves at most before it answers `after: null` as at the end:
#: "the precompute limit is hardcoded to 1000 items. this applies to almost all standard
#: listings" (r/redditdev wiki, api/faq: "why are only 1000 items returned on a listing even
#: when using pagination?"); PRAW's `ListingGenerator`: "Most of Reddit's listings contain a
#: maximum of 1000 items, and are returned 100 at a time".
LISTING_CAP = 1000
#: A first run's walk that ended at `after: null` counts as cut once it read this many posts, a
#: page short of the cap: a removed post is not backfilled (the same FAQ), so a cut listing can
#: end short of 1,000 (a search ended at 953, praw-dev/praw#430). Search can end far shorter
#: still: 244-245 for a `sort=new` search with a time filter, 220-250 in Reddit's own UI
#: (snoowrap#162, 2018) — a cut that no count tells apart from a small listing's true end, so
#: a first run leaves it uncounted; with a since-point every cut is counted whatever its size.
FIRST_RUN_CUT = LISTING_CAP - PAGE_SIZE


@dataclass
class _Listing:
    """What one walk read of its listing: the things served (over every run the walk took), the
    oldest time this run among the listing's own posts (not a crosspost's original, which can
    be years older), and the since-point it reads down to (None on a first run)."""

    since: datetime | None
    served: int = 0
    oldest: datetime | None = None


class RedditSpider(SocialSpider):
    name = "reddit"
    source = "reddit"
    section: RedditSource
    custom_settings = API_SETTINGS
    #: What each walk read of its listing this run (`_listing`), by walk key.
    _listings: dict[str, _Listing]

    def configure(self, crawler: Any) -> None:
        super().configure(crawler)
        self._listings = {}

    def initial_requests(self) -> list[scrapy.Request]:
        client_id = self.env_secret("reddit_client_id", self.section.client_id_env)
        secret = self.env_secret("reddit_client_secret", self.section.client_secret_env)
        if client_id and secret:
            basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
            return [
                scrapy.FormRequest(
                    f"{self.settings_obj.base_url('reddit_auth')}/api/v1/access_token",
                    formdata={"grant_type": "client_credentials"},
                    headers={
                        "Authorization": f"Basic {basic}",
                        "User-Agent": self.settings_obj.user_agent,
                    },
                    callback=self.parse_token,
                    meta={"handle_httpstatus_list": [400, 401, 403, 429]},
                    dont_filter=True,
                )
            ]
        self.count("reddit/without_credentials")
        logger.warning("reddit: no client credentials; trying the public JSON (often refused)")
        return list(self.searches(token=None))

    def parse_token(self, response: Response) -> Iterator[scrapy.Request]:
        payload = self.json_body(response) if response.status == 200 else None
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str):
            self.refused(response, "bad_credentials", "Reddit refused the client credentials; check SPREADWATCH_REDDIT_CLIENT_ID/SECRET")  # fmt: skip
            return
        yield from self.searches(token=token)

    def searches(self, token: str | None) -> Iterator[scrapy.Request]:
        scopes: list[str | None] = [None] if self.section.global_search else []
        scopes.extend(self.section.subreddits)
        for sub in scopes:
            for term in self.terms():
                key = _walk_key(sub, term)
                self.walk_started(key)
                after = self.resume_point(key, str)
                yield self._page(term, sub, token, after=after, page=0)
        yield from self._remembered_trees(token)

    def _page(self, term: str, sub: str | None, token: str | None, after: str | None, page: int) -> scrapy.Request:  # fmt: skip
        query = {"q": term, "sort": "new", "limit": PAGE_SIZE, "raw_json": 1, "type": "link"}
        if sub:
            query["restrict_sr"] = 1
        if after:
            query["after"] = after
        path = f"/r/{sub}/search" if sub else "/search"
        if token:
            url, headers = f"{self.base_url}{path}?{urlencode(query)}", {"Authorization": f"bearer {token}"}  # fmt: skip
        else:
            url, headers = f"{self.settings_obj.base_url('reddit_public')}{path}.json?{urlencode(query)}", {}  # fmt: skip
        meta = {"term": term, "sub": sub, "token": token, "page": page, "after": after}
        return self.request(url, self.parse_listing, meta=meta, headers=headers)

    def _payload(self, response: Response) -> Any:
        """The answer's JSON; None when Reddit refused it (recorded), it is unchanged since the
        last run, or its body is unreadable (counted) — listings and comment trees alike."""
        if response.status in (401, 403):
            self._refusal(response, response.meta["token"])
            return None
        if self.unchanged(response):
            return None
        return self.json_body(response)

    async def parse_listing(self, response: Response) -> AsyncIterator[Any]:
        meta = response.meta
        payload = self._payload(response)
        if payload is None:
            return
        key = _walk_key(meta["sub"], meta["term"])
        start = self.window_start(key)
        children = listing_children(payload)
        if children is None:
            self.drop("bad_shape", response.url, "listing without data.children")
            return  # the walk does not end: its since-value stays for the next run
        if not children and meta["page"] == 0 and meta.get("after"):
            # The link a saved walk was to go on after answers nothing (removed, or the end):
            # which, Reddit does not say, so nothing moves and the next run reads down again.
            self.walk_lost(key)
            return
        read = self._listing(key)
        read.served += len(children)
        posts, older = self._posts(children, response.url, start, read)
        for post in posts:
            yield self.finish(post, meta["term"])
            if post.native_id.startswith("t3_") and self.section.comment_trees:
                self._remember_thread(post)
                yield self._tree(post.native_id, meta["term"], meta["token"])
        self.walk_page(key, posts)
        after = (listing_data(payload) or {}).get("after")
        if not (isinstance(after, str) and after) or older:
            if not older:
                self._listing_ended(key, meta["sub"], meta["term"], start)
            self.walk_ended(key, complete=True)
        elif meta["page"] + 1 >= self.section.max_pages:
            self.walk_ended(key, complete=False, resume=after, served=read.served)
        else:
            yield self._page(meta["term"], meta["sub"], meta["token"], after, meta["page"] + 1)

    def _posts(self, children: list[Any], url: str, start: datetime, read: _Listing) -> tuple[list[Any], bool]:  # fmt: skip
        """Posts newer than `start`, and whether the page reached older ones (stop paging)."""
        posts, older = [], False
        for child in children:
            try:
                found = parse_things(child)
            except ParseError as error:
                self.drop("bad_record", url, error)
                continue
            *originals, post = found
            if post.timestamp < start:
                older = True
                continue
            read.oldest = min(read.oldest or post.timestamp, post.timestamp)
            # A crosspost's original is kept whatever its age: the spread it starts is here.
            posts += [*originals, post]
        return posts, older

    # Listings Reddit cut.

    def _listing(self, key: str) -> _Listing:
        """This run's record of `key`'s listing, its since-point taken when the walk begins and,
        for a walk going on from a saved one, what that one's pages served."""
        if key not in self._listings:
            saved = self.saved_walk(key) if self.resume_point(key, str) else None
            served = saved.served if saved is not None else 0
            self._listings[key] = _Listing(since=self.state.since_time(key), served=served)
        return self._listings[key]

    def _listing_ended(self, key: str, sub: str | None, term: str, start: datetime) -> None:
        """The listing answered `after: null` above the window's start: the true end, or Reddit's
        cut at about `LISTING_CAP`, which looks the same. Above the since-point it is a cut (the
        posts there were read by the last run); without one, a cut only past `FIRST_RUN_CUT`."""
        read = self._listing(key)
        if read.since is not None:
            cut = read.oldest is not None and read.oldest > read.since
            floor, what = read.since, "the last run's newest post"
            if start > floor:  # the incident's window was moved past it since
                floor, what = start, "the window's start"
        else:
            cut = read.served >= FIRST_RUN_CUT
            floor, what = start, "the window's start"
        if not cut:
            return
        self.count("reddit/listing_capped")
        oldest = read.oldest.isoformat() if read.oldest else "?"
        span = read.oldest - floor if read.oldest else "?"
        listing = f"search {term!r} in r/{sub}" if sub else f"search {term!r} across Reddit"
        logger.warning(
            "reddit %s: Reddit ended the listing (after: null) after %d posts, above %s: "
            "any posts from %s back to %s (%s) cannot be read from it and are left out "
            "(the since-value moves on); crawl more often (`every`) or narrow the terms",
            listing, read.served, what, oldest, floor.isoformat(), span,
        )  # fmt: skip

    # Comment trees.

    def _remember_thread(self, post: Any) -> None:
        if isinstance(post.timestamp, datetime):
            self.state.set_extra(THREAD_KEY + post.native_id, post.timestamp.isoformat())

    def _remembered_trees(self, token: str | None) -> Iterator[scrapy.Request]:
        """Trees of the links found on earlier runs still within `comment_window` of the newest
        one; older links are forgotten."""
        if not self.section.comment_trees:
            return
        threads = {
            key.removeprefix(THREAD_KEY): datetime.fromisoformat(value)
            for key, value in list(self.state.extra.items())
            if key.startswith(THREAD_KEY) and isinstance(value, str)
        }
        if not threads:
            return
        oldest = max(threads.values()) - self.section.comment_window
        for name, posted in sorted(threads.items()):
            if posted < oldest:
                self.state.delete_extra(THREAD_KEY + name)
                continue
            self.count("reddit/trees_reread")
            yield self._tree(name, None, token)

    def _tree(self, link: str, term: str | None, token: str | None) -> scrapy.Request:
        query = urlencode({"sort": "new", "limit": TREE_LIMIT, "raw_json": 1})
        article = link.removeprefix("t3_")
        meta = {"term": term, "token": token, "link": link}
        if token:
            url = f"{self.base_url}/comments/{article}?{query}"
            return self.request(url, self.parse_tree, meta=meta, headers={"Authorization": f"bearer {token}"})  # fmt: skip
        url = f"{self.settings_obj.base_url('reddit_public')}/comments/{article}.json?{query}"
        return self.request(url, self.parse_tree, meta=meta)

    async def parse_tree(self, response: Response) -> AsyncIterator[Any]:
        async for item in self._comments(response, comment_things):
            yield item

    async def parse_more(self, response: Response) -> AsyncIterator[Any]:
        async for item in self._comments(response, more_things):
            yield item

    async def _comments(self, response: Response, read: Any) -> AsyncIterator[Any]:
        """The comments of a tree or `morechildren` answer; its `more` ids asked next."""
        meta = response.meta
        payload = self._payload(response)
        if payload is None:
            return
        try:
            things, more, errors = read(payload)
        except ParseError as error:
            self.drop("bad_shape", response.url, error)
            return
        for problem in errors:
            self.drop("bad_record", response.url, problem)
        for thing in things:
            try:
                comment = parse_thing(thing)
            except ParseError as error:
                self.drop("bad_record", response.url, error)
                continue
            comment.always_keep = True  # the discussion of a matched link belongs to the spread
            yield self.finish(comment, meta["term"])
        for start in range(0, len(more), MORE_PER_REQUEST):
            yield self._more(meta, more[start : start + MORE_PER_REQUEST])

    def _more(self, meta: dict[str, Any], ids: list[str]) -> scrapy.Request:
        query = urlencode({"api_type": "json", "link_id": meta["link"], "children": ",".join(ids), "sort": "new", "raw_json": 1})  # fmt: skip
        token = meta["token"]
        more_meta = {k: meta[k] for k in ("term", "token", "link")}
        if token:
            url = f"{self.base_url}/api/morechildren?{query}"
            return self.request(url, self.parse_more, meta=more_meta, headers={"Authorization": f"bearer {token}"})  # fmt: skip
        url = f"{self.settings_obj.base_url('reddit_public')}/api/morechildren.json?{query}"
        return self.request(url, self.parse_more, meta=more_meta)

    def _refusal(self, response: Response, token: str | None) -> None:
        if token is None:
            self.refused(response, "public_json_forbidden", "Reddit refused the unauthenticated JSON API; set SPREADWATCH_REDDIT_CLIENT_ID and SPREADWATCH_REDDIT_CLIENT_SECRET (an approved app) to search Reddit")  # fmt: skip
        else:
            self.refused(response, f"oauth_{response.status}", "Reddit refused the OAuth token")


def _walk_key(sub: str | None, term: str) -> str:
    """The since-value key of one search: its subreddit (`*` for all of Reddit) and term."""
    return f"{sub or '*'}:{term}"
