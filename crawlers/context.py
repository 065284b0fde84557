"""What every pipeline of one crawl shares: settings, the incident, the run id.

Built once per crawler, on first use (the spider exists by then). Settings come from the
`SPREADWATCH_SETTINGS` Scrapy setting when the CLI or `crawlers.run` passed a Settings object,
else from `load_settings()` (the edge when run by `scrapy crawl`). The incident comes from the
spider's `incident` attribute (an Incident, or a path given as `-a incident=PATH`) or from the
`SPREADWATCH_INCIDENT` Scrapy setting.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler

from spreadwatch.incident import Incident, Official, resolve_incident
from spreadwatch.settings import Settings, load_settings

_ATTRIBUTE = "_spreadwatch_context"


class MissingIncidentError(ValueError):
    """A crawl started without saying which incident it is for."""


@dataclass
class CrawlContext:
    settings: Settings
    incident: Incident
    run_id: str
    spider_name: str
    batch_size: int = 500
    flush_seconds: float = 5.0

    @property
    def official(self) -> Official | None:
        return self.incident.official

    @property
    def languages(self) -> list[str]:
        return self.incident.languages


def crawl_context(crawler: Crawler) -> CrawlContext:
    """The crawl's context, built on first call and kept on the crawler."""
    context = getattr(crawler, _ATTRIBUTE, None)
    if context is None:
        context = _build(crawler)
        setattr(crawler, _ATTRIBUTE, context)
    return context


def _build(crawler: Crawler) -> CrawlContext:
    scrapy_settings = crawler.settings
    settings = scrapy_settings.get("SPREADWATCH_SETTINGS")
    if not isinstance(settings, Settings):
        settings = load_settings()
    spider = crawler.spider
    spider_name = getattr(spider, "name", None) or "unknown"
    incident = _incident(
        getattr(spider, "incident", None), scrapy_settings.get("SPREADWATCH_INCIDENT")
    )
    run_id = scrapy_settings.get("SPREADWATCH_RUN_ID") or new_run_id(incident.id, spider_name)
    return CrawlContext(
        settings=settings,
        incident=incident,
        run_id=str(run_id),
        spider_name=spider_name,
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


def new_run_id(incident_id: str, source: str) -> str:
    """A readable, unique run id: incident, source, start time and a short random tail."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{incident_id}:{source}:{stamp}:{uuid.uuid4().hex[:6]}"
