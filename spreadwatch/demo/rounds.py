"""One crawl round of the demo: every replayed source crawled once, each in its own process.

Each crawl is `python -m crawlers.run --incident PATH --source NAME --run-id ID` (the contract in
docs/architecture.md: one process per crawl, since the Twisted reactor cannot restart; a JSON
summary on the last stdout line; exit 0 = ok). The processes get the demo's settings through
`SPREADWATCH_*` variables: the node's URL, the demo's index prefix and data folder, and every
source's base URL pointed at its replay server. Each round's crawls happen at the round's
simulated moment (`SPREADWATCH_CRAWL_AS_OF`, `spreadwatch.clock.crawl_clock`), so what they stamp —
first_seen, last_seen, deleted_at, edited_at, evidence capture times — belongs to the story, not
to the wall clock. The processes are run by the one crawl launcher (`crawlers.launch`), as the
monitor runs them; Ctrl-C stops those still running.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawlers.launch import run_crawl, terminate
from indexer.connection import es_url
from spreadwatch.demo.replays_social import DEMO_BLUESKY, DEMO_REDDIT
from spreadwatch.replay import REPLAY_NETWORKS
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)

#: Settings each source's replay server stands in for (several for Reddit and Bluesky).
BASE_URL_SETTINGS = {
    "github": ("GITHUB",),
    "feeds": ("FEEDS",),
    "pages": ("PAGES",),
    "hackernews": ("HACKERNEWS",),
    "reddit": ("REDDIT", "REDDIT_PUBLIC", "REDDIT_AUTH"),
    "mastodon": ("MASTODON",),
    "bluesky": ("BLUESKY", "BLUESKY_PUBLIC"),
    "weibo": ("WEIBO",),
}

#: Credentials the replay servers accept; demo values, not secrets, never sent anywhere else.
DEMO_CREDENTIALS = {
    "SPREADWATCH_WEIBO_COOKIE": "SUB=spreadwatch-demo-replay",
    "SPREADWATCH_BLUESKY_HANDLE": DEMO_BLUESKY[0],
    "SPREADWATCH_BLUESKY_APP_PASSWORD": DEMO_BLUESKY[1],
    "SPREADWATCH_REDDIT_CLIENT_ID": DEMO_REDDIT[0],
    "SPREADWATCH_REDDIT_CLIENT_SECRET": DEMO_REDDIT[1],
}


@dataclass
class CrawlOutcome:
    source: str
    exit_code: int
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


#: Settings of the demo's cluster passed on to the crawl process (it may have been configured
#: by a settings file the crawl process does not read).
_CLUSTER_SETTINGS = ("es_api_key", "es_username", "es_password", "es_ca_certs", "es_verify_certs")


def crawl_env(
    settings: Settings, prefix: str, data_dir: Path, base_urls: dict[str, str]
) -> dict[str, str]:
    """The environment of a crawl process: the demo's cluster, indices, folder and replays.

    No SPREADWATCH_* or platform credential of the caller's shell reaches it (a real token must
    not be sent to a replay server); the cluster's own credentials do, from `settings`, and so
    does the choice of stance classifier (`stance_model`, `stance_deferred`), which the demo
    must not drop.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SPREADWATCH_") and not k.endswith(_CREDENTIAL_SUFFIXES)
    }
    env.update(
        SPREADWATCH_ES_URL=es_url(settings),
        SPREADWATCH_INDEX_PREFIX=prefix,
        SPREADWATCH_DATA_DIR=str(data_dir),
        SPREADWATCH_LOG_LEVEL="warning",
        SPREADWATCH_ALLOW_PRIVATE_NETWORKS=REPLAY_NETWORKS,  # the replays listen on loopback
        SPREADWATCH_STANCE_MODEL=str(settings.stance_model).lower(),
        SPREADWATCH_STANCE_DEFERRED=str(settings.stance_deferred).lower(),
        **DEMO_CREDENTIALS,
    )
    for name in _CLUSTER_SETTINGS:
        value = getattr(settings, name)
        if value is not None:
            clear = settings.secret(name) if name in ("es_api_key", "es_password") else value
            env[f"SPREADWATCH_{name.upper()}"] = (
                str(clear).lower() if isinstance(clear, bool) else str(clear)
            )
    for source, url in base_urls.items():
        for name in BASE_URL_SETTINGS.get(source, ()):
            env[f"SPREADWATCH_{name}_BASE_URL"] = url
    return env


_CREDENTIAL_SUFFIXES = (
    "_TOKEN",
    "_APP_PASSWORD",
    "_COOKIE",
    "_CLIENT_SECRET",
    "_CLIENT_ID",
    "_HANDLE",
)


