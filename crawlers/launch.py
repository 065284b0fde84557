"""Starting `python -m crawlers.run` in a subprocess, with a timeout, and reading its summary.

The Twisted reactor cannot restart inside a process, so every crawl gets its own. Used by
`spreadwatch crawl` (and usable by the scheduler). The child gets the parent's settings as
`SPREADWATCH_*` environment variables, so a `--settings` file given to the parent applies to the
child too; secrets travel in the child's environment only, never on its command line.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from crawlers.context import new_run_id
from crawlers.runstats import failed_run_doc, write_run
from spreadwatch.settings import ENV_PREFIX, Settings

logger = logging.getLogger(__name__)

LOG_TAIL = 4000


@dataclass
class CrawlOutcome:
    """What one crawl subprocess reported: its summary line, exit code and log tail."""

    source: str
    returncode: int
    summary: dict[str, Any]
    log_tail: str = ""
    timed_out: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "failed"))


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
        env[f"{ENV_PREFIX}{name.upper()}"] = str(value)
    return env


def run_crawl(
    settings: Settings,
    incident_ref: str,
    source: str,
    *,
    incident_id: str | None = None,
    run_id: str | None = None,
    spider_modules: tuple[str, ...] = (),
    timeout: float | None = None,
    on_wait: Callable[[float], None] | None = None,
) -> CrawlOutcome:
    """Run one source's crawl to its end (or its timeout) and return what it reported."""
    run_id = run_id or new_run_id(incident_id or "incident", source)
    command = [sys.executable, "-m", "crawlers.run", "--incident", incident_ref, "--source", source]
    command += ["--run-id", run_id]
    for module in spider_modules:
        command += ["--spider-module", module]
    env = {**os.environ, **settings_env(settings)}
    started = datetime.now(UTC)
    limit = timeout if timeout is not None else settings.crawl_timeout
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, env=env, text=True, start_new_session=True
        )
        stdout, timed_out = _wait(child, limit, on_wait)
        log.seek(0)
        tail = log.read()[-LOG_TAIL:]
    if timed_out:
        return _timed_out(
            settings,
            source,
            run_id=run_id,
            started=started,
            limit=limit,
            incident_id=incident_id,
            tail=tail,
        )
    return CrawlOutcome(source, child.returncode, _last_json_line(stdout, tail), tail)


def _wait(
    child: subprocess.Popen[str], limit: float, on_wait: Callable[[float], None] | None
) -> tuple[str, bool]:
    """Wait for the child, ticking `on_wait` each second; kill its process group at `limit`."""
    waited = 0.0
    while True:
        step = min(1.0, max(limit - waited, 0.01))
        try:
            stdout, _ = child.communicate(timeout=step)
            return stdout or "", False
        except subprocess.TimeoutExpired:
            waited += step
            if on_wait is not None:
                on_wait(waited)
            if waited >= limit:
                _kill(child)
                stdout, _ = child.communicate()
                return stdout or "", True


def _kill(child: subprocess.Popen[str]) -> None:
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _last_json_line(stdout: str, log_tail: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    last_log = log_tail.strip().splitlines()[-1:] or ["no output"]
    return {"status": "failed", "error": f"the crawl printed no summary: {last_log[0][:300]}"}


def _timed_out(
    settings: Settings,
    source: str,
    *,
    run_id: str,
    started: datetime,
    limit: float,
    incident_id: str | None,
    tail: str,
) -> CrawlOutcome:
    """A killed crawl still gets a run document, so `status` and alerts see it."""
    error = f"crawl of {source} killed after {limit:.0f}s (SPREADWATCH_CRAWL_TIMEOUT)"
    logger.error("%s", error)
    doc = failed_run_doc(
        started=started, incident=incident_id or "", source=source, run_id=run_id, error=error
    )
    doc["status"] = "timeout"
    write_run(settings, doc)
    summary = {k: doc.get(k) for k in ("run_id", "incident", "source", "status", "duration_s")}
    summary["error"] = error
    return CrawlOutcome(source, -1, summary, tail, timed_out=True)


def incident_path(ref: str | Path) -> str:
    """The incident reference a child can resolve from any working directory."""
    path = Path(ref)
    return str(path.resolve()) if path.exists() else str(ref)
