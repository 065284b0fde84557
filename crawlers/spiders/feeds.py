"""News feeds: configured RSS/Atom feeds and Google News search feeds per language.

Each feed is fetched with a conditional GET (the ETag and Last-Modified the last run stored),
parsed with feedparser (lenient with the broken XML real feeds serve; a body that yields no
entries at all is a counted drop), and deduplicated by `guid` across runs. Entries become
articles in `crawlers.parsers.feeds` (Google News items resolved to the publisher's article where
the item carries its address, the redirect kept as `via`). Articles are `news:<sha1 of guid>` (guids are long URLs or
opaque tokens); a feed marked `official` yields statements kept regardless of query matches.
`SPREADWATCH_FEEDS_BASE_URL` replaces every feed URL's scheme and host (replay servers, proxies).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import feedparser
import scrapy
from scrapy.http import Response

from crawlers.items import Post
from crawlers.parsers.feeds import Feed, FeedEntryError, parse_entry
from crawlers.spiders.base import HANDLED_STATUSES, IncidentSpider, rebase
from spreadwatch.sources import FeedsSource

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
                feed.url, name=feed.name or feed.url, lang=feed.lang, official=feed.official
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
        for entry in parsed.entries:
            post = self.convert(response, entry, feed, parsed.feed)
            if post is None:
                continue
            if self.state.is_seen(post.native_id):
                self.count("feeds/already_seen")
                continue
            self.state.mark_seen(post.native_id)
            yield post
        self.remember(response)

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
