"""Raw exchanges travel with the posts they carried, so the capture stage can archive them.

A spider middleware: every `Post` a callback yields carries the request and response it came
from (`exchange_attached(post)`; an attribute outside the item's fields, so feed exports and
`asdict` never see it) (one `evidence.warcstore.Exchange` per response, shared by all of its posts; the
body is referenced, not copied). Items keep the order the callback yielded them in, so the
checkpoint discipline of the crawl state is untouched. Off when `SPREADWATCH_EVIDENCE_CAPTURE`
is `off`.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from crawlers.items import Post
from evidence.warcstore import Exchange
from spreadwatch.clock import Clock, crawl_clock, utc_now
from spreadwatch.settings import Settings, load_settings

_META_KEY = "_spreadwatch_exchange"
_ATTRIBUTE = "_spreadwatch_exchange"


class ExchangeMiddleware(BaseSpiderMiddleware):
    """Attaches the response's exchange to each post yielded from it, dated by the crawl's
    clock (`spreadwatch.clock.crawl_clock`)."""

    def __init__(self, crawler: Crawler, clock: Clock = utc_now) -> None:
        super().__init__(crawler)
        self.clock = clock

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExchangeMiddleware:
        given = crawler.settings.get("SPREADWATCH_SETTINGS")
        settings = given if isinstance(given, Settings) else load_settings()
        if settings.evidence_capture == "off":
            raise NotConfigured("evidence capture is off")
        return cls(crawler, crawl_clock(settings))

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        if isinstance(item, Post) and response is not None and exchange_attached(item) is None:
            attach(item, exchange_of(response, self.clock))
        return item


def attach(item: Any, exchange: Exchange | None) -> None:
    item.__dict__[_ATTRIBUTE] = exchange


def exchange_attached(item: Any) -> Exchange | None:
    """The exchange a post or document carries, if any."""
    value = getattr(item, "__dict__", {}).get(_ATTRIBUTE)
    return value if isinstance(value, Exchange) else None


def exchange_of(response: Response, clock: Clock = utc_now) -> Exchange:
    """The response's exchange, built once and kept in its meta for the other posts."""
    meta = response.meta if response.request is not None else {}
    cached = meta.get(_META_KEY)
    if isinstance(cached, Exchange):
        return cached
    request = response.request
    exchange = Exchange(
        url=request.url if request is not None else response.url,
        status=response.status,
        response_headers=_pairs(response.headers),
        body=response.body,
        method=request.method if request is not None else "GET",
        request_headers=_pairs(request.headers) if request is not None else [],
        request_body=request.body if request is not None else b"",
        protocol=response.protocol or "HTTP/1.1",
        fetched_at=clock(),  # the response has just arrived
    )
    if request is not None:
        meta[_META_KEY] = exchange
    return exchange


def _pairs(headers: Any) -> list[tuple[str, str]]:
    pairs = []
    for key, values in headers.items():
        name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        for value in values:
            pairs.append((name, value.decode("latin-1") if isinstance(value, bytes) else str(value)))  # fmt: skip
    return pairs
