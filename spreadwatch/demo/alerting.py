"""The monitor's alert job on the demo's clock.

The demo installs a scheduler `Runtime` whose clock is the simulated one and whose sender is the
real SMTP client aimed at the demo's SMTP server, then calls the scheduler's own job function
(`scheduler.jobs.alerts`: evaluate the rules, store new alerts, deliver what is due, record the
run) once per round. Rule windows, realert windows and "first" rules thus see the incident's
days, not today. What fired is read back from the alerts index.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from alerts.mailer import SmtpConfig, SmtpSender
from indexer.connection import IndexNames
from scheduler import jobs, runtime
from spreadwatch.demo.clock import SimClock
from spreadwatch.demo.story import FiredAlert
from spreadwatch.incident import Incident
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)


class AlertJob:
    """Runs `scheduler.jobs.alerts` at the simulated time; keeps what fired, in order."""

    def __init__(
        self,
        client: Elasticsearch,
        names: IndexNames,
        incident: Incident,
        *,
        incident_file: Path,
        smtp_url: str,
        settings: Settings,
        clock: SimClock,
    ) -> None:
        self.client = client
        self.names = names
        self.incident = incident
        self.incident_file = incident_file
        sender = SmtpSender(SmtpConfig.from_url(smtp_url), timeout=settings.smtp_timeout)
        self.runtime = runtime.Runtime(
            settings=settings, client=client, names=names, sender=sender, clock=clock
        )
        self.fired: list[FiredAlert] = []
        self._seen: set[str] = set()

    def __enter__(self) -> AlertJob:
        runtime.install(self.runtime)
        return self

    def __exit__(self, *exc: object) -> None:
        runtime.install(None)

    def run(self, now: datetime) -> list[FiredAlert]:
        jobs.alerts(str(self.incident_file))
        new = self._new_alerts(now)
        self.fired.extend(new)
        return new

    def _new_alerts(self, now: datetime) -> list[FiredAlert]:
        self.client.indices.refresh(index=self.names.alerts)
        response = self.client.search(
            index=self.names.alerts,
            size=500,
            query={"term": {"incident": self.incident.id}},
            sort=[{"@timestamp": "asc"}],
        )
        new = []
        for hit in response["hits"]["hits"]:
            if hit["_id"] in self._seen:
                continue
            self._seen.add(hit["_id"])
            doc = hit["_source"]
            new.append(FiredAlert(now, doc["rule"], doc["rule_type"], doc["key"], doc["subject"]))
        return new
