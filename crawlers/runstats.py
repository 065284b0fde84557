"""One document per crawl run, built from the crawl's stats: the monitor watching itself.

`RunStats` (a Scrapy extension) notes the start, keeps the first error messages, and when the
spider closes builds the run document (items, drops by reason, HTTP statuses, 304s, errors,
status ok|partial|failed) and keeps it on the crawler for `crawlers.run`, which writes it. Under a
plain `scrapy crawl` (`SPREADWATCH_RECORD_RUN` true) the extension writes it itself.
"""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from scrapy import signals
from scrapy.crawler import Crawler

from crawlers.context import crawl_context
from indexer.connection import ConnectionFailedError, IndexNames, make_client
from indexer.templates import init
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)

RUN_ATTRIBUTE = "spreadwatch_run"
MAX_ERRORS = 20
_STATUS_PREFIX = "downloader/response_status_count/"


class _ErrorCollector(logging.Handler):
    """Keeps the first error messages of the crawl for the run document."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < MAX_ERRORS:
            self.messages.append(f"{record.name}: {record.getMessage()}"[:1000])


class RunStats:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.started = datetime.now(UTC)
        self.errors = _ErrorCollector()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunStats:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self.started = datetime.now(UTC)
        logging.getLogger().addHandler(self.errors)

    def spider_closed(self, reason: str) -> None:
        logging.getLogger().removeHandler(self.errors)
        context = crawl_context(self.crawler)
        assert self.crawler.stats is not None
        doc = build_run_doc(
            self.crawler.stats.get_stats(),
            started=self.started,
            incident=context.incident.id,
            source=context.spider_name,
            run_id=context.run_id,
            finish_reason=reason,
            errors=self.errors.messages,
        )
        setattr(self.crawler, RUN_ATTRIBUTE, doc)
        if self.crawler.settings.getbool("SPREADWATCH_RECORD_RUN", True):
            write_run(context.settings, doc)


def build_run_doc(
    stats: dict[str, Any],
    *,
    started: datetime,
    incident: str,
    source: str,
    run_id: str,
    finish_reason: str,
    errors: list[str],
    finished: datetime | None = None,
) -> dict[str, Any]:
    """The runs-index document for a crawl with these Scrapy stats."""
    finished = finished or datetime.now(UTC)
    drops = _by_prefix(stats, "spreadwatch/dropped/")
    rejected = _by_prefix(stats, "spreadwatch/rejected/")
    refusals = _by_prefix(stats, "spreadwatch/refused/")
    statuses = _by_prefix(stats, _STATUS_PREFIX)
    error_count = int(stats.get("log_count/ERROR", 0)) + int(stats.get("spider_exceptions", 0))
    doc: dict[str, Any] = {
        "@timestamp": started.isoformat(),
        "finished": finished.isoformat(),
        "duration_s": round((finished - started).total_seconds(), 3),
        "run_id": run_id,
        "job": "crawl",
        "incident": incident,
        "source": source,
        "finish_reason": finish_reason,
        "items_scraped": int(stats.get("item_scraped_count", 0))
        + int(stats.get("item_dropped_count", 0)),
        "items_indexed": _writer(stats, "indexed_new"),
        "items_updated": _writer(stats, "updated"),
        "items_unchanged": _writer(stats, "unchanged"),
        "items_dropped": sum(drops.values()),
        "items_spooled": _writer(stats, "spooled"),
        "items_lost": _writer(stats, "lost"),
        "items_dead_lettered": _writer(stats, "dead_lettered"),
        "spool_replayed": _writer(stats, "spool_replayed"),
        "activity_written": _writer(stats, "activity_written"),
        "edited": _writer(stats, "edited"),
        "deleted": _writer(stats, "deleted"),
        "evidence_captured": int(stats.get("spreadwatch/evidence/records", 0)),
        "evidence_bytes": int(stats.get("spreadwatch/evidence/bytes", 0)),
        "drops": _counts(drops),
        "refusals": _counts(refusals),
        "rejected": _counts(rejected),
        "gave_up": int(stats.get("retry/max_reached", 0)) + sum(refusals.values()),
        "http_status": _counts(statuses),
        "requests": int(stats.get("downloader/request_count", 0)),
        "not_modified": int(statuses.get("304", 0)),
        "errors": "\n".join(errors),
        "error_count": error_count,
        "host": socket.gethostname(),
    }
    doc["status"] = run_status(doc)
    return doc


def failed_run_doc(
    *, started: datetime, incident: str, source: str, run_id: str, error: str
) -> dict[str, Any]:
    """The run document of a crawl that could not start or crashed."""
    doc = build_run_doc(
        {},
        started=started,
        incident=incident,
        source=source,
        run_id=run_id,
        finish_reason="error",
        errors=[error],
    )
    doc.update(status="failed", error_count=1)
    return doc


def run_status(doc: dict[str, Any]) -> str:
    """failed: did not finish, lost documents (the spool could not be written), or errors and
    nothing fetched; refused: the source refused every request (`spreadwatch/refused/<reason>`
    stats) and nothing came; partial: finished, but with errors, spooled documents, or requests
    refused or failed after every retry (`gave_up`); ok: finished cleanly."""
    if doc["finish_reason"] != "finished" or doc.get("items_lost"):
        return "failed"  # documents neither stored nor spooled: loud, and the state stayed
    if doc.get("refusals") and not doc["items_scraped"] and not doc["not_modified"]:
        return "refused"  # the source said no (login wall, 403): counted, and nothing crashed
    if doc["error_count"] and not doc["items_scraped"] and not doc["not_modified"]:
        return "failed"
    if (
        doc["error_count"]
        or doc["items_spooled"]
        or doc.get("gave_up")
        or doc.get("items_dead_lettered")
    ):
        return "partial"  # some requests refused or failed after every retry
    return "ok"


def write_run(settings: Settings, doc: dict[str, Any], client: Elasticsearch | None = None) -> bool:
    """Index the run document under its run id; False (logged) when the cluster is down."""
    try:
        client = client or make_client(settings)
        names = IndexNames(settings.index_prefix)
        init(client, names)  # a crawl that failed early may be the first use of this prefix
        client.index(index=names.runs, id=doc["run_id"], document=doc, refresh="wait_for")
    except (ConnectionFailedError, TransportError, ApiError) as error:
        logger.error("run %s not recorded in Elasticsearch: %s", doc["run_id"], error)
        return False
    return True


def _by_prefix(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix) :]: int(v) for k, v in stats.items() if k.startswith(prefix)}


def _counts(values: dict[str, int]) -> list[dict[str, Any]]:
    return [{"key": key, "count": count} for key, count in sorted(values.items())]


def _writer(stats: dict[str, Any], key: str) -> int:
    return int(stats.get(f"spreadwatch/writer/{key}", 0))
