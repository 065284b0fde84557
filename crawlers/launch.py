"""The one way a crawl process is run: `spreadwatch crawl`, the monitor and the demo all call here.

The Twisted reactor cannot restart inside a process, so every crawl gets its own
(`python -m crawlers.run`, or a configured command). The child gets the settings as
`SPREADWATCH_*` variables (a `--settings` file given to the parent applies to the child too;
secrets travel in its environment, never on its command line), its own process group, and a
deadline. Stopping it — at its timeout, or when the monitor is asked to stop — is one sequence:
SIGTERM to the group (the crawl flushes its writer at once, so the crawl state commits what is
durable, then closes as Scrapy does), `grace` seconds, then SIGKILL. Nothing is lost by the
SIGKILL either: the state never moves past unwritten posts (docs/architecture.md, crawl state).

Every crawl leaves a runs document: the child writes its own; when it could not (killed,
crashed before writing), this module writes one with what the child reported, so a source that
silently stops working is visible to `status` and the `silent_source` rule.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pydantic import SecretStr

from crawlers.context import new_run_id
from crawlers.runstats import failed_run_doc, write_run
from spreadwatch.settings import ENV_PREFIX, Settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

logger = logging.getLogger(__name__)

#: Seconds between SIGTERM and SIGKILL: enough for the writer's flush and the state commit.
TERM_GRACE = 10.0
POLL_SECONDS = 0.2
LOG_TAIL = 4000
#: Counts a stopped crawl reported, kept on the runs document written for it.
_COUNTS = ("items_scraped", "items_indexed", "items_updated", "items_unchanged",
           "items_dropped", "items_spooled", "items_lost", "activity_written", "requests",
           "not_modified")  # fmt: skip


@dataclass
class CrawlOutcome:
    """What one crawl process reported: its summary line, exit code and log tail; `stopped`
    says why it was ended (`timeout`, `shutdown`) when it did not end by itself."""

    source: str
    returncode: int | None
    summary: dict[str, Any]
    log_tail: str = ""
    run_id: str = ""
    stopped: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "failed"))

    @property
    def timed_out(self) -> bool:
        return self.stopped == "timeout"


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as `SPREADWATCH_*` variables a child's `load_settings()` reads back."""
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, list | dict):
            value = json.dumps(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        env[f"{ENV_PREFIX}{name.upper()}"] = str(value)
    return env


def crawl_command(
    incident_ref: str, source: str, run_id: str, spider_modules: Sequence[str] = ()
) -> list[str]:
    """`python -m crawlers.run` for one source's crawl."""
    command = [sys.executable, "-m", "crawlers.run", "--incident", incident_ref, "--source",
               source, "--run-id", run_id]  # fmt: skip
    for module in spider_modules:
        command += ["--spider-module", module]
    return command


def run_crawl(
    settings: Settings,
    incident_ref: str,
    source: str,
    *,
    incident_id: str | None = None,
    run_id: str | None = None,
    spider_modules: Sequence[str] = (),
    timeout: float | None = None,
    grace: float = TERM_GRACE,
    command: Sequence[str] | None = None,
    env: dict[str, str] | None = None,
    stop: threading.Event | None = None,
    stop_grace: float = 0.0,
    on_wait: Callable[[float], None] | None = None,
    client: Elasticsearch | None = None,
) -> CrawlOutcome:
    """Run one source's crawl to its end, its timeout, or `stop_grace` seconds after `stop`
    is set (a monitor shutting down lets crawls finish for a while before stopping them).

    `command` replaces `python -m crawlers.run` (tests, plugins); `env` replaces the child's
    whole environment (the demo keeps the caller's credentials from its replays); `client`
    writes the runs document this module may have to write.
    """
    run_id = run_id or new_run_id(incident_id or "incident", source)
    argv = list(command or crawl_command(incident_ref, source, run_id, spider_modules))
    child_env = env if env is not None else {**os.environ, **settings_env(settings)}
    limit = timeout if timeout is not None else settings.crawl_timeout
    started = datetime.now(UTC)
    with tempfile.TemporaryFile("w+b") as out, tempfile.TemporaryFile("w+b") as err:
        process = subprocess.Popen(
            argv, stdout=out, stderr=err, env=child_env, start_new_session=True
        )
        logger.info("crawl %s started (pid %s)", run_id, process.pid)
        stopped = _wait(process, limit, grace, (stop, stop_grace), on_wait)
        stdout, tail = _read(out), _tail(err, LOG_TAIL)
    summary = last_summary(stdout)
    outcome = CrawlOutcome(source, process.returncode, summary or {}, tail, run_id, stopped)
    if stopped is None and (summary is not None or _recorded(settings, client, run_id)):
        return outcome  # the crawl wrote its own runs document
    doc = _substitute_doc(
        outcome,
        started=started,
        incident=incident_id or summary_incident(summary),
        limit=limit,
        grace=grace,
    )
    write_run(settings, doc, client)
    outcome.summary = {**{k: doc.get(k) for k in _SUMMARY}, **(summary or {})}
    outcome.summary.update(status=doc["status"], error=doc["errors"].splitlines()[0])
    return outcome


_SUMMARY = ("run_id", "incident", "source", "status", "finish_reason", "duration_s")


def _recorded(settings: Settings, client: Elasticsearch | None, run_id: str) -> bool:
    """Whether the runs index holds the run (a crawl command that prints no summary)."""
    from elasticsearch import ApiError, TransportError  # noqa: PLC0415 - the CLI stays light

    from indexer.connection import ConnectionFailedError, IndexNames, make_client  # noqa: PLC0415

    try:
        client = client or make_client(settings)
        return bool(client.exists(index=IndexNames(settings.index_prefix).runs, id=run_id))
    except (ApiError, TransportError, ConnectionFailedError):
        logger.exception("cannot check the runs index for %s", run_id)
        return False


def terminate(process: subprocess.Popen[Any], grace: float = TERM_GRACE) -> None:
    """SIGTERM the process group, wait up to `grace` seconds, SIGKILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace if sig == signal.SIGTERM else 10)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:
            _kill_stragglers(process)
        return


def _kill_stragglers(process: subprocess.Popen[Any]) -> None:
    """The crawl is gone; anything it started in its group goes too."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _wait(
    process: subprocess.Popen[Any],
    limit: float,
    grace: float,
    stop: tuple[threading.Event | None, float],
    on_wait: Callable[[float], None] | None,
) -> str | None:
    """None when the crawl ended by itself; "timeout" or "shutdown" when it was stopped."""
    started = time.monotonic()
    event, stop_grace = stop
    stop_seen: float | None = None
    ticked = 0
    while process.poll() is None:
        now = time.monotonic()
        if now - started >= limit:
            terminate(process, grace)
            return "timeout"
        if event is not None and event.is_set():
            stop_seen = stop_seen or now
            if now - stop_seen >= stop_grace:
                terminate(process, grace)
                return "shutdown"
        if on_wait is not None and int(now - started) > ticked:
            ticked = int(now - started)
            on_wait(now - started)
        time.sleep(POLL_SECONDS)
    _kill_stragglers(process)
    return None


