"""Telegram: public channel previews (`t.me/s/<channel>`), paged back with `?before=<id>`.

The preview is a web page, not an API: the project's politeness settings apply (robots.txt,
delay, AutoThrottle). Each page holds about 20 messages, oldest first; the spider goes back page
by page until a message is older than the window (the last run's newest minus `refresh`, so
recent view counts are re-read) or `max_pages`. A channel without a public preview is
redirected by Telegram to its info page, which has no messages: counted as
`telegram/no_preview` and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.parsers.telegram import parse_channel_messages
from crawlers.social import SocialSpider
from spreadwatch.sources import TelegramSource

logger = logging.getLogger(__name__)


class TelegramSpider(SocialSpider):
    name = "telegram"
    source = "telegram"
    section: TelegramSource

    def initial_requests(self) -> list[scrapy.Request]:
        requests = []
        for channel in (c.lstrip("@") for c in self.section.channels):
            self.walk_started(channel)
            before = self.resume_point(channel, int)
            requests.append(self._page(channel, before=before, page=0))
        return requests

    def _page(self, channel: str, before: int | None, page: int) -> scrapy.Request:
        url = f"{self.base_url}/s/{channel}" + (f"?before={before}" if before else "")
        return self.request(url, self.parse_page, meta={"channel": channel, "page": page, "before": before})  # fmt: skip

    def parse_page(self, response: Response) -> Iterator[Any]:
        channel, page = response.meta["channel"], response.meta["page"]
        if self.unchanged(response):
            return
        if not hasattr(response, "text"):
            self.drop("bad_page", response.url, "not a text page")
            return
        posts, before, errors = parse_channel_messages(response.text, channel)
        for error in errors:
            self.drop("bad_record", response.url, error)
        # A saved walk's first page asks below its cap: empty, it reached the channel's first
        # message (and ends), which is no missing preview.
        if not posts and not errors and page == 0 and not response.meta.get("before"):
            self.count("telegram/no_preview")
            logger.warning("telegram: %s has no public preview (or no messages)", channel)
            return
        start = self.window_start(channel)
        fresh = [p for p in posts if p.timestamp >= start]
        for post in fresh:
            yield self.finish(post, channel)
        self.walk_page(channel, fresh)
        if not before or len(fresh) < len(posts):
            self.walk_ended(channel, complete=True)
        elif page + 1 >= self.section.max_pages:
            self.walk_ended(channel, complete=False, resume=before)
        else:
            yield self._page(channel, before, page + 1)