class CrawlRounds:
    """Runs rounds of crawls, one process each through the one launcher (`crawlers.launch`, as
    the monitor runs them); `stop()` (from Ctrl-C) stops whatever is still running."""

    def __init__(
        self,
        incident_file: Path,
        env: dict[str, str],
        settings: Settings,
        timeout: float = 120.0,
        workers: int = 4,
    ) -> None:
        self.incident_file = incident_file
        self.env = env
        self.settings = settings
        self.timeout = timeout
        self.workers = workers
        self._stop = threading.Event()

    def run_round(self, sources: list[str], round_id: str, at: datetime) -> list[CrawlOutcome]:
        """Crawl `sources` once each, as of the round's simulated moment `at`."""
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(lambda s: self.crawl(s, f"{round_id}-{s}", at), sources))

    def crawl(self, source: str, run_id: str, at: datetime) -> CrawlOutcome:
        if self._stop.is_set():
            return CrawlOutcome(source, 130, error="stopped")
        env = {**self.env, "SPREADWATCH_CRAWL_AS_OF": at.isoformat()}
        outcome = run_crawl(
            self.settings, str(self.incident_file), source, run_id=run_id, env=env,
            timeout=self.timeout, stop=self._stop,
        )  # fmt: skip
        code = outcome.returncode if outcome.stopped is None else -1
        error = None
        if code != 0:
            lines = outcome.log_tail.strip().splitlines() or ["no output"]
            reason = outcome.summary.get("error") or lines[-1]
            error = f"crawl of {source} {outcome.stopped or f'exited {code}'}: {str(reason)[:300]}"
            logger.warning("%s", error)
        return CrawlOutcome(source, code if code is not None else -1, outcome.summary, error)

    def stop(self) -> None:
        self._stop.set()


class CrawlWorker:
    """Crawl rounds in one long-lived crawl process (`spreadwatch.demo.worker`), no start-up per crawl.

    Its log goes to `log_file`; `stop()` closes its stdin (it exits after the current round) and
    kills its process group if it does not.
    """

    def __init__(
        self, incident_file: Path, env: dict[str, str], log_file: Path, timeout: float = 300.0
    ) -> None:
        self.timeout = timeout
        self._log = log_file.open("ab")
        command = [
            sys.executable,
            "-m",
            "spreadwatch.demo.worker",
            "--incident",
            str(incident_file),
        ]
        self._process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            text=True, start_new_session=True,
        )  # fmt: skip

    def run_round(self, sources: list[str], round_id: str, at: datetime) -> list[CrawlOutcome]:
        """Crawl `sources` once each, as of the round's simulated moment `at`."""
        process = self._process
        if process.poll() is not None or process.stdin is None or process.stdout is None:
            raise RuntimeError(
                f"the demo's crawl process exited ({process.returncode}); see {self._log.name}"
            )
        request = {"round": round_id, "sources": sources, "at": at.isoformat()}
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        answer = self._read_answer(sources)
        return [_from_summary(source, answer.get(source) or {}) for source in sources]

    def _read_answer(self, sources: list[str]) -> dict[str, Any]:
        assert self._process.stdout is not None
        if not wait_readable(self._process.stdout, self.timeout):
            raise RuntimeError(
                f"crawl round timed out after {self.timeout:.0f}s; see {self._log.name}"
            )
        while True:
            line = self._process.stdout.readline()
            if not line:
                raise RuntimeError(
                    f"the demo's crawl process ended mid-round; see {self._log.name}"
                )
            try:
                answer = json.loads(line)
            except json.JSONDecodeError:
                continue  # stray output from a library; the answer is the JSON line
            if isinstance(answer, dict) and set(sources) <= set(answer):
                return answer

    def stop(self) -> None:
        process = self._process
        if process.poll() is None:
            try:
                if process.stdin is not None:
                    process.stdin.close()
                process.wait(timeout=10)
            except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
                terminate(process, grace=5)
        self._log.close()


#: The longest the main thread sleeps in one wait (`wait_readable`).
WAKE_SECONDS = 0.5


def wait_readable(stream: Any, timeout: float) -> bool:
    """Whether `stream` has something to read within `timeout` seconds, waited for in slices
    of `WAKE_SECONDS`. Python runs signal handlers in the main thread only, and when the kernel
    hands a Ctrl-C to another thread of this process (the demo has dozens: replay servers,
    SMTP), a main thread asleep in one long select() would notice it only when that select
    ends — a round's whole timeout."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([stream], [], [], min(left, WAKE_SECONDS))
        if ready:
            return True
    return False


def _from_summary(source: str, line: dict[str, Any]) -> CrawlOutcome:
    status = line.get("status")
    if status == "failed" or not line:
        error = f"crawl of {source} failed: {line.get('error') or 'no summary'}"
        logger.warning("%s", error)
        return CrawlOutcome(source, 1, line, error)
    return CrawlOutcome(source, 0, line)
