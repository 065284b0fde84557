"""News feeds: configured RSS/Atom feeds and Google News search feeds per language.

Each feed is fetched with a conditional GET (the ETag and Last-Modified the last run stored),
parsed with feedparser (lenient with the broken XML real feeds serve; a body that yields no
entries at all is a counted drop), and deduplicated by `guid` across runs. Entries become
articles in `crawlers.parsers.feeds` (Google News items resolved to the publisher's article where
the item carries its address, the redirect kept as `via`). Articles are `news:<sha1 of guid>` (guids are long URLs or
opaque tokens); a feed marked `official` yields statements kept regardless of query matches.
`SPREADWATCH_FEEDS_BASE_URL` replaces every feed URL's scheme and host (replay servers, proxies).

A feed shows only its newest entries. When more were published between two runs than it holds,
the older ones scrolled off unread: a fetch of a configured feed read before that holds no entry
seen before, all newer than the newest of the last fetch, is counted as `feeds/scrolled_past` and
logged with the span that may be missing (crawl the feed more often). Each configured feed keeps
one small record in the state (`extra`, `feed:<url>`): the newest entry time of its last fetch.
Google News search feeds are left out: their items come in relevance order, not newest first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import feedparser
import scrapy
from scrapy.http import Response

from crawlers.items import Post
from crawlers.normalise import plausible
from crawlers.parsers.feeds import Feed, FeedEntryError, parse_entry
from crawlers.spiders.base import HANDLED_STATUSES, IncidentSpider, rebase
from spreadwatch.durations import duration_text
from spreadwatch.sources import FeedsSource
from spreadwatch.urls import without_userinfo

logger = logging.getLogger(__name__)

GOOGLE_NEWS = "https://news.google.com/rss/search"
#: Google News editions: hl, gl, ceid per language (facts/sources.md).
EDITIONS = {
    "en": ("en-US", "US", "US:en"),
    "de": ("de", "DE", "DE:de"),
    "zh": ("zh-CN", "CN", "CN:zh-Hans"),
    "fr": ("fr", "FR", "FR:fr"),
    "ja": ("ja", "JP", "JP:ja"),
}
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"
#: `extra` key of a configured feed's record: the newest entry time of its last fetch.
FETCHED_KEY = "feed:"


def google_news_url(query: str, lang: str) -> str:
    hl, gl, ceid = EDITIONS[lang]
    return f"{GOOGLE_NEWS}?{urlencode({'q': query, 'hl': hl, 'gl': gl, 'ceid': ceid})}"


class FeedsSpider(IncidentSpider):
    name = "feeds"
    source = "feeds"
    section: FeedsSource

    def initial_requests(self) -> list[scrapy.Request]:
        requests = [
            self.feed_request(
                feed.url,
                name=feed.name or feed.url,
                lang=feed.lang,
                official=feed.official,
                configured=feed.url,
            )
            for feed in self.section.feeds
        ]
        for search in self.section.google_news:
            url = google_news_url(search.query, search.lang)
            requests.append(
                self.feed_request(
                    url,
                    name=f"Google News {search.lang}: {search.query}",
                    lang=search.lang,
                    official=False,
                    query=search.query,
                )
            )
        return requests

    def feed_request(self, url: str, **feed: Any) -> scrapy.Request:
        target = rebase(url, self.base_url)
        headers = {"Accept": ACCEPT, "User-Agent": self.settings_obj.user_agent}
        headers.update(self.state.conditional_headers(target))
        return scrapy.Request(
            target,
            callback=self.parse_feed,
            headers=headers,
            cb_kwargs={"feed": feed},
            meta={"handle_httpstatus_list": HANDLED_STATUSES},
        )

    def parse_feed(self, response: Response, feed: dict[str, Any]) -> Iterator[Post]:
        if self.unchanged(response):
            return
        parsed = feedparser.parse(response.body)
        if not parsed.entries:
            if parsed.get("bozo") or not parsed.get("version"):  # broken, or not a feed at all
                self.drop("bad_feed", response.url, parsed.get("bozo_exception") or "no feed")
            return
        times: list[datetime] = []  # of the entries read, seen or not
        fresh: set[str] = set()  # ids first seen in this fetch (a guid it repeats is no overlap)
        overlap = False  # an entry seen before this fetch
        for entry in parsed.entries:
            post = self.convert(response, entry, feed, parsed.feed)
            if post is None:
                continue
            times.append(post.timestamp)
            if self.state.is_seen(post.native_id):
                overlap = overlap or post.native_id not in fresh
                self.count("feeds/already_seen")
                continue
            fresh.add(post.native_id)
            self.state.mark_seen(post.native_id)
            yield post
        # Configured feeds only. A Google News search is not newest first, so its oldest item
        # says nothing about what scrolled off: its items come in relevance order (news.google.com
        # offers no sort: serpapi/google-search-results-python#78; a client of /rss/search was
        # told its "random date order" is Google's, to re-sort: riftninja/google-news-api#4; the
        # recorded live search feed of the conformance data, 2026-09-25, lists 13:53 before 16:11).
        if times and "configured" in feed:
            self.check_scrolled(feed, times, overlap)
        self.remember(response)

    def check_scrolled(self, feed: dict[str, Any], times: list[datetime], overlap: bool) -> None:
        """Compare this fetch of a configured feed with its last one and record it for the next
        (its newest entry time: one value per feed, whatever the feed's size)."""
        key = FETCHED_KEY + feed["configured"]
        # An entry dated past now (a typo'd year) is dropped by the ingest as bad_timestamp; as
        # the record it would put every later fetch's entries before it, hiding every gap.
        now = self.clock()
        times = [t for t in times if plausible(t, now)]
        if not times:
            return
        newest_before = _last_newest(self.state.extra.get(key))
        newest, oldest = max(times), min(times)
        self.state.set_extra(key, {"newest": newest.isoformat()})
        if newest_before is None:  # the feed's first fetch (or a record no version wrote)
            return
        # Every entry read has a time (one without is dropped as `no_time`), so the times decide;
        # an entry seen before (a feed republishing its entries, with new times or not) is no gap.
        if overlap or oldest <= newest_before:
            return
        self.count("feeds/scrolled_past")
        url = without_userinfo(feed["configured"], query=False)
        label = url if feed["name"] == feed["configured"] else f"{feed['name']} ({url})"
        logger.warning(
            "feed %s: all %d entries are new, the oldest (%s) after the newest of the last fetch "
            "(%s): entries published in between may have scrolled off unread; its %d entries "
            "cover %s: keep the feeds section's `every` (now %s) well under that",
            label, len(times), oldest.isoformat(), newest_before.isoformat(), len(times),
            duration_text(newest - oldest), duration_text(self.section.every),
        )  # fmt: skip

    def convert(
        self, response: Response, entry: Any, feed: dict[str, Any], meta: Any
    ) -> Post | None:
        official = self.incident.official
        try:
            return parse_entry(
                entry,
                Feed(
                    lang=feed.get("lang"),
                    official=bool(feed["official"]),
                    query=feed.get("query") or feed.get("name"),
                ),
                meta,
                official.is_official_url if official else None,
            )
        except FeedEntryError as error:
            self.drop(error.reason, response.url, str(error))
            return None


def _last_newest(record: Any) -> datetime | None:
    """The newest entry time of a feed's record, or None when there is none to compare with:
    a first fetch, or a value no version wrote (not a time, or one without its zone)."""
    value = record.get("newest") if isinstance(record, dict) else None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None
