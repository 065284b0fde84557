"""Live streams that run beside the scheduled crawls (Scrapy has no WebSocket support).

A stream is an asyncio task that keeps the events matching an incident and sends them through
the same ingest stages and bulk writer as a crawl (`crawlers.ingest.Ingest`), resuming from a
persisted cursor after a disconnect or a restart.
"""

from crawlers.stream.jetstream import JetstreamConsumer, StreamStats

__all__ = ["JetstreamConsumer", "StreamStats"]
