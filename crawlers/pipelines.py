"""Item pipelines: validate → normalise → match → stance → fingerprint → capture → index.

Thin Scrapy wrappers around the ingest core (`crawlers.ingest`): each pipeline calls one stage
function with the crawl's `IngestContext` (`crawlers.context.crawl_context`). A drop
(`crawlers.ingest.Dropped`) becomes a `DropItem` with the reason, counted as
`spreadwatch/dropped/<reason>` in the crawl stats, never a silent skip. The index pipeline owns
the crawl's bulk writer and copies its totals into the crawl stats at close; the capture
pipeline owns the crawl's evidence archive (`crawlers.capture`).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.reactor import is_reactor_installed
from twisted.internet import task

from crawlers.capture import CaptureStage
from crawlers.checkpoint import checkpoint_sink
from crawlers.context import crawl_context
from crawlers.ingest import (
    Dropped,
    IngestContext,
    PostDoc,
    add_to_writer,
    fingerprint,
    match,
    normalise,
    open_writer,
    stance,
    validate,
    writer_stats,
)
from crawlers.ingest.core import capture_stats
from crawlers.ingest.stages import Stage, take_notes
from indexer.writer import BulkWriter


class ItemDropped(DropItem):
    """A drop whose `reason` is the stat slug; logged at INFO without the item's text."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}", log_level="INFO")
        self.reason = reason


class _StagePipeline:
    """One ingest stage as a Scrapy item pipeline."""

    stage: Stage

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> _StagePipeline:
        return cls(crawler)

    @property
    def context(self) -> IngestContext:
        return crawl_context(self.crawler)

    def process_item(self, item: Any) -> Any:
        stats = self.crawler.stats
        assert stats is not None
        try:
            result = self.stage(item, self.context)
        except Dropped as drop:
            stats.inc_value(drop.stat)
            raise ItemDropped(drop.reason, drop.detail) from None
        for key in take_notes(result):  # e.g. a text cut to length: spreadwatch/truncated
            stats.inc_value(key)
        return result


class ValidatePipeline(_StagePipeline):
    stage = staticmethod(validate)


class NormalisePipeline(_StagePipeline):
    stage = staticmethod(normalise)


class MatchPipeline(_StagePipeline):
    stage = staticmethod(match)


class StancePipeline(_StagePipeline):
    stage = staticmethod(stance)


class FingerprintPipeline(_StagePipeline):
    stage = staticmethod(fingerprint)


class CapturePipeline:
    """Archives the raw exchange of a matching post at first sight and when its text changes."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stage: CaptureStage | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CapturePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.stage = CaptureStage.open(crawl_context(self.crawler))

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PostDoc) and self.stage is not None:
            self.stage.process(item)
        return item

    def close_spider(self) -> None:
        if self.stage is None:
            return
        stats = self.crawler.stats
        assert stats is not None
        for key, value in capture_stats(self.stage.close()).items():
            stats.set_value(key, value)


class IndexPipeline:
    """Hands documents to the crawl's bulk writer; its totals go into the crawl stats at close."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.writer: BulkWriter | None = None
        self._ticker: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IndexPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        context = crawl_context(self.crawler)
        # batches are written while the crawl keeps downloading
        self.writer = open_writer(context, background=True)
        # Crawl state commits wait for the documents before them (crawlers.checkpoint).
        sink = checkpoint_sink(self.crawler)
        sink.after_durable, sink.flush = self.writer.after_durable, self._write_promptly
        if is_reactor_installed():  # a quiet crawl still writes its batch on time
            self._ticker = task.LoopingCall(self.writer.flush_if_due)
            self._ticker.start(max(context.flush_seconds, 0.5), now=False)

    def _write_promptly(self) -> None:
        """The crawl is told to stop: write what is buffered, and from now on each document
        as it comes (what is still in the stages gets out before the process is killed)."""
        assert self.writer is not None
        self.writer.flush_seconds = 0.0
        self.writer.flush()

    def process_item(self, item: Any) -> Any:
        assert self.writer is not None
        add_to_writer(item, crawl_context(self.crawler), self.writer)
        return item

    def close_spider(self) -> None:
        if self._ticker is not None and self._ticker.running:
            self._ticker.stop()
        if self.writer is None:
            return
        stats = self.crawler.stats
        assert stats is not None
        closed = self.writer.close()
        checkpoint_sink(self.crawler).closed = True
        for key, value in writer_stats(closed).items():
            stats.set_value(key, value)
