"""News feeds, replayed: ordinary RSS 2.0 / Atom feeds by path, and Google News search RSS.

Items are held as the feed's own elements (`title`, `link`, `guid`, `pubDate` in RFC 822,
`description`, `source` with its `url`; Atom `id`, `updated`, `summary`, `author`), rendered to
XML on each request with only the items whose time has passed on the replay clock, newest first;
a feed with a `size` shows only its newest `size` of them, as real feeds do (older ones scroll
off as the clock moves on and new ones appear). Feeds answer conditional GETs both ways:
ETag/If-None-Match and Last-Modified/If-Modified-Since.
Google News search lives at `/rss/search?q=..&hl=..&gl=..&ceid=..` as on news.google.com: no
paging, headlines "Headline - Publisher", opaque `link` tokens, items filtered by the query's
words and the edition's language (`ceid` = `US:en`, `DE:de`, `CN:zh-Hans`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from spreadwatch.replay.server import ReplayApp, ReplayRequest, Reply, parse_time

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


@dataclass
class FeedsData:
    """`feeds`: path → {format: rss|atom, title, link, size (the newest shown; all without),
    items: [...]}; `google_news`: RSS items each with a `lang` (zh, en, de, ...) naming the
    edition it appears in."""

    feeds: dict[str, dict[str, Any]] = field(default_factory=dict)
    google_news: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> FeedsData:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def item_time(item: dict[str, Any]) -> datetime:
    """When an RSS item (`pubDate`) or Atom entry (`published`/`updated`) appeared."""
    if "pubDate" in item:
        return parsedate_to_datetime(item["pubDate"])
    return parse_time(item.get("published") or item["updated"])


class FeedsReplay(ReplayApp):
    name = "feeds"

    def __init__(self, data: FeedsData) -> None:
        super().__init__()
        self.data = data
        self.route("GET", r"/rss/search", self.google_news)
        self.route("GET", r"/.+", self.feed)

    def feed(self, request: ReplayRequest) -> Reply:
        feed = self.data.feeds.get(request.path)
        if feed is None:
            return Reply.text("<html><body>Not Found</body></html>", "text/html", status=404)
        items = _visible_items(feed.get("items", []), request.now)[: feed.get("size")]
        if feed.get("format", "rss") == "atom":
            body, content_type = _atom(feed, items), ATOM_TYPE
        else:
            body, content_type = _rss(feed, items), RSS_TYPE
        return _with_last_modified(request, Reply.text(body, content_type), items)

    def google_news(self, request: ReplayRequest) -> Reply:
        query = request.query.get("q", "")
        lang = _edition_language(request.query.get("ceid", "US:en"))
        words = [w.strip('"').casefold() for w in query.split() if ":" not in w]
        items = [
            i
            for i in self.data.google_news
            if i.get("lang", "en") == lang
            and all(w in (i["title"] + " " + i.get("description", "")).casefold() for w in words)
        ]
        feed = {
            "title": f"{query} - Google News",
            "link": f"https://news.google.com/search?q={query}&hl={request.query.get('hl', '')}",
            "language": request.query.get("hl", "en-US"),
            "generator": "NFE/5.0",
            "description": "Google News",
        }
        items = [{k: v for k, v in i.items() if k != "lang"} for i in items]
        return Reply.text(_rss(feed, _visible_items(items, request.now)), RSS_TYPE)


def _edition_language(ceid: str) -> str:
    """`CN:zh-Hans` → zh, `DE:de` → de, `US:en` → en."""
    return ceid.rsplit(":", maxsplit=1)[-1].split("-", maxsplit=1)[0].lower() or "en"


def _visible_items(items: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    shown = [i for i in items if item_time(i) <= now]
    return sorted(shown, key=item_time, reverse=True)


def _with_last_modified(request: ReplayRequest, reply: Reply, items: list[dict[str, Any]]) -> Reply:
    if not items:
        return reply
    newest = max(item_time(i) for i in items)
    reply.headers["Last-Modified"] = format_datetime(newest, usegmt=True)
    since = request.header("if-modified-since")
    if since and not request.header("if-none-match"):
        try:
            if newest <= parsedate_to_datetime(since):
                return Reply(
                    status=304,
                    body=b"",
                    headers={"Last-Modified": reply.headers["Last-Modified"]},
                    content_type="",
                    etag=False,
                )
        except (TypeError, ValueError):
            pass
    return reply


def _element(name: str, value: Any) -> str:
    if isinstance(value, dict):  # {"text": ..., attribute: ...}
        attrs = "".join(f" {k}={quoteattr(str(v))}" for k, v in value.items() if k != "text")
        return f"<{name}{attrs}>{escape(str(value.get('text', '')))}</{name}>"
    return f"<{name}>{escape(str(value))}</{name}>"


def _rss(feed: dict[str, Any], items: list[dict[str, Any]]) -> str:
    head = "".join(
        _element(k, feed[k])
        for k in ("generator", "title", "link", "language", "description")
        if k in feed
    )
    body = "".join(
        "<item>" + "".join(_element(k, v) for k, v in item.items()) + "</item>" for item in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel>{head}{body}</channel></rss>"
    )


def _atom(feed: dict[str, Any], items: list[dict[str, Any]]) -> str:
    entries = []
    for item in items:
        parts = [_element(k, item[k]) for k in ("id", "title", "updated", "published") if k in item]
        if "link" in item:
            parts.append(f'<link rel="alternate" href={quoteattr(item["link"])}/>')
        if "summary" in item:
            parts.append(f'<summary type="html">{escape(item["summary"])}</summary>')
        if "author" in item:
            parts.append(f"<author><name>{escape(item['author'])}</name></author>")
        entries.append("<entry>" + "".join(parts) + "</entry>")
    updated = max((item_time(i) for i in items), default=parse_time("2000-01-01T00:00:00Z"))
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"{_element('title', feed.get('title', ''))}<link href={quoteattr(feed.get('link', ''))}/>"
        f"<id>{escape(feed.get('link', 'urn:feed'))}</id><updated>{updated.isoformat()}</updated>"
        + "".join(entries)
        + "</feed>"
    )
