"""One crawl of one source, in this process: `python -m crawlers.run --incident PATH --source NAME`.

The Twisted reactor cannot restart inside a process, so the scheduler and `spreadwatch crawl`
run every crawl through this module in a subprocess. It runs the spider, writes one document to
the runs index (also for a crawl that could not start) and prints a JSON summary as its LAST
stdout line. Exit status: 0 for ok or partial (the data is safe, maybe spooled), 1 for a failed
crawl, 2 for bad input (unknown incident, source or setting).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.settings import Settings as ScrapySettings

from crawlers.checkpoint import checkpoint_sink
from crawlers.context import new_run_id
from crawlers.runstats import RUN_ATTRIBUTE, failed_run_doc, write_run
from spreadwatch.incident import ConfigFileError, Incident, resolve_incident
from spreadwatch.logs import configure_logging, redact
from spreadwatch.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: Fields of the run document repeated in the one-line summary.
SUMMARY_FIELDS = (
    "run_id", "incident", "source", "status", "finish_reason", "duration_s", "items_scraped",
    "items_indexed", "items_updated", "items_unchanged", "items_dropped", "items_spooled",
    "items_lost", "activity_written", "edited", "deleted", "evidence_captured", "requests",
    "not_modified", "error_count",
)  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m crawlers.run", description="Run one source's crawl for an incident."
    )
    parser.add_argument("--incident", required=True, help="incident file path or incident id")
    parser.add_argument("--source", required=True, help="spider/source name, e.g. github")
    parser.add_argument("--run-id", help="id of this run (default: incident:source:time:random)")
    parser.add_argument(
        "--spider-module",
        action="append",
        default=[],
        help="extra module holding spiders (plugins, tests); may be repeated",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging()
    started = datetime.now(UTC)
    try:
        settings = load_settings()
    except SettingsError as error:
        return _finish(None, _bad_input(started, args, str(error)))
    configure_logging(as_json=settings.log_format == "json", level=settings.log_level)
    redact(settings.secret_values())
    try:
        incident = resolve_incident(args.incident)
    except ConfigFileError as error:
        return _finish(settings, _bad_input(started, args, str(error)))
    # Secrets the incident file names by variable (token_env, cookie_env, ...) are scrubbed too.
    named = [
        os.environ.get(name, "")
        for name in incident.sources.secret_env_names()
        if any(word in name for word in ("TOKEN", "SECRET", "PASSWORD", "COOKIE", "KEY"))
    ]
    redact([*settings.secret_values(), *named])
    run_id = args.run_id or new_run_id(incident.id, args.source)
    doc = crawl(settings, incident, args.source, run_id, started, spider_modules=args.spider_module)
    return _finish(settings, doc)


def crawl(
    settings: Settings,
    incident: Incident,
    source: str,
    run_id: str,
    started: datetime,
    *,
    spider_modules: list[str] | None = None,
) -> dict[str, Any]:
    """Run the spider named `source` to the end; returns the run document."""
    values = scrapy_settings(settings, incident, run_id)
    if spider_modules:
        values.set(
            "SPIDER_MODULES", [*values.getlist("SPIDER_MODULES"), *spider_modules], "cmdline"
        )
    process = AsyncCrawlerProcess(values, install_root_handler=False)
    # Scrapy sets its loggers to DEBUG, which would log every scraped item's text.
    logging.getLogger("scrapy").setLevel(settings.log_level.upper())
    try:
        crawler = process.create_crawler(source)
    except KeyError:
        known = ", ".join(sorted(process.spider_loader.list()))
        error = f"no spider named {source!r}; known: {known}"
        return _failed(started, incident.id, source, run_id, error, bad_input=True)
    failures: list[str] = []
    from twisted.internet import reactor as installed  # noqa: PLC0415 - the process's own

    reactor: Any = installed

    # After Scrapy's own shutdown handlers (installed by a startup trigger), chained to them.
    reactor.callWhenRunning(lambda: reactor.callLater(0, _flush_on_sigterm, crawler))
    task = process.crawl(crawler, incident=str(incident.path or incident.id))
    task.add_done_callback(lambda done: _note_failure(done, failures))
    process.start()
    doc = getattr(crawler, RUN_ATTRIBUTE, None)
    if doc is None or failures:
        reason = "; ".join(failures) or "the crawl ended before its spider opened"
        return _failed(started, incident.id, source, run_id, reason)
    doc["@timestamp"] = started.isoformat()  # include start-up time in the run
    doc["duration_s"] = round((datetime.now(UTC) - started).total_seconds(), 3)
    return doc


def _flush_on_sigterm(crawler: Crawler) -> None:
    """On SIGTERM (a timeout, a stopping monitor) write the buffered documents at once — their
    checkpoints commit — then let Scrapy close as it does (waiting for requests in flight)."""
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: FrameType | None) -> None:
        flush = checkpoint_sink(crawler).flush
        logger.info("stopping: buffered documents are written now (signal %s)", signum)
        if flush is not None:
            threading.Thread(target=flush, name="spreadwatch-stop-flush", daemon=True).start()
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, handler)


def scrapy_settings(settings: Settings, incident: Incident, run_id: str) -> ScrapySettings:
    """The project's Scrapy settings plus this run's spreadwatch values."""
    values = ScrapySettings()
    values.setmodule("crawlers.settings", priority="project")
    values.setdict(
        {
            "SPREADWATCH_SETTINGS": settings,
            "SPREADWATCH_INCIDENT": incident,
            "SPREADWATCH_RUN_ID": run_id,
            "SPREADWATCH_RECORD_RUN": False,  # written below, also when the crawl fails
            "USER_AGENT": settings.user_agent,
            "SPREADWATCH_BATCH_SIZE": settings.bulk_batch_size,
            "SPREADWATCH_FLUSH_SECONDS": settings.bulk_flush_seconds,
            "LOG_LEVEL": settings.log_level.upper(),
        },
        priority="cmdline",
    )
    return values


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """The run in one JSON line: totals plus drops and HTTP statuses as {key: count}."""
    line = {key: doc.get(key) for key in SUMMARY_FIELDS}
    line["drops"] = {c["key"]: c["count"] for c in doc.get("drops", [])}
    line["http_status"] = {c["key"]: c["count"] for c in doc.get("http_status", [])}
    if doc.get("errors"):
        line["error"] = doc["errors"].splitlines()[0]
    return line


def _note_failure(task: asyncio.Task[None], failures: list[str]) -> None:
    if task.cancelled():
        failures.append("crawl cancelled")
    elif task.exception() is not None:
        error = task.exception()
        logger.error("crawl failed: %s", error, exc_info=error)
        failures.append(f"{type(error).__name__}: {error}")


def _failed(
    started: datetime,
    incident: str,
    source: str,
    run_id: str,
    error: str,
    *,
    bad_input: bool = False,
) -> dict[str, Any]:
    logger.error("crawl %s failed: %s", run_id, error)
    doc = failed_run_doc(
        started=started, incident=incident, source=source, run_id=run_id, error=error
    )
    doc["bad_input"] = bad_input
    return doc


def _bad_input(started: datetime, args: argparse.Namespace, error: str) -> dict[str, Any]:
    run_id = args.run_id or new_run_id("unknown", args.source)
    return _failed(started, args.incident, args.source, run_id, error, bad_input=True)


def _finish(settings: Settings | None, doc: dict[str, Any]) -> int:
    bad_input = bool(doc.pop("bad_input", False))
    if settings is not None:
        write_run(settings, doc)
    sys.stdout.write(json.dumps(summary(doc), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    if bad_input:
        return EXIT_BAD_INPUT
    return EXIT_FAILED if doc["status"] == "failed" else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
