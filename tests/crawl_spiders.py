"""A test-only spider for crawl-level tests of `crawlers.run` and `spreadwatch crawl`.

`jsonposts` reads the incident's feed URLs (pointed at a local HTTP server by the test) and
yields one `Post` per JSON record, exactly as a platform spider would. Platform spiders and their
replay servers have their own tests; this one exercises the run machinery around any spider.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.items import Engagement, Post
from spreadwatch.incident import resolve_incident


class JsonPostsSpider(scrapy.Spider):
    name = "jsonposts"

    async def start(self) -> AsyncIterator[Any]:
        incident = resolve_incident(str(self.incident))
        feeds = incident.sources.feeds.feeds if incident.sources.feeds else []
        for feed in feeds:
            yield scrapy.Request(feed.url, callback=self.parse_posts)

    def parse_posts(self, response: Response) -> Any:
        for record in response.json():
            yield Post(
                platform="tiny",
                native_id=record["id"],
                timestamp=record["time"],
                text=record["text"],
                engagement=Engagement(likes=record.get("likes")),
            )
