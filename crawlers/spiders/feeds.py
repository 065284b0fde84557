"""News feeds: configured RSS/Atom feeds and Google News search feeds per language.

Each feed is fetched with a conditional GET (the ETag and Last-Modified the last run stored),
parsed with feedparser (lenient with the broken XML real feeds serve; a body that yields no
entries at all is a counted drop), and deduplicated by `guid` across runs. Google News titles
read "Headline - Publisher"; the publisher comes from the item's `<source url=...>` element and
is stripped from the headline. Articles are `news:<sha1 of guid>` (guids are long URLs or
opaque tokens); a feed marked `official` yields statements kept regardless of query matches.
`SPREADWATCH_FEEDS_BASE_URL` replaces every feed URL's scheme and host (replay servers, proxies).
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import feedparser
import scrapy
from scrapy.http import Response

from crawlers.items import Author, Post
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
        guid = entry.get("id") or entry.get("link")
        when = _entry_time(entry)
        if not guid:
            self.drop("no_guid", response.url, entry.get("title"))
            return None
        if when is None:
            self.drop("no_time", response.url, guid)
            return None
        publisher, publisher_url = _publisher(entry, meta)
        title = _strip_publisher(entry.get("title") or "", publisher)
        link = entry.get("link")
        official = bool(feed["official"]) or bool(
            self.incident.official and self.incident.official.is_official_url(link)
        )
        domain = urlsplit(publisher_url or link or "").hostname
        return Post(
            platform="news",
            native_id=hashlib.sha1(guid.encode("utf-8")).hexdigest(),
            timestamp=when,
            kind="statement" if official else "article",
            url=link,
            author=Author(
                id=domain, handle=domain, name=publisher, url=publisher_url, official=official
            ),
            title=title or None,
            text=entry.get("summary") or title,
            text_is_html=True,
            lang=feed.get("lang"),
            domain=domain,
            links=[link] if link else [],
            official=official,
            always_keep=official,
            source_query=feed.get("query") or feed.get("name"),
        )


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def _publisher(entry: Any, meta: Any) -> tuple[str | None, str | None]:
    """The item's `<source url>` (Google News) or author, else the feed's own title and link."""
    source = entry.get("source") or {}
    if source.get("title") or source.get("href"):
        return source.get("title"), source.get("href")
    author = entry.get("author")
    return (author or meta.get("title")), meta.get("link")


def _strip_publisher(title: str, publisher: str | None) -> str:
    suffix = f" - {publisher}" if publisher else None
    return title[: -len(suffix)] if suffix and title.endswith(suffix) else title
