"""One crawl in its own process, bounded in time, always leaving a runs document behind.

The crawl writes its own runs document. When it cannot — it hung and was killed at its timeout,
was stopped by a shutdown, or crashed before writing — the scheduler writes one for it, so a
source that silently stops working is visible to `status` and the `silent_source` rule.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from elasticsearch import ApiError, TransportError

from crawlers.context import new_run_id
from crawlers.runstats import failed_run_doc, write_run
from scheduler.runtime import Runtime, fill

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.2
KILL_GRACE_SECONDS = 5.0
STDERR_TAIL = 2000


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the crawl's whole process group, then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, KILL_GRACE_SECONDS)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait(rt: Runtime, process: subprocess.Popen[bytes]) -> str | None:
    """None when the crawl exited by itself; "timeout" or "shutdown" when it was killed."""
    started = time.monotonic()
    stop_seen: float | None = None
    while process.poll() is None:
        now = time.monotonic()
        if now - started > rt.crawl_timeout:
            _terminate(process)
            return "timeout"
        if rt.stopping.is_set():
            stop_seen = stop_seen or now
            if now - stop_seen > rt.shutdown_grace:
                _terminate(process)
                return "shutdown"
        time.sleep(POLL_SECONDS)
    return None


def _read_tail(handle: IO[bytes], limit: int) -> str:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(size - limit, 0))
    return handle.read().decode("utf-8", "replace")


def _summary(stdout: str) -> dict[str, Any] | None:
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        value = json.loads(lines[-1])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _has_run_doc(rt: Runtime, run_id: str) -> bool:
    try:
        return bool(rt.client.exists(index=rt.names.runs, id=run_id))
    except (ApiError, TransportError):
        logger.exception("cannot check the runs index for %s", run_id)
        return False


@dataclass(frozen=True)
class CrawlRun:
    run_id: str
    incident: str
    source: str
    started: datetime


def run_crawl(rt: Runtime, incident_path: str, incident_id: str, source: str) -> dict[str, Any]:
    """Run one crawl subprocess to its end or its timeout; returns what happened."""
    run_id = new_run_id(incident_id, source)
    command = fill(rt.crawl_command, incident=incident_path, source=source, run_id=run_id)
    run = CrawlRun(run_id, incident_id, source, rt.clock())
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, start_new_session=True)
        logger.info("crawl %s started (pid %s)", run_id, process.pid)
        killed = _wait(rt, process)
        stdout, stderr = _read_tail(out, 64_000), _read_tail(err, STDERR_TAIL)
    outcome = {"run_id": run_id, "exit_code": process.returncode, "killed": killed}
    outcome["summary"] = _summary(stdout)
    if killed is None and _has_run_doc(rt, run_id):
        logger.info("crawl %s finished with exit code %s", run_id, process.returncode)
        return outcome
    doc = _substitute_doc(rt, run, killed, stderr, process.returncode)
    write_run(rt.settings, doc, rt.client)
    outcome["status"] = doc["status"]
    return outcome


def _substitute_doc(
    rt: Runtime, run: CrawlRun, killed: str | None, stderr: str, exit_code: int | None
) -> dict[str, Any]:
    """The runs document the crawl could not write itself."""
    if killed == "timeout":
        error = f"crawl killed after its {rt.crawl_timeout:g}s timeout"
    elif killed == "shutdown":
        error = f"crawl killed {rt.shutdown_grace:g}s after the monitor was asked to stop"
    else:
        last = stderr.strip().splitlines()[-1:] or ["no output"]
        error = f"crawl exited with code {exit_code} without a run record: {last[0]}"
    logger.error("crawl %s: %s", run.run_id, error)
    doc = failed_run_doc(
        started=run.started,
        incident=run.incident,
        source=run.source,
        run_id=run.run_id,
        error=error,
    )
    doc["finished"] = rt.clock().isoformat()
    doc["duration_s"] = round((rt.clock() - run.started).total_seconds(), 3)
    if killed is not None:
        doc.update(status="timeout" if killed == "timeout" else "failed", finish_reason=killed)
    if stderr.strip():
        doc["errors"] = f"{error}\n{stderr[-STDERR_TAIL:]}"
    return doc
