"""The crawl's item pipelines, run outside a Scrapy crawl for a stream.

The stages of `crawlers.settings.ITEM_PIPELINES` (validate → normalise → match → stance →
fingerprint → index) are built as Scrapy would build them, from a `Crawler` that is configured
but never started: a stream needs their logic and their writer, not a reactor. Drops are counted
in the same stats keys as a crawl (`spreadwatch/dropped/<reason>`).
"""

from __future__ import annotations

import logging
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.settings import Settings as ScrapySettings
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.misc import load_object

from crawlers import settings as crawl_settings
from crawlers.context import new_run_id
from indexer.writer import BulkWriter, WriterStats
from spreadwatch.incident import Incident
from spreadwatch.settings import Settings


class _StreamSpider(scrapy.Spider):
    """Names the stream in the pipeline context (`source.spider`) and carries the incident."""

    def __init__(self, name: str, incident: Incident) -> None:
        super().__init__(name=name)
        self.incident = incident


logger = logging.getLogger(__name__)


class StreamPipeline:
    """`process(item)` runs one item through every stage; `close()` flushes and reports."""

    def __init__(
        self, settings: Settings, incident: Incident, source: str, run_id: str | None = None
    ) -> None:
        scrapy_settings = ScrapySettings()
        scrapy_settings.setmodule(crawl_settings)
        scrapy_settings.set("SPREADWATCH_SETTINGS", settings)
        scrapy_settings.set("SPREADWATCH_INCIDENT", incident)
        scrapy_settings.set("SPREADWATCH_RUN_ID", run_id or new_run_id(incident.id, source))
        self.crawler = Crawler(_StreamSpider, scrapy_settings)
        self.crawler.stats = MemoryStatsCollector(self.crawler)
        self.crawler.spider = _StreamSpider(source, incident)
        order = scrapy_settings.getwithbase("ITEM_PIPELINES")
        paths = sorted((p for p, v in order.items() if v is not None), key=lambda p: order[p])
        self.stages = [load_object(path).from_crawler(self.crawler) for path in paths]
        for stage in self.stages:
            if hasattr(stage, "open_spider"):
                stage.open_spider()

    @property
    def writer(self) -> BulkWriter:
        """The bulk writer of the index stage (flushed at the stream's checkpoints)."""
        for stage in self.stages:
            writer = getattr(stage, "writer", None)
            if isinstance(writer, BulkWriter):
                return writer
        raise RuntimeError("ITEM_PIPELINES has no stage with a bulk writer")

    def process(self, item: Any) -> bool:
        """True when the item reached the writer; a drop is counted and returns False."""
        try:
            for stage in self.stages:
                item = stage.process_item(item)
        except DropItem as drop:
            logger.debug("stream item dropped: %s", drop)
            return False
        return True

    def stats(self) -> dict[str, Any]:
        assert self.crawler.stats is not None
        return dict(self.crawler.stats.get_stats())

    def close(self) -> WriterStats:
        stats = None
        for stage in self.stages:
            if hasattr(stage, "close_spider"):
                stage.close_spider()
        stats = self.writer.stats
        return stats
