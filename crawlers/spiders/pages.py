"""Configured web pages: official statements, newsrooms, forum threads, read with selectors.

Each `pages:` entry of the incident file names a URL and CSS selectors (or `xpath:` expressions)
for the posts on it (`Selectors`): the item, its text, and optionally title, time, author, link,
id and counts; `next_page` pages through a thread, `follow` opens each listed link and reads it
with `follow_selectors` (a newsroom list → each statement). A list that is followed is always
fetched in full: its own markup may stay the same while a listed thread grows (or a listed
statement is edited), so a 304 for it would hide the links to re-check; each followed page
still asks with its own ETag. robots.txt is obeyed unless the
section says `obey_robots: false`. Text is passed on as HTML (`text_is_html`) for the normalise
pipeline to turn into plain text, so markup or script inside a post is never kept as markup.
A naive time on a page is read in the incident's time zone (Toutiao shows Beijing time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import scrapy
from dateutil import parser as dateparser
from parsel import Selector, SelectorList
from scrapy.http import Response
from scrapy.settings import BaseSettings

from crawlers.items import Author, Engagement, Post
from crawlers.parsers.common import opt_int
from crawlers.spiders.base import HANDLED_STATUSES, IncidentSpider, rebase, unrebase
from spreadwatch.sources import Page, PagesSource, Selectors


def select(node: Selector | Response, expression: str) -> SelectorList[Selector]:
    """CSS by default; `xpath:` prefix for XPath."""
    if expression.startswith("xpath:"):
        return node.xpath(expression[len("xpath:") :])
    return node.css(expression)


class PagesSpider(IncidentSpider):
    name = "pages"
    source = "pages"
    section: PagesSource

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Politeness defaults for HTML sites: robots.txt on (a page may opt out per request)."""
        super().update_settings(settings)
        settings.set("ROBOTSTXT_OBEY", True, priority="spider")

    def initial_requests(self) -> list[scrapy.Request]:
        return [self.page_request(page.url, page, page.selectors, 1) for page in self.section.pages]

    def page_request(
        self, url: str, page: Page, selectors: Selectors, number: int
    ) -> scrapy.Request:
        target = rebase(url, self.base_url)
        lists_links = page.follow is not None and selectors is page.selectors
        headers = {
            "User-Agent": self.settings_obj.user_agent,
            **({} if lists_links else self.state.conditional_headers(target)),
        }
        return scrapy.Request(
            target,
            callback=self.parse_page,
            headers=headers,
            cb_kwargs={"page": page, "selectors": selectors, "number": number},
            meta={
                "handle_httpstatus_list": HANDLED_STATUSES,
                "dont_obey_robotstxt": not self.section.obey_robots,
            },
        )

    def parse_page(
        self, response: Response, page: Page, selectors: Selectors, number: int
    ) -> Iterator[Any]:
        if self.unchanged(response):
            return
        if not hasattr(response, "css"):
            self.drop("not_html", response.url, response.headers.get("Content-Type"))
            return
        nodes = select(response, selectors.item)
        if not nodes:
            self.drop("no_items", response.url, f"selector {selectors.item!r} matched nothing")
        for index, node in enumerate(nodes):
            post = self.post_of(response, node, page, selectors, index)
            if post is not None:
                yield post
        self.remember(response)
        yield from self.follow_links(response, page)
        if page.next_page and number < page.max_pages:
            href = select(response, page.next_page).xpath("@href").get()
            if href:
                yield self.page_request(response.urljoin(href), page, selectors, number + 1)

    def follow_links(self, response: Response, page: Page) -> Iterator[scrapy.Request]:
        if page.follow is None or page.follow_selectors is None:
            return
        for href in select(response, page.follow).xpath("@href").getall()[:50]:
            yield self.page_request(
                response.urljoin(href), page, page.follow_selectors, page.max_pages
            )

    def post_of(
        self, response: Response, node: Selector, page: Page, selectors: Selectors, index: int
    ) -> Post | None:
        text = " ".join(select(node, selectors.text).getall()).strip()
        if not text:
            self.drop("empty_text", response.url, f"item {index}")
            return None
        when = self.time_of(node, selectors)
        if when is None:
            self.drop("bad_time", response.url, f"item {index}")
            return None
        link = _first(node, selectors.link, "@href")
        url = unrebase(response.urljoin(link) if link else response.url, page.url, self.base_url)
        native = _first(node, None, f"@{selectors.id_attr}") if selectors.id_attr else None
        if not native:
            # A statement keeps its id when it is edited (the edit is then seen as one); other
            # items without an id are told apart by what they say.
            key = f"{url}#{index}" if page.kind == "statement" else f"{url}\n{text[:500]}"
            native = hashlib.sha1(key.encode()).hexdigest()
        official = page.official or page.kind == "statement"
        author_name = _text(node, selectors.author)
        return Post(
            platform=page.platform,
            native_id=native,
            timestamp=when,
            kind=page.kind,
            url=url,
            author=Author(handle=author_name, name=author_name, official=official),
            title=_text(node, selectors.title),
            text=text,
            text_is_html=True,
            lang=page.lang,
            official=official,
            always_keep=official,
            source_query=page.name,
            engagement=Engagement(
                replies=opt_int(_digits(_text(node, selectors.replies))),
                views=opt_int(_digits(_text(node, selectors.views))),
            ),
        )

    def time_of(self, node: Selector, selectors: Selectors) -> datetime | None:
        """The item's time; a page without a time selector is dated when first crawled."""
        if selectors.time is None:
            return self.clock()
        attr = f"@{selectors.time_attr}" if selectors.time_attr else None
        raw = _first(node, selectors.time, attr) if attr else _text(node, selectors.time)
        if not raw:
            return None
        try:
            parsed = dateparser.parse(raw.strip())
        except (ValueError, OverflowError):
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(self.incident.timezone))
        return parsed.astimezone(UTC)


def _first(node: Selector, expression: str | None, attr: str | None) -> str | None:
    found = select(node, expression) if expression else SelectorList([node])
    if attr:
        found = found.xpath(attr)
    value = found.get()
    return value.strip() if isinstance(value, str) and value.strip() else None


def _text(node: Selector, expression: str | None) -> str | None:
    if expression is None:
        return None
    found = select(node, expression)
    value = " ".join(t.strip() for t in found.xpath("string()").getall() if t.strip())
    return value or None


def _digits(value: str | None) -> str | None:
    if value is None:
        return None
    digits = "".join(c for c in value if c.isdigit())
    return digits or None
