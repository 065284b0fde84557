"""The monitor: APScheduler with a persistent job store, jobs kept in step with incident files.

`Monitor.start()` opens the SQLAlchemy job store (SQLite in the data folder unless
`SPREADWATCH_SCHEDULER_DB_URL` says otherwise), syncs jobs from the incident files, watches
them for changes and starts the heartbeat (`scheduler.heartbeat`); `stop()` takes no new runs,
lets running ones end within the shutdown grace, closes the store and marks the heartbeat
stopped. `run_until_signalled()` is what `spreadwatch run` calls.

A file that no longer validates keeps its last good version running (`scheduler.incidents`)
and is reported: its alert job is woken to send "incident file invalid" at once; a file with no
alert job (never valid, or no rules) is reported by the heartbeat tick.
"""

from __future__ import annotations

import logging
import signal
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import make_url

from indexer.stance_model import installed
from scheduler import jobs as job_functions
from scheduler import runtime
from scheduler.heartbeat import Heartbeat, Identity
from scheduler.lease import Lease
from scheduler.plan import JOB_PREFIXES, STANCE_EXECUTOR, JobSpec, StreamSpec, jobs_for, streams_for
from scheduler.runtime import DEFAULT_STREAM_COMMAND, Runtime, fill
from scheduler.supervise import Supervisor
from scheduler.watch import FileWatcher
from spreadwatch.incident import Incident, incident_files
from spreadwatch.readiness import incident_notes
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)


class NoValidIncidentError(ValueError):
    """Every incident file named is invalid: the monitor refuses to start with nothing to do."""


def _job_of(job: Any, files: set[Path]) -> bool:
    """Whether the job runs one of `files` (its first argument is the incident file)."""
    args: tuple[Any, ...] = tuple(getattr(job, "args", ()))
    return bool(args) and isinstance(args[0], str) and Path(args[0]).resolve() in files


def job_store_url(settings: Settings) -> str:
    if settings.scheduler_db_url:
        return settings.scheduler_db_url
    return f"sqlite:///{settings.data_dir / 'scheduler.sqlite'}"


def job_store_label(settings: Settings) -> str:
    """The job store's URL without its password: how heartbeats and `status` name it."""
    return make_url(job_store_url(settings)).render_as_string(hide_password=True)


