"""From incident files to the jobs and supervised streams they call for (pure: no scheduler).

Each job has an explicit id (`crawl:<incident>:<source>`, `alerts:<incident>`,
`digest:<incident>`, `recheck:<incident>`, `stance:<incident>`) and a `signature` naming everything that defines its schedule: the monitor
replaces a stored job only when its signature changed, so a restart or an unrelated edit keeps
next run times, and an edited interval takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from spreadwatch.incident import Incident

JOB_PREFIXES = ("crawl:", "alerts:", "digest:", "recheck:", "report:", "stance:")
STANCE_EXECUTOR = "stance"
#: Crawls that miss their time (monitor down, all workers busy) still run if this late at most.
MIN_MISFIRE_GRACE = 60
DAILY_DIGEST_HOUR = 8


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", so the job store keeps a reference, not code
    args: tuple[Any, ...]
    trigger: BaseTrigger
    signature: str
    misfire_grace_time: int
    #: The labelling job has its own worker: crawls holding every default worker for minutes
    #: must not hold back the labels.
    executor: str = "default"


@dataclass(frozen=True)
class StreamSpec:
    """A long-running consumer the monitor keeps alive (restarted with backoff)."""

    id: str
    incident_path: str
    source: str


class AtClockTrigger(CronTrigger):
    """A cron trigger at a fixed hour (a daily digest, a daily or weekly report) that fires
    once per wall-clock time. APScheduler's own fires twice when a clock change repeats that
    hour: "daily 02:30" in Europe/Berlin ran at 02:30 summer time and again an hour later at
    02:30 winter time. Defined here, at module level, so the job store can unpickle it."""

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire = super().get_next_fire_time(previous_fire_time, now)
        if fire is None or previous_fire_time is None:
            return fire
        if _wall(fire, self.timezone) == _wall(previous_fire_time, self.timezone):
            return super().get_next_fire_time(fire, fire)  # the repeat: the next day's
        return fire


def _wall(moment: datetime, zone: tzinfo) -> datetime:
    """The clock on the wall in `zone` at `moment` (02:30 summer time and 02:30 winter time
    are the same wall time)."""
    return moment.astimezone(zone).replace(tzinfo=None, fold=0)


def _at_clock(hour: int | str, minute: int, timezone: str, **fields: object) -> CronTrigger:
    """A trigger at a clock time in the incident's zone; once a day at most for a fixed hour."""
    kind = CronTrigger if hour == "*" else AtClockTrigger
    return kind(hour=hour, minute=minute, timezone=timezone, **fields)


def _interval(seconds: float, jitter: float = 0) -> tuple[IntervalTrigger, str]:
    trigger = IntervalTrigger(seconds=int(seconds), jitter=int(jitter) or None)
    return trigger, f"every {int(seconds)}s jitter {int(jitter)}s"


def jobs_for(incident: Incident, stance_every: int | None = None) -> list[JobSpec]:
    """Crawl jobs per enabled source, the alert job, and the digest job if asked for; with
    `stance_every` (seconds), the job that labels posts waiting for the learned stance head."""
    path = str(incident.path)
    specs = []
    for source, section in incident.sources.enabled().items():
        if getattr(section, "stream", False):
            continue  # streamed sources are supervised, not polled
        every = section.every.total_seconds()
        trigger, timing = _interval(every, section.jitter.total_seconds())
        specs.append(
            JobSpec(
                id=f"crawl:{incident.id}:{source}",
                func="scheduler.jobs:crawl",
                args=(path, source),
                trigger=trigger,
                signature=f"crawl {path} {source} {timing}",
                misfire_grace_time=max(MIN_MISFIRE_GRACE, int(every / 2)),
            )
        )
    if incident.alerts.rules:
        every = incident.alerts.every.total_seconds()
        trigger, timing = _interval(every)
        specs.append(
            JobSpec(
                id=f"alerts:{incident.id}",
                func="scheduler.jobs:alerts",
                args=(path,),
                trigger=trigger,
                signature=f"alerts {path} {timing}",
                misfire_grace_time=max(MIN_MISFIRE_GRACE, int(every)),
            )
        )
        if incident.alerts.digest_on:
            specs.append(_digest(incident, path))
    specs += [_report(incident, path, n) for n in range(len(incident.reports))]
    if stance_every is not None and (specs or streams_for(incident)):
        specs.append(_stance(incident, path, stance_every))
    if incident.evidence.recheck is not None and specs:
        every = incident.evidence.recheck.total_seconds()
        trigger, timing = _interval(every, min(every / 10, 600))
        specs.append(
            JobSpec(
                id=f"recheck:{incident.id}",
                func="scheduler.jobs:recheck",
                args=(path,),
                trigger=trigger,
                signature=f"recheck {path} {timing}",
                misfire_grace_time=max(MIN_MISFIRE_GRACE, int(every / 2)),
            )
        )
    return specs


def _stance(incident: Incident, path: str, every: int) -> JobSpec:
    trigger, timing = _interval(every)
    return JobSpec(
        id=f"stance:{incident.id}",
        func="scheduler.jobs:stance",
        args=(path,),
        trigger=trigger,
        signature=f"stance {path} {timing}",
        misfire_grace_time=MIN_MISFIRE_GRACE,
        executor=STANCE_EXECUTOR,
    )


def _digest(incident: Incident, path: str) -> JobSpec:
    digest = incident.alerts.digest
    trigger: BaseTrigger
    if isinstance(digest, timedelta):  # every period, counted from when the job was added
        trigger, timing = _interval(digest.total_seconds())
        grace = max(MIN_MISFIRE_GRACE, int(digest.total_seconds()))
    else:
        hour = "*" if digest == "hourly" else DAILY_DIGEST_HOUR
        trigger = _at_clock(hour, 0, incident.timezone)
        timing, grace = f"{digest} {incident.timezone}", 3600
    return JobSpec(
        id=f"digest:{incident.id}",
        func="scheduler.jobs:digest",
        args=(path,),
        trigger=trigger,
        signature=f"digest {path} {timing}",
        misfire_grace_time=grace,
    )


def _report(incident: Incident, path: str, number: int) -> JobSpec:
    """The report by e-mail, at a clock time in the incident's time zone."""
    wanted = incident.reports[number]
    hour = "*" if wanted.every == "hourly" else wanted.hour
    weekly = {"day_of_week": wanted.weekday} if wanted.every == "weekly" else {}
    return JobSpec(
        id=f"report:{incident.id}:{number}",
        func="scheduler.jobs:report",
        args=(path, str(number)),
        trigger=_at_clock(hour, wanted.minute, incident.timezone, **weekly),
        signature=(
            f"report {path} {wanted.describe()} {incident.timezone} {wanted.format} "
            f"to {','.join(wanted.to)}"
        ),
        misfire_grace_time=3600,
    )


def streams_for(incident: Incident) -> list[StreamSpec]:
    return [
        StreamSpec(f"stream:{incident.id}:{source}", str(incident.path), source)
        for source, section in incident.sources.enabled().items()
        if getattr(section, "stream", False)
    ]
