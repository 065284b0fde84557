"""RSS/Atom entries (feedparser's reading of them) as articles.

Google News items link to a `news.google.com/rss/articles/<id>` redirect, never to the article:
a news article could then never join the same article shared on a social platform. Where the
item carries the publisher's address it becomes the post's `url` and the redirect its `via`:
a link in the item's description that leaves Google News, or the address inside the article
id itself (ids of the `CBMi…` form are a base64url protobuf whose field 4 is the article URL;
the newer `AU_yqL…` ids are opaque, and such an item keeps the redirect as its `url`). The
publisher is the item's `<source url>`; its name is stripped from the headline
("Headline - Publisher").
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crawlers.items import Author, Post
from crawlers.normalise import read_html
from crawlers.parsers.common import ParseError
from spreadwatch.urls import domain_of, split

PLATFORM = "news"
GOOGLE_NEWS_HOST = "news.google.com"


class FeedEntryError(ParseError):
    """An entry that cannot be an article; `reason` is the drop slug (`no_guid`, `no_time`)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Feed:
    """What the incident says about a feed: its language, whether it is official, its query."""

    lang: str | None = None
    official: bool = False
    query: str | None = None


def parse_entry(
    entry: Any,
    feed: Feed,
    meta: Any,
    is_official_url: Callable[[str | None], bool] | None = None,
) -> Post:
    """One feed entry as an article (a statement when the feed or its URL is official)."""
    guid = entry.get("id") or entry.get("link")
    if not guid:
        raise FeedEntryError("no_guid", str(entry.get("title"))[:80])
    when = entry_time(entry)
    if when is None:
        raise FeedEntryError("no_time", str(guid)[:200])
    publisher, publisher_url = _publisher(entry, meta)
    title = _strip_publisher(entry.get("title") or "", publisher)
    link = entry.get("link") if isinstance(entry.get("link"), str) else None
    url, via = resolve_google_news(link, entry.get("summary"))
    official = feed.official or bool(is_official_url and is_official_url(url))
    domain = domain_of(url) if via else domain_of(publisher_url or url)
    return Post(
        platform=PLATFORM,
        native_id=hashlib.sha1(guid.encode("utf-8")).hexdigest(),
        timestamp=when,
        kind="statement" if official else "article",
        url=url,
        via=via,
        author=Author(
            id=domain, handle=domain, name=publisher, url=publisher_url, official=official
        ),
        title=title or None,
        text=entry.get("summary") or title,
        text_is_html=True,
        lang=feed.lang,
        domain=domain,
        links=[url] if url else [],
        official=official,
        always_keep=official,
        source_query=feed.query,
    )


def resolve_google_news(link: str | None, description: Any) -> tuple[str | None, str | None]:
    """`(url, via)`: the publisher's article and the Google News redirect it was reached by,
    or `(link, None)` when the link is not Google News's or carries no article address."""
    parts = split(link)
    if parts is None or parts.hostname != GOOGLE_NEWS_HOST:
        return link, None
    if isinstance(description, str):
        for href in read_html(description).links:
            target = split(href)
            if target is not None and target.hostname != GOOGLE_NEWS_HOST:
                return href, link
    decoded = _article_url(parts.path.rstrip("/").rsplit("/", 1)[-1])
    return (decoded, link) if decoded else (link, None)


def _article_url(article_id: str) -> str | None:
    """The URL inside a `CBMi…` article id: protobuf field 4 (tag 0x22), a varint length, the
    bytes; None for ids that hold no URL."""
    try:
        data = base64.urlsafe_b64decode(article_id + "=" * (-len(article_id) % 4))
    except (binascii.Error, ValueError):
        return None
    if not data.startswith(b"\x08\x13\x22"):
        return None
    length, shift, at = 0, 0, 3
    while at < len(data):
        byte = data[at]
        length |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            break
        shift += 7
    raw = data[at : at + length]
    try:
        url = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return url if len(raw) == length and "://" in url and split(url) is not None else None


def entry_time(entry: Any) -> datetime | None:
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


__all__ = ["PLATFORM", "Feed", "FeedEntryError", "entry_time", "parse_entry", "resolve_google_news"]
