"""The ingest context of a Scrapy crawl, read from the crawler's settings once.

Built on first use (the spider exists by then) and kept on the crawler. Settings come from the
`SPREADWATCH_SETTINGS` Scrapy setting when the CLI or `crawlers.run` passed a Settings object,
else from `load_settings()` (the edge when run by `scrapy crawl`). The incident comes from the
spider's `incident` attribute (an Incident, or a path given as `-a incident=PATH`) or from the
`SPREADWATCH_INCIDENT` Scrapy setting. Everything else about ingest lives in `crawlers.ingest`,
which needs no Scrapy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler

from crawlers.ingest.context import IngestContext, new_run_id
from spreadwatch.incident import Incident, resolve_incident
from spreadwatch.settings import Settings, load_settings

__all__ = ["IngestContext", "MissingIncidentError", "crawl_context", "new_run_id"]

_ATTRIBUTE = "_spreadwatch_context"


class MissingIncidentError(ValueError):
    """A crawl started without saying which incident it is for."""


def crawl_context(crawler: Crawler) -> IngestContext:
    """The crawl's context, built on first call and kept on the crawler."""
    context = getattr(crawler, _ATTRIBUTE, None)
    if context is None:
        context = _build(crawler)
        setattr(crawler, _ATTRIBUTE, context)
    return context


def _build(crawler: Crawler) -> IngestContext:
    scrapy_settings = crawler.settings
    settings = scrapy_settings.get("SPREADWATCH_SETTINGS")
    if not isinstance(settings, Settings):
        settings = load_settings()
    spider_name = getattr(crawler.spider, "name", None) or "unknown"
    incident = _incident(
        getattr(crawler.spider, "incident", None), scrapy_settings.get("SPREADWATCH_INCIDENT")
    )
    return IngestContext.build(
        settings,
        incident,
        spider_name=spider_name,
        run_id=scrapy_settings.get("SPREADWATCH_RUN_ID") or None,
        batch_size=scrapy_settings.getint("SPREADWATCH_BATCH_SIZE", 500),
        flush_seconds=scrapy_settings.getfloat("SPREADWATCH_FLUSH_SECONDS", 5.0),
    )


def _incident(from_spider: Any, from_settings: Any) -> Incident:
    for value in (from_spider, from_settings):
        if isinstance(value, Incident):
            return value
    for value in (from_spider, from_settings):
        if isinstance(value, str | Path) and str(value):
            return resolve_incident(str(value))
    raise MissingIncidentError(
        "no incident for this crawl: pass `-a incident=PATH` to scrapy crawl, "
        "or use `spreadwatch crawl INCIDENT`"
    )
