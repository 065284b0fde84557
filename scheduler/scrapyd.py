"""Crawls on Scrapyd daemons: the monitor's alternative to a local crawl process.

With `SPREADWATCH_SCRAPYD_URLS` set, each crawl job is scheduled on the least busy daemon
(`schedule.json`, our run id as Scrapyd's job id), followed with `status.json` until it ends,
cancelled at the crawl timeout (`cancel.json`: TERM, then KILL), and its outcome read from the
runs index, which the crawl writes itself as it does locally. Any daemon can run any crawl: the
crawl state lives in Elasticsearch, the incident file is read from the same path (a shared
volume), and each daemon's host keeps its own spool, replayed by its next crawl there.

None runs twice at once: before scheduling, every daemon's `listjobs.json` is read, and a crawl
of the same incident and source still pending or running anywhere (left by a monitor that died,
or by the active monitor before a failover) is followed instead of started again. A daemon that
stays unreachable for `SPREADWATCH_SCRAPYD_LOST_AFTER` seconds has lost its crawl (host down):
that run is recorded as failed (`finish_reason: scrapyd_lost`) and the crawl is scheduled on
another daemon. So is one whose daemon answers but no longer knows the job (it restarted, and
the crawl went with the old process); the record's error says which of the two happened.
Unreachable is what `ScrapydDaemon` calls so (`ScrapydUnreachableError`): nothing answers, or
the gateway in front of the daemon (nginx, an ingress) answers 502, 503 or 504 for it. Any
other failed poll — Scrapyd's own error, a reply that is not JSON — leaves the crawl's state
unknown: it is logged and the crawl followed on, to its end or its timeout.
Documents the lost crawl wrote are kept (ids dedupe); its state was committed only for what
Elasticsearch acknowledged (a document left in the lost host's spool never lets a checkpoint
commit), so the new run fetches the rest. A crawl that ended before its host went — its own run
record written, its end not yet seen by the monitor — is not lost: its record is kept and it is
not run again (`_record_lost`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from elasticsearch import ApiError, ConflictError, NotFoundError, TransportError

from crawlers.ingest.context import new_run_id
from crawlers.runstats import failed_run_doc, write_run
from scheduler.scrapyd_api import Job, ScrapydDaemon, ScrapydError, ScrapydUnreachableError
from spreadwatch.settings import Settings

if TYPE_CHECKING:
    from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
KILL_GRACE_SECONDS = 10.0
#: Times one crawl job is scheduled at most (the first try and reschedules after a lost host).
ATTEMPTS = 3


class NoScrapydError(RuntimeError):
    """No daemon could take the crawl."""


@dataclass
class Placement:
    """A crawl's job on one daemon."""

    daemon: ScrapydDaemon
    run_id: str
    incident: str
    source: str
    started: datetime
    adopted: bool = False


