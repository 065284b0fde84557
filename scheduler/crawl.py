"""A scheduled crawl: the monitor's call into the one crawl launcher (`crawlers.launch`).

The launcher bounds the crawl in time (SIGTERM at the timeout, SIGKILL after the grace), stops it
the same way when the monitor is asked to stop and the crawl has not finished within the
monitor's shutdown grace, and writes the runs document the crawl could
not write itself, so a source that silently stops working is visible to `status` and the
`silent_source` rule. The command is the runtime's (configurable for tests and benchmarks).
"""

from __future__ import annotations

import logging
from typing import Any

from crawlers.context import new_run_id
from crawlers.launch import TERM_GRACE
from crawlers.launch import run_crawl as launch
from scheduler.runtime import Runtime, fill

logger = logging.getLogger(__name__)


def run_crawl(rt: Runtime, incident_path: str, incident_id: str, source: str) -> dict[str, Any]:
    """Run one crawl subprocess to its end, its timeout or the monitor's stop — or, with
    `SPREADWATCH_SCRAPYD_URLS`, the same crawl on the least busy Scrapyd daemon."""
    if rt.scrapyd is not None:
        return rt.scrapyd.run_crawl(rt, incident_path, incident_id, source)
    run_id = new_run_id(incident_id, source)
    command = fill(rt.crawl_command, incident=incident_path, source=source, run_id=run_id)
    outcome = launch(
        rt.settings,
        incident_path,
        source,
        incident_id=incident_id,
        run_id=run_id,
        command=command,
        timeout=rt.crawl_timeout,
        grace=TERM_GRACE,
        stop=rt.stopping,
        stop_grace=rt.shutdown_grace,
        client=rt.client,
    )
    logger.info("crawl %s ended: %s (exit %s)", run_id, outcome.status, outcome.returncode)
    return {
        "run_id": run_id,
        "exit_code": outcome.returncode,
        "killed": outcome.stopped,
        "summary": outcome.summary,
        "status": outcome.status,
    }
