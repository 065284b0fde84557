"""What running jobs share in one monitor process: settings, the client, the crawl command.

APScheduler persists a job as a function reference and plain arguments (incident path, source
name) — live objects such as an Elasticsearch client cannot go into the SQLite job store. So the
monitor installs one `Runtime` when it starts, and the job functions in `scheduler.jobs` read it.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from elasticsearch import Elasticsearch

from alerts.mailer import Sender
from indexer.connection import IndexNames
from scheduler.incidents import IncidentRegistry
from scheduler.lease import Lease
from spreadwatch.clock import Clock, utc_now
from spreadwatch.settings import Settings

if TYPE_CHECKING:
    from scheduler.scrapyd import ScrapydDispatcher

logger = logging.getLogger(__name__)

#: How a crawl is started; placeholders are filled per run. The command is configuration, so
#: tests and benchmarks can run a stand-in crawl without touching the scheduler's code.
DEFAULT_CRAWL_COMMAND = (
    sys.executable, "-m", "crawlers.run",
    "--incident", "{incident}", "--source", "{source}", "--run-id", "{run_id}",
)  # fmt: skip
#: The monitor's own `stance:` job labels what the stream writes (`--no-label`).
DEFAULT_STREAM_COMMAND = (
    sys.executable, "-m", "spreadwatch", "stream", "{incident}", "--source", "{source}",
    "--no-label",
)  # fmt: skip


#: Default shutdown grace; docker-compose.yml's stop_grace_period leaves room above it.
SHUTDOWN_GRACE = 15.0


def fill(command: tuple[str, ...] | list[str], **values: str) -> list[str]:
    """The command with `{name}` placeholders replaced; other braces are left alone."""
    filled = []
    for part in command:
        for name, value in values.items():
            part = part.replace("{" + name + "}", value)  # noqa: PLW2901
        filled.append(part)
    return filled


@dataclass
class Runtime:
    settings: Settings
    client: Elasticsearch
    names: IndexNames
    sender: Sender
    crawl_command: tuple[str, ...] = DEFAULT_CRAWL_COMMAND
    crawl_timeout: float = 900.0
    #: After the monitor's SIGTERM: how long running crawls may go on before they are stopped
    #: (SIGTERM, SIGKILL `crawlers.launch.TERM_GRACE` later), and streams before SIGKILL.
    shutdown_grace: float = SHUTDOWN_GRACE
    clock: Clock = utc_now
    stopping: threading.Event = field(default_factory=threading.Event)
    #: Incident files with their last good versions (a broken edit never stops monitoring).
    incidents: IncidentRegistry = field(init=False)
    #: The standby lease (`scheduler.lease`): jobs start only while this monitor holds it.
    lease: Lease | None = None
    #: Crawls go to these Scrapyd daemons instead of local processes (`scheduler.scrapyd`).
    scrapyd: ScrapydDispatcher | None = None

    def __post_init__(self) -> None:
        self.incidents = IncidentRegistry(
            self.settings.data_dir / "incidents-last-good", self.clock
        )

    def may_run(self, job: str) -> bool:
        """False when stopping, or when another monitor holds the lease (this one is standby
        or lost the cluster): the job is skipped, the active monitor runs it."""
        if self.stopping.is_set():
            return False
        if self.lease is not None and not self.lease.held():
            logger.warning("job %s skipped: this monitor does not hold the lease", job)
            return False
        return True


_current: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    global _current  # noqa: PLW0603 - one runtime per monitor process, see module docstring
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no monitor runtime installed; jobs run inside `spreadwatch run`")
    return _current