def last_summary(stdout: str) -> dict[str, Any] | None:
    """The crawl's summary: its last stdout line that is a JSON object."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def summary_incident(summary: dict[str, Any] | None) -> str:
    return str((summary or {}).get("incident") or "")


def _substitute_doc(
    outcome: CrawlOutcome, *, started: datetime, incident: str, limit: float, grace: float
) -> dict[str, Any]:
    """The runs document the crawl could not write itself (or ended without finishing)."""
    if outcome.stopped == "timeout":
        error = f"crawl of {outcome.source} stopped after its {limit:g}s timeout (SIGTERM, then SIGKILL after {grace:g}s)"  # fmt: skip
    elif outcome.stopped == "shutdown":
        error = f"crawl of {outcome.source} stopped because the monitor was asked to stop"
    else:
        last = outcome.log_tail.strip().splitlines()[-1:] or ["no output"]
        error = f"crawl exited with code {outcome.returncode} without a run record: {last[0][:300]}"  # fmt: skip
    logger.error("crawl %s: %s", outcome.run_id, error)
    doc = failed_run_doc(
        started=started, incident=incident, source=outcome.source, run_id=outcome.run_id,
        error=error,
    )  # fmt: skip
    doc.update({k: outcome.summary[k] for k in _COUNTS if isinstance(outcome.summary.get(k), int)})
    if outcome.stopped is not None:
        doc.update(
            status="timeout" if outcome.stopped == "timeout" else "failed",
            finish_reason=outcome.stopped,
        )
    if outcome.log_tail.strip():
        doc["errors"] = f"{error}\n{outcome.log_tail[-2000:]}"
    return doc


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", "replace")


def _tail(handle: IO[bytes], limit: int) -> str:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(size - limit, 0))
    return handle.read().decode("utf-8", "replace")


def incident_path(ref: str | Path) -> str:
    """The incident reference a child can resolve from any working directory."""
    path = Path(ref)
    return str(path.resolve()) if path.exists() else str(ref)
