"""A spider of fixed requests in named rate-limit buckets, for the scheduler's tests.

Its requests are the setting `BUCKET_PLAN` (`[url, bucket]` pairs, sent in that order), the
truth a test compares the server's log with; it keeps what it was answered as items. Scheduler
and rate-limit middleware are the project's, enabled as every spreadwatch spider has them.
`spider_harness.run_spider("buckets", ...)` runs it (with `tests/` on `PYTHONPATH`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.middlewares import PRIORITY as RATELIMIT_PRIORITY
from crawlers.spiders.base import BUCKET_SCHEDULER, RATELIMIT_MIDDLEWARE


class BucketSpider(scrapy.Spider):
    name = "buckets"
    custom_settings = {  # noqa: RUF012 (Scrapy's own class attribute)
        "SCHEDULER": BUCKET_SCHEDULER,
        "DOWNLOADER_MIDDLEWARES": {RATELIMIT_MIDDLEWARE: RATELIMIT_PRIORITY},
    }

    def __init__(self, incident: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # `incident` (passed by the harness) is not read

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url, bucket in self.settings.getlist("BUCKET_PLAN"):
            yield scrapy.Request(url, meta={"ratelimit_bucket": bucket}, dont_filter=True)

    def parse(self, response: Response) -> Any:
        yield {"url": response.url, "status": response.status}
