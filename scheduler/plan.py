"""From incident files to the jobs and supervised streams they call for (pure: no scheduler).

Each job has an explicit id (`crawl:<incident>:<source>`, `alerts:<incident>`,
`digest:<incident>`, `recheck:<incident>`) and a `signature` naming everything that defines its schedule: the monitor
replaces a stored job only when its signature changed, so a restart or an unrelated edit keeps
next run times, and an edited interval takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from spreadwatch.incident import Incident

JOB_PREFIXES = ("crawl:", "alerts:", "digest:", "recheck:", "report:")
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


@dataclass(frozen=True)
class StreamSpec:
    """A long-running consumer the monitor keeps alive (restarted with backoff)."""

    id: str
    incident_path: str
    source: str


def _interval(seconds: float, jitter: float = 0) -> tuple[IntervalTrigger, str]:
    trigger = IntervalTrigger(seconds=int(seconds), jitter=int(jitter) or None)
    return trigger, f"every {int(seconds)}s jitter {int(jitter)}s"


def jobs_for(incident: Incident) -> list[JobSpec]:
    """Crawl jobs per enabled source, the alert job, and the digest job if asked for."""
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


def _digest(incident: Incident, path: str) -> JobSpec:
    digest = incident.alerts.digest
    trigger: BaseTrigger
    if isinstance(digest, timedelta):  # every period, counted from when the job was added
        trigger, timing = _interval(digest.total_seconds())
        grace = max(MIN_MISFIRE_GRACE, int(digest.total_seconds()))
    else:
        hour = "*" if digest == "hourly" else str(DAILY_DIGEST_HOUR)
        trigger = CronTrigger(hour=hour, minute=0, timezone=incident.timezone)
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
    cron: dict[str, object] = {"minute": wanted.minute, "timezone": incident.timezone}
    if wanted.every != "hourly":
        cron["hour"] = wanted.hour
    if wanted.every == "weekly":
        cron["day_of_week"] = wanted.weekday
    return JobSpec(
        id=f"report:{incident.id}:{number}",
        func="scheduler.jobs:report",
        args=(path, str(number)),
        trigger=CronTrigger(**cron),
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