@dataclass
class ScrapydDispatcher:
    daemons: list[ScrapydDaemon]
    lost_after: float = 15.0
    poll: float = POLL_SECONDS
    #: Jobs this monitor has placed and not yet seen end, per daemon URL.
    _inflight: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _placing: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings) -> ScrapydDispatcher | None:
        if not settings.scrapyd_url_list:
            return None
        password = settings.secret("scrapyd_password")
        auth = (settings.scrapyd_username, password or "") if settings.scrapyd_username else None
        daemons = [
            ScrapydDaemon(url, settings.scrapyd_project, auth) for url in settings.scrapyd_url_list
        ]
        return cls(daemons, lost_after=settings.scrapyd_lost_after)

    # -- one crawl job --------------------------------------------------------------------

    def run_crawl(
        self, rt: Runtime, incident_path: str, incident_id: str, source: str
    ) -> dict[str, Any]:
        """Run one crawl on Scrapyd to its end; returns what happened (as the local runner)."""
        outcome: dict[str, Any] = {"attempts": []}
        for _attempt in range(ATTEMPTS):
            try:
                placement = self._running_elsewhere(rt, incident_id, source) or self._place(
                    rt, incident_path, incident_id, source
                )
            except NoScrapydError as error:
                return {**outcome, "summary": self._record_unplaced(rt, incident_id, source, error)}
            ended, lost_how = self._follow(rt, placement)
            outcome["attempts"].append({"run_id": placement.run_id, "daemon": placement.daemon.url})
            outcome.update(run_id=placement.run_id, daemon=placement.daemon.url, ended=ended)
            if ended != "lost":
                break
            if not self._record_lost(rt, placement, lost_how):
                ended = outcome["ended"] = "finished"  # on its own, before its host was lost
                break
        summary = self._run_document(rt, outcome["run_id"])
        if ended in ("finished", "timeout") and (summary is None or ended == "timeout"):
            summary = self._record_unfinished(rt, placement, ended, summary)
        outcome["summary"] = summary
        return outcome

    def _place(self, rt: Runtime, incident_path: str, incident_id: str, source: str) -> Placement:
        run_id = new_run_id(incident_id, source)
        with self._placing:  # one placement at a time, so two jobs never pick by the same loads
            for daemon in self._by_load():
                try:
                    daemon.schedule(
                        source,
                        run_id,
                        args={"incident": incident_path},
                        settings={"SPREADWATCH_RUN_ID": run_id},
                    )
                except ScrapydError as error:
                    if not self._took_it(daemon, run_id, error):
                        continue
                with self._lock:
                    self._inflight[daemon.url] += 1
                logger.info("crawl %s scheduled on %s", run_id, daemon.url)
                return Placement(daemon, run_id, incident_id, source, rt.clock())
        raise NoScrapydError(f"no Scrapyd took crawl {run_id} (tried {len(self.daemons)})")

    def _took_it(self, daemon: ScrapydDaemon, run_id: str, error: ScrapydError) -> bool:
        """After a failed schedule: did the daemon queue the job anyway (an answer that timed
        out)? Asking keeps one crawl from being scheduled on two daemons."""
        if isinstance(error, ScrapydUnreachableError):
            try:
                if daemon.state(run_id):
                    return True
            except ScrapydError:
                pass
        logger.warning("crawl %s not scheduled on %s: %s", run_id, daemon.url, error)
        return False

    def _by_load(self) -> list[ScrapydDaemon]:
        """Reachable daemons, least busy first (by what they report, or by what this monitor
        placed there, which daemonstatus may not show yet)."""
        loads: list[tuple[int, int, ScrapydDaemon]] = []
        for order, daemon in enumerate(self.daemons):
            try:
                reported = daemon.load()
            except ScrapydError as error:
                logger.warning("Scrapyd %s skipped: %s", daemon.url, error)
                continue
            with self._lock:
                loads.append((max(reported, self._inflight[daemon.url]), order, daemon))
        return [daemon for _load, _order, daemon in sorted(loads, key=lambda x: x[:2])]

    def _done(self, daemon: ScrapydDaemon) -> None:
        with self._lock:
            self._inflight[daemon.url] = max(self._inflight[daemon.url] - 1, 0)

    def _running_elsewhere(self, rt: Runtime, incident_id: str, source: str) -> Placement | None:
        """A crawl of this incident and source already pending or running on some daemon."""
        for daemon in self.daemons:
            try:
                jobs = daemon.jobs()
            except ScrapydError:
                continue
            for job in jobs:
                if job.state != "finished" and _crawl_of(job) == (incident_id, source):
                    logger.info("crawl %s already on %s: following it", job.id, daemon.url)
                    with self._lock:
                        self._inflight[daemon.url] += 1
                    return Placement(daemon, job.id, incident_id, source, rt.clock(), adopted=True)
        return None

    def _follow(self, rt: Runtime, placement: Placement) -> tuple[str, str]:
        """Wait for the job's end: finished, timeout, detached (monitor stopping) or lost; with
        how it was lost (unreachable, or forgotten by a restarted daemon), else ""."""
        daemon, started = placement.daemon, time.monotonic()
        unreachable_since: float | None = None
        problem = ""  # the kind of error the last polls failed with, logged once while it lasts
        try:
            while True:
                now = time.monotonic()
                if rt.stopping.is_set():
                    return "detached", ""  # it runs on; the next monitor follows it
                if now - started > rt.crawl_timeout:
                    self._cancel(daemon, placement.run_id)
                    return "timeout", ""
                try:
                    state = daemon.state(placement.run_id)
                    unreachable_since, problem = None, ""
                except ScrapydUnreachableError as error:  # nothing answers, or its gateway's 5xx
                    unreachable_since = unreachable_since or now
                    if now - unreachable_since >= self.lost_after:
                        logger.error("crawl %s lost with its daemon: %s", placement.run_id, error)
                        return "lost", f"unreachable for {self.lost_after:g}s mid-crawl"
                    problem = self._unknown(placement, error, problem)
                    state = "unknown"
                except ScrapydError as error:  # it answers, not readably: not a lost host
                    problem = self._unknown(placement, error, problem)
                    state = "unknown"
                if state == "finished":
                    return "finished", ""
                if state == "":  # the daemon restarted and forgot it: gone with the old process
                    return "lost", "answered but no longer knows the job (restarted mid-crawl)"
                time.sleep(self.poll)
        finally:
            self._done(daemon)

    def _unknown(self, placement: Placement, error: ScrapydError, logged: str) -> str:
        """Log a poll that did not tell the crawl's state: once while the same kind of error
        lasts, not every poll; returns the kind logged."""
        kind = type(error).__name__
        if kind != logged:
            if isinstance(error, ScrapydUnreachableError):
                then = f"lost if it stays unreachable for {self.lost_after:g}s"
            else:
                then = "it answers, so not lost; still followed"
            logger.warning(
                "crawl %s on %s: state unknown (%s); %s",
                placement.run_id,
                placement.daemon.url,
                error,
                then,
            )
        return kind

    def _cancel(self, daemon: ScrapydDaemon, run_id: str) -> None:
        """TERM (the crawl flushes and records itself), then KILL what is left."""
        for signal_name in ("TERM", "KILL"):
            try:
                daemon.cancel(run_id, signal_name)
            except ScrapydError as error:
                logger.warning("crawl %s not cancelled: %s", run_id, error)
                return
            deadline = time.monotonic() + KILL_GRACE_SECONDS
            while time.monotonic() < deadline:
                try:
                    if daemon.state(run_id) in ("finished", ""):
                        return
                except ScrapydError:
                    return
                time.sleep(self.poll)

    # -- run documents --------------------------------------------------------------------

    def _record_lost(self, rt: Runtime, placement: Placement, how: str) -> bool:
        """Record the run of a lost daemon as failed (`scrapyd_lost`, its error saying `how` it
        was lost, from `_follow`); True when it is lost and must run again.

        False when the crawl ended before its host went: its own run record (written as it
        closed, the end not yet seen by this monitor) is kept and the crawl is not run again,
        whatever its status — that is what the monitor would have found one poll earlier, and a
        crawl that ended partial or failed on its own is retried by its schedule like any other.
        The record is created only where none exists (`op_type=create`), so a crawl writing its
        end while this runs is never overwritten; one that writes after it (a host cut off, not
        down) replaces it with its own, and the rerun's documents dedupe."""
        error = (
            f"Scrapyd {placement.daemon.url} {how}; the crawl is scheduled again on another daemon"
        )
        doc = failed_run_doc(
            started=placement.started,
            incident=placement.incident,
            source=placement.source,
            run_id=placement.run_id,
            error=error,
        )
        doc.update(finish_reason="scrapyd_lost", finished=rt.clock().isoformat())
        doc["scrapyd"] = placement.daemon.url
        try:
            rt.client.create(
                index=rt.names.runs, id=placement.run_id, document=doc, refresh="wait_for"
            )
        except ConflictError:
            own = self._run_document(rt, placement.run_id)
            if own is not None and own.get("finish_reason") != "scrapyd_lost":
                logger.warning(
                    "crawl %s ended (%s) before Scrapyd %s was lost; its run record is kept",
                    placement.run_id,
                    own.get("status"),
                    placement.daemon.url,
                )
                return False
        except (ApiError, TransportError) as failure:  # unknown: run it again, nothing is lost
            logger.error("run %s not recorded in Elasticsearch: %s", placement.run_id, failure)
        logger.error("crawl %s: %s", placement.run_id, error)
        return True

    def _record_unplaced(
        self, rt: Runtime, incident_id: str, source: str, error: NoScrapydError
    ) -> dict[str, Any]:
        """No daemon took the crawl: recorded, so `status` and `silent_source` see it."""
        logger.error("crawl of %s/%s not run: %s", incident_id, source, error)
        doc = failed_run_doc(
            started=rt.clock(),
            incident=incident_id,
            source=source,
            run_id=new_run_id(incident_id, source),
            error=str(error),
        )
        write_run(rt.settings, doc, rt.client)
        return doc

    def _record_unfinished(
        self, rt: Runtime, placement: Placement, ended: str, own: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The run document of a crawl that timed out, or ended without writing one."""
        if ended == "timeout":
            error = f"crawl cancelled on Scrapyd after its {rt.crawl_timeout:g}s timeout"
        else:
            error = "the crawl ended on Scrapyd without a run record"
        doc = own or failed_run_doc(
            started=placement.started,
            incident=placement.incident,
            source=placement.source,
            run_id=placement.run_id,
            error=error,
        )
        if ended == "timeout":
            doc.update(status="timeout", finish_reason="timeout")
        tail = placement.daemon.log_tail(placement.source, placement.run_id)
        doc["errors"] = "\n".join(part for part in (error, doc.get("errors"), tail) if part)
        doc["scrapyd"] = placement.daemon.url
        logger.error("crawl %s: %s", placement.run_id, error)
        write_run(rt.settings, doc, rt.client)
        return doc

    def _run_document(self, rt: Runtime, run_id: str) -> dict[str, Any] | None:
        try:
            found = rt.client.get(index=rt.names.runs, id=run_id)
        except NotFoundError:
            return None
        except (ApiError, TransportError):
            logger.exception("run %s not read back", run_id)
            return None
        source: dict[str, Any] = found["_source"]
        return source


def _crawl_of(job: Job) -> tuple[str, str] | None:
    """(incident, source) of a job whose id is one of our run ids."""
    parts = job.id.rsplit(":", 3)
    return (parts[0], parts[1]) if len(parts) == 4 else None
