"""The demo's crawl process: one long-lived Twisted reactor that runs crawl rounds on request.

Starting a Python process with Scrapy costs ~4 s per crawl, which would eat the demo's two
minutes; a reactor cannot restart, but it can run any number of crawls while it runs (Scrapy's
`AsyncCrawlerRunner`). So the demo starts this process once: it reads one JSON line per round
from stdin (`{"round": "demo-001", "sources": ["github", ...], "at": "2024-10-16T00:00:00+00:00"}`),
runs those spiders together with the project's Scrapy settings (as `crawlers.run` builds them;
each run document is written as `crawlers.run` writes it) as of the round's simulated moment
`at` (the settings' `crawl_as_of`, what the crawls stamp), and answers one JSON line with a
summary per source. The replay
servers are local, so the politeness delays meant for real sites are turned off here only.

    python -m spreadwatch.demo.worker --incident PATH   (settings from SPREADWATCH_* variables)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner
from scrapy.utils.reactor import install_reactor

from crawlers.run import scrapy_settings, summary
from crawlers.runstats import RUN_ATTRIBUTE, failed_run_doc, write_run
from spreadwatch.incident import Incident, load_incident
from spreadwatch.logs import configure_logging, redact
from spreadwatch.settings import Settings, load_settings

logger = logging.getLogger(__name__)

REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
#: Loopback replay servers need no politeness delay; everything else stays as configured.
REPLAY_OVERRIDES = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    # Run documents are written below in a thread: the extension's write waits for a refresh
    # (~1 s) inside the reactor, which would hold every other crawl of the round.
    "SPREADWATCH_RECORD_RUN": False,
}


async def crawl_one(
    settings: Settings, incident: Incident, source: str, run_id: str
) -> dict[str, Any]:
    started = datetime.now(UTC)
    values = scrapy_settings(settings, incident, run_id)
    values.setdict(REPLAY_OVERRIDES, priority="cmdline")
    runner = AsyncCrawlerRunner(values)
    try:
        crawler = runner.create_crawler(source)
        await runner.crawl(crawler, incident=str(incident.path or incident.id))
    except Exception as error:  # a crashed crawl is recorded as failed; the round goes on
        logger.exception("crawl %s failed", run_id)
        failed = failed_run_doc(
            started=started, incident=incident.id, source=source, run_id=run_id, error=str(error)
        )
        await asyncio.to_thread(write_run, settings, failed)
        return summary(failed)
    doc: dict[str, Any] | None = getattr(crawler, RUN_ATTRIBUTE, None)
    if doc is None:
        doc = failed_run_doc(
            started=started, incident=incident.id, source=source, run_id=run_id,
            error="the crawl ended before its spider opened",
        )  # fmt: skip
    await asyncio.to_thread(write_run, settings, doc)
    return summary(doc)


async def serve(incident: Incident) -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line.strip():
            return  # stdin closed: the demo is done
        request = json.loads(line)
        sources = list(request["sources"])
        # The settings from the environment, as of the round's moment (validated as they are).
        settings = load_settings(crawl_as_of=request["at"])
        results = await asyncio.gather(
            *(crawl_one(settings, incident, s, f"{request['round']}-{s}") for s in sources)
        )
        sys.stdout.write(
            json.dumps(dict(zip(sources, results, strict=True)), ensure_ascii=False) + "\n"
        )
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spreadwatch.demo.worker", description=__doc__)
    parser.add_argument("--incident", required=True, help="incident file path")
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging(as_json=settings.log_format == "json", level=settings.log_level)
    redact(settings.secret_values())
    incident = load_incident(args.incident)
    install_reactor(REACTOR)
    from twisted.internet import reactor as installed  # noqa: PLC0415 - only after install
    from twisted.internet.defer import Deferred  # noqa: PLC0415

    reactor: Any = installed
    outcome: list[int] = [0]

    def finished(result: Any) -> None:
        if hasattr(result, "getTraceback"):
            logger.error("crawl worker failed: %s", result.getTraceback())
            outcome[0] = 1
        reactor.stop()

    def start() -> None:
        Deferred.fromFuture(asyncio.ensure_future(serve(incident))).addBoth(finished)

    reactor.callWhenRunning(start)
    reactor.run()
    return outcome[0]


if __name__ == "__main__":
    sys.exit(main())
