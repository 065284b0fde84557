"""The alert job on the demo's clock: evaluate the incident's rules, store, send through SMTP.

The same steps as the monitor's alert job (`alerts.engine.raise_alerts`, then
`Delivery.deliver`), called with the simulated time as `now` so rule windows, realert windows and
"first" rules see the incident's days, not today.
"""

from __future__ import annotations

import logging
from datetime import datetime

from elasticsearch import Elasticsearch

from alerts.engine import Delivery, raise_alerts
from alerts.mailer import SmtpConfig, SmtpSender
from alerts.store import AlertStore
from indexer.connection import IndexNames
from spreadwatch.demo.story import FiredAlert
from spreadwatch.incident import Incident
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)


class AlertJob:
    """Raises and delivers alerts at a given simulated time; keeps what fired, in order."""

    def __init__(
        self,
        client: Elasticsearch,
        names: IndexNames,
        incident: Incident,
        smtp_url: str,
        settings: Settings,
    ) -> None:
        self.client = client
        self.names = names
        self.incident = incident
        sender = SmtpSender(SmtpConfig.from_url(smtp_url), timeout=settings.smtp_timeout)
        self.delivery = Delivery(
            AlertStore(client, names), sender, settings.smtp_from, settings.kibana_url
        )
        self.fired: list[FiredAlert] = []

    def run(self, now: datetime) -> list[FiredAlert]:
        raised = raise_alerts(self.client, self.names, self.incident, now)
        report = self.delivery.deliver(now, self.incident.id)
        if report.retrying or report.failed:
            logger.warning("alerts not delivered yet: %s", report.retrying + report.failed)
        new = [FiredAlert(now, a["rule"], a["rule_type"], a["key"], a["subject"]) for a in raised]
        self.fired.extend(new)
        return new