class Monitor:
    """Crawl, alert and digest jobs for every incident file under `paths`."""

    def __init__(
        self,
        rt: Runtime,
        paths: Sequence[Path],
        *,
        workers: int = 4,
        watch_interval: float = 5.0,
        stream_command: Sequence[str] = DEFAULT_STREAM_COMMAND,
    ) -> None:
        self.rt = rt
        self.paths = list(paths)
        self.watch_interval = watch_interval
        self.stream_command = tuple(stream_command)
        self.incidents: dict[Path, Incident] = {}
        #: The notes last logged per file (`spreadwatch.readiness`), so each is logged once.
        self._noted: dict[Path, list[str]] = {}
        self.supervisors: dict[str, Supervisor] = {}
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=job_store_url(rt.settings))},
            executors={
                "default": ThreadPoolExecutor(max_workers=workers),
                STANCE_EXECUTOR: ThreadPoolExecutor(max_workers=1),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        self._watcher = FileWatcher(self.paths, self.reload, watch_interval, rt.stopping)
        identity = Identity.current(job_store_label(rt.settings))
        self.heartbeat = Heartbeat(
            rt.client,
            rt.names,
            identity,
            self.snapshot,
            interval=rt.settings.heartbeat_interval,
            clock=rt.clock,
        )
        # Of several monitors on one cluster, only the lease holder runs jobs and streams.
        self.lease: Lease | None = Lease(
            rt.client,
            rt.names,
            holder=f"{identity.monitor_id}:{uuid.uuid4().hex[:6]}",
            ttl=rt.settings.lease_ttl,
        )
        rt.lease = self.lease
        self.lease.on_change(self._on_lease_change)
        self._streams: dict[str, StreamSpec] = {}
        self.heartbeat.add_hook(lambda _now: self._renew_lease())
        self.heartbeat.add_hook(lambda _now: self.report_unwatched_problems())
        #: Broken files whose alert job was already woken for their current error.
        self._woken: dict[Path, str] = {}

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, paused: bool = False) -> None:
        """Sync jobs from the files and start running them (`paused`: sync only, run nothing)."""
        if self.rt.settings.scheduler_db_url is None:
            self.rt.settings.data_dir.mkdir(parents=True, exist_ok=True)
        runtime.install(self.rt)
        self.scheduler.start(paused=True)
        if paused:  # syncing only (tests, tools): takes no part in the lease
            self.rt.lease = self.lease = None
        self.reload()
        self._renew_lease()  # resumes the scheduler when this monitor holds the lease
        self._watcher.start()
        self.heartbeat.start()
        logger.info("monitor started: %d incidents, %d jobs", len(self.incidents), len(self.jobs()))

    def stop(self) -> None:
        """No new runs; running crawls and streams get SIGTERM (SIGKILL after the grace); the
        job store and the heartbeat are closed."""
        logger.info("monitor stopping")
        self.rt.stopping.set()  # running crawls get SIGTERM now (crawlers.launch)
        # Streams stop alongside the jobs, not after them: the whole stop fits the grace
        # (and Docker's stop_grace_period in docker-compose.yml).
        stopping = [
            threading.Thread(target=s.stop, name=f"stop-{name}")
            for name, s in self.supervisors.items()
        ]
        for thread in stopping:
            thread.start()
        self._watcher.join()
        if self.scheduler.running:
            self.scheduler.pause()
            self.scheduler.shutdown(wait=True)
        for thread in stopping:
            thread.join()
        self.supervisors.clear()
        if self.lease is not None:
            self.lease.release()
        self.heartbeat.stop()
        runtime.install(None)
        logger.info("monitor stopped")

    def run_until_signalled(self) -> None:
        """Run until SIGTERM or SIGINT, then stop cleanly."""
        wake = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: wake.set())
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self.start()
            self._refuse_if_nothing_is_valid()
            wait_until_set(wake)
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _refuse_if_nothing_is_valid(self) -> None:
        """A monitor whose every incident file is invalid has nothing to do: it reports the
        broken files (the alert goes out) and stops with one line, instead of running empty."""
        problems = self.rt.incidents.problems()
        if problems and not self.incidents:
            self.report_unwatched_problems()
            raise NoValidIncidentError(
                "no incident file is valid, nothing to monitor: "
                + "; ".join(p.error.splitlines()[0] for p in problems)
            )

    # --- jobs --------------------------------------------------------------------------------

    def jobs(self) -> list[Any]:
        return [j for j in self.scheduler.get_jobs() if j.id.startswith(JOB_PREFIXES)]

    def reload(self) -> None:
        """Re-read incident files; add, replace or remove jobs whose definition changed.

        A file that does not validate keeps running its last good version."""
        files = incident_files(self.paths)
        loaded = self.rt.incidents.load_all(files)
        for gone in set(self.incidents) - set(files):
            self.rt.incidents.forget(gone)
        self.incidents = loaded
        self._log_notes(loaded)
        every = self.stance_every()
        specs = {spec.id: spec for i in loaded.values() for spec in jobs_for(i, every)}
        # Jobs of a file that does not load (and has no last good version) stay as they are:
        # fixing the file must not have cost its schedule (the broken file is alerted on).
        unreadable = {p.file for p in self.rt.incidents.problems() if p.file not in loaded}
        self._sync_jobs(specs, keep=unreadable)
        self._sync_streams({s.id: s for i in loaded.values() for s in streams_for(i)})
        self._wake_alert_jobs()

    def _log_notes(self, loaded: dict[Path, Incident]) -> None:
        """What each incident will not do as things stand (a source without its credential,
        alerts that reach nobody): logged when its file is first loaded or changed them."""
        noted = {
            path: incident_notes(incident, self.rt.settings) for path, incident in loaded.items()
        }
        for path, notes in noted.items():
            if notes != self._noted.get(path):
                for note in notes:
                    logger.warning("incident %s (%s): %s", loaded[path].id, path, note)
        self._noted = noted

    def stance_every(self) -> int | None:
        """Seconds between runs of the learned head over pending posts; None when ingest
        labels with it per batch, or not at all."""
        settings = self.rt.settings
        deferred = settings.stance_model and settings.stance_deferred and installed()
        return settings.stance_every if deferred else None

    def _wake_alert_jobs(self) -> None:
        """A newly broken file is reported by its incident's alert job, run now (the job that
        delivers that incident's alerts, so nothing else sends them concurrently)."""
        for problem in self.rt.incidents.problems():
            if problem.last_good is None or self._woken.get(problem.file) == problem.error:
                continue
            job = self.scheduler.get_job(f"alerts:{problem.last_good.id}")
            if job is not None:
                job.modify(next_run_time=self.rt.clock())
                self._woken[problem.file] = problem.error
        broken = {p.file for p in self.rt.incidents.problems()}
        self._woken = {f: e for f, e in self._woken.items() if f in broken}

    def report_unwatched_problems(self) -> None:
        """Broken files no alert job reports: never valid, or an incident without rules."""
        if not self.active:
            return
        files = [
            str(p.file)
            for p in self.rt.incidents.problems()
            if p.last_good is None or self.scheduler.get_job(f"alerts:{p.last_good.id}") is None
        ]
        if files:
            job_functions.report_unwatched_problems(self.rt, files)

    @property
    def active(self) -> bool:
        """True when this monitor runs the jobs (it holds the lease, or takes no part in one)."""
        return self.lease is None or self.lease.held()

    def _renew_lease(self) -> None:
        if self.lease is not None:
            self.lease.renew()

    def _on_lease_change(self, held: bool) -> None:
        """Becoming active resumes the jobs and streams; becoming standby pauses them (jobs
        already running end as they would; `Runtime.may_run` stops new ones in between)."""
        if held:
            self.scheduler.resume()
            self._sync_streams(self._streams)
            logger.info("monitor active: running %d jobs", len(self.jobs()))
        else:
            self.scheduler.pause()
            for supervisor in self.supervisors.values():
                supervisor.stop()
            self.supervisors.clear()
            logger.info("monitor standby: jobs paused until the lease is free")

    def snapshot(self) -> dict[str, Any]:
        """What the heartbeat says this monitor holds."""
        return {
            "role": "active" if self.active else "standby",
            "jobs": [
                {
                    "id": job.id,
                    "next_run": job.next_run_time.isoformat() if job.next_run_time else None,
                    "schedule": job.name,
                }
                for job in self.jobs()
            ],
            "incident_files": len(self.incidents)
            + sum(1 for p in self.rt.incidents.problems() if p.last_good is None),
            "incident_errors": [p.as_dict() for p in self.rt.incidents.problems()],
        }

    def _sync_jobs(self, specs: dict[str, JobSpec], keep: set[Path] | None = None) -> None:
        """A new job runs at once (an analyst starting the monitor wants data now); a changed
        one follows its new trigger; an unchanged one keeps its stored next run time; the jobs
        of the files in `keep` are left alone."""
        existing = {job.id: job for job in self.jobs()}
        for job_id, job in existing.items():
            if job_id not in specs and not _job_of(job, keep or set()):
                job.remove()
                logger.info("job %s removed", job_id)
        for job_id, spec in specs.items():
            current = existing.get(job_id)
            # The trigger's kind counts too: a store written by an older version keeps its
            # signature but not the trigger this one builds (`scheduler.plan.AtClockTrigger`).
            if (
                current is not None
                and current.name == spec.signature
                and type(current.trigger) is type(spec.trigger)
            ):
                continue
            first_run = {} if current else {"next_run_time": self.rt.clock()}
            self.scheduler.add_job(
                spec.func,
                trigger=spec.trigger,
                args=spec.args,
                id=spec.id,
                name=spec.signature,
                replace_existing=True,
                misfire_grace_time=spec.misfire_grace_time,
                executor=spec.executor,
                **first_run,
            )
            logger.info("job %s %s: %s", job_id, "replaced" if current else "added", spec.signature)

    def _sync_streams(self, specs: dict[str, StreamSpec]) -> None:
        self._streams = specs
        for name in [n for n in self.supervisors if n not in specs]:
            self.supervisors.pop(name).stop()
        if not self.active:
            return
        for name, spec in specs.items():
            if name in self.supervisors:
                continue
            command = fill(self.stream_command, incident=spec.incident_path, source=spec.source)
            supervisor = Supervisor(name, command, stop_grace=self.rt.shutdown_grace)
            self.supervisors[name] = supervisor
            supervisor.start()

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            logger.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
            return
        logger.error(
            "job %s failed: %r",
            event.job_id,
            event.exception,
            exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
        )


#: The longest the main thread sleeps in one wait for a stop signal (`wait_until_set`).
WAKE_SECONDS = 0.5


def wait_until_set(event: threading.Event) -> None:
    """Wait for `event` in slices of `WAKE_SECONDS`. Python runs signal handlers in the main
    thread only: a SIGTERM the kernel hands to one of the scheduler's worker threads sets the
    event only once the main thread wakes, which one untimed wait never does."""
    while not event.wait(WAKE_SECONDS):
        pass
