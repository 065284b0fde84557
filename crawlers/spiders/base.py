"""What every spreadwatch spider shares: the incident, the settings, the state, counted drops.

`scrapy crawl github -a incident=incidents/bytedance-intern-2024.yml` (a path or an incident id)
works the same as `crawlers.run`: settings come from `crawler.settings["SPREADWATCH_SETTINGS"]`
when the runner passes a built `Settings`, else `load_settings()` here, at the edge. A spider
never talks to Elasticsearch; it yields `Post` / `Activity` items and mutates its incremental
state (`crawlers.state.CrawlState`) in its callbacks; it never saves it: `crawlers.checkpoint`
commits a response's changes once everything that response led to is durable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings, default_settings

from crawlers.checkpoint import DOWNLOADER_PRIORITY as CHECKPOINT_DOWNLOADER_PRIORITY
from crawlers.checkpoint import SPIDER_PRIORITY as CHECKPOINT_SPIDER_PRIORITY
from crawlers.middlewares import PRIORITY as RATELIMIT_PRIORITY
from crawlers.netguard import HANDLER as GUARDED_HANDLER
from crawlers.redirects import PRIORITY as REDIRECT_LOOP_PRIORITY
from crawlers.state import CrawlState, StateStore
from crawlers.state_es import state_store
from spreadwatch.clock import crawl_clock
from spreadwatch.incident import Incident, resolve_incident
from spreadwatch.settings import Settings, load_settings
from spreadwatch.sources import SourceBase

logger = logging.getLogger(__name__)

RATELIMIT_MIDDLEWARE = "crawlers.middlewares.RateLimitMiddleware"
BUCKET_SCHEDULER = "crawlers.scheduler.BucketScheduler"
CHECKPOINT_MIDDLEWARE = "crawlers.checkpoint.CheckpointMiddleware"
REDIRECT_LOOP_MIDDLEWARE = "crawlers.redirects.RedirectLoopCounter"
#: Statuses the callbacks handle themselves (304 = unchanged; 4xx are counted refusals).
HANDLED_STATUSES = [304, 401, 403, 404, 410, 422, 429]


class IncidentSpider(scrapy.Spider):
    """Base class: `-a incident=PATH|ID`; subclasses set `name` and implement `start_requests_for`."""

    #: The `sources:` section of the incident file this spider reads.
    source: ClassVar[str] = ""

    incident: Incident
    settings_obj: Settings
    section: SourceBase | None
    state: CrawlState
    state_store: StateStore

    def __init__(self, incident: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not incident:
            raise ValueError(f"spider {self.name} needs -a incident=PATH (or an incident id)")
        self.incident_ref = incident

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Enable the rate-limit and checkpoint middlewares, the scheduler that keeps a held
        bucket's requests back (unless another than Scrapy's is set) and the private-network
        guard whatever runs the spider, without replacing the project's middleware lists."""
        super().update_settings(settings)
        if settings.get("SCHEDULER") == default_settings.SCHEDULER:
            settings.set("SCHEDULER", BUCKET_SCHEDULER, priority="spider")
        handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
        handlers.update({"http": GUARDED_HANDLER, "https": GUARDED_HANDLER})
        settings.set("DOWNLOAD_HANDLERS", handlers, priority="spider")
        middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
        middlewares.setdefault(RATELIMIT_MIDDLEWARE, RATELIMIT_PRIORITY)
        middlewares.setdefault(CHECKPOINT_MIDDLEWARE, CHECKPOINT_DOWNLOADER_PRIORITY)
        middlewares.setdefault(REDIRECT_LOOP_MIDDLEWARE, REDIRECT_LOOP_PRIORITY)
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")
        spider_middlewares = dict(settings.getdict("SPIDER_MIDDLEWARES"))
        spider_middlewares.setdefault(CHECKPOINT_MIDDLEWARE, CHECKPOINT_SPIDER_PRIORITY)
        settings.set("SPIDER_MIDDLEWARES", spider_middlewares, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> IncidentSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.configure(crawler)
        return spider

    def configure(self, crawler: Crawler) -> None:
        given = crawler.settings.get("SPREADWATCH_SETTINGS")
        self.settings_obj = given if isinstance(given, Settings) else load_settings()
        #: The crawl's "now": times read relative to it, and what it stamps (`crawl_clock`).
        self.clock = crawl_clock(self.settings_obj)
        self.incident = resolve_incident(self.incident_ref)
        self.section = getattr(self.incident.sources, self.source, None)
        self.state_store = state_store(self.settings_obj)
        self.state = self.state_store.load(self.incident.id, self.name)
        self.run_id = crawler.settings.get("SPREADWATCH_RUN_ID")

    @property
    def base_url(self) -> str:
        return self.settings_obj.base_url(self.source)

    async def start(self) -> AsyncIterator[Any]:
        if self.section is None or not self.section.enabled:
            self.count("not_configured")
            logger.warning(
                "incident %s has no enabled %s section; nothing to crawl",
                self.incident.id,
                self.source,
            )
            return
        for request in self.initial_requests():
            yield request

    def initial_requests(self) -> list[scrapy.Request]:
        """The first requests of a crawl; every platform spider defines its own."""
        raise NotImplementedError(f"spider {self.name!r} defines no initial_requests()")

    # Stats and drops: a silently empty crawl is how a monitor fails unnoticed.

    def count(self, key: str, value: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"spreadwatch/{key}", value)

    def drop(self, reason: str, url: str, detail: object = "") -> None:
        """A record or response that cannot be used: counted by reason and logged, not fatal."""
        self.count(f"dropped/{reason}")
        logger.warning("dropped (%s) from %s: %s", reason, url, str(detail)[:200])

    # Responses.

    def unchanged(self, response: Response) -> bool:
        """True for a 304 (nothing new since the stored ETag) and for refusals, counted."""
        if response.status == 304:
            self.count("not_modified")
            return True
        if response.status >= 400:
            self.count(f"refused/{response.status}")
            logger.warning(
                "%s answered %d: %s",
                response.url,
                response.status,
                response.text[:200] if _is_text(response) else "",
            )
            return True
        return False

    def remember(self, response: Response) -> None:
        """Store the response's ETag / Last-Modified for the next run's conditional request."""
        etag = _decoded(response.headers.get("ETag"))
        modified = _decoded(response.headers.get("Last-Modified"))
        url = response.request.url if response.request else response.url
        self.state.remember_validators(url, etag, modified)

    def json_body(self, response: Response) -> Any | None:
        """The parsed JSON body, or None with a counted drop for truncated or garbage bodies."""
        try:
            return json.loads(response.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            self.drop("bad_json", response.url, error)
            return None


def _is_text(response: Response) -> bool:
    return hasattr(response, "text")


def _decoded(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def unrebase(url: str, configured: str, base: str) -> str:
    """Undo `rebase` for a URL found on a rebased page: stored posts carry the real address."""
    if not base or not url.startswith(base.rstrip("/")):
        return url
    parts = urlsplit(configured)
    return f"{parts.scheme}://{parts.netloc}" + url[len(base.rstrip("/")) :]


def rebase(url: str, base: str) -> str:
    """`url` with its scheme and host replaced by `base` (the source's base-URL override)."""
    if not base:
        return url
    parts = urlsplit(url)
    return base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
