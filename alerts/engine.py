"""Evaluate an incident's rules, raise alerts, deliver them: the alert job's three steps.

`evaluate` only reads (it is what `alerts check` prints); `raise_alerts` applies silences,
realert windows and once-only "first" rules and stores pending alerts; `deliver` sends what is
due and records the outcome, so an SMTP outage delays an alert without losing or repeating it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from alerts import story
from alerts.context import Context
from alerts.decide import judge, supersede
from alerts.mailer import Sender, SendError
from alerts.model import Finding
from alerts.render import render_message
from alerts.rules import EVALUATORS
from alerts.store import MAX_AGE, AlertStore, recipient_states
from indexer.alert_queries import IncidentQueries
from indexer.claims import claim_report
from indexer.connection import IndexNames
from indexer.intervals import auto_interval, parse_interval
from indexer.scope import IncidentScope
from spreadwatch.alert_rules import URGENT_TYPES, Rule
from spreadwatch.incident import Incident

logger = logging.getLogger(__name__)

MAX_CHART_SPAN = timedelta(days=7)
#: An alert's chart shows at most this many bars.
CHART_BARS = 24


@dataclass(frozen=True)
class Evaluation:
    rule: Rule
    finding: Finding


def evaluate(
    client: Elasticsearch, names: IndexNames, incident: Incident, now: datetime
) -> list[Evaluation]:
    """Every finding of every enabled rule at `now`; nothing is stored or sent."""
    store = AlertStore(client, names)
    ctx = Context(
        incident=incident,
        queries=IncidentQueries(client, names, IncidentScope.of(incident)),
        now=now,
        open_spikes=lambda rule: store.open_spikes(incident.id, rule),
    )
    found: list[Evaluation] = []
    for rule in incident.alerts.rules:
        if not rule.enabled:
            continue
        try:
            findings = EVALUATORS[rule.type](rule, ctx)
        except ApiError:
            # One rule's failing query (e.g. a missing index) must not silence the others.
            logger.exception("rule %s of %s could not be evaluated", rule.name, incident.id)
            continue
        found.extend(Evaluation(rule, f) for f in findings)
    return found


def _chart_series(
    queries: IncidentQueries, rule: Rule, finding: Finding, now: datetime
) -> list[list[Any]]:
    span = max(now - finding.window_start, rule.window + rule.baseline)
    span = min(span, MAX_CHART_SPAN)
    interval = parse_interval(auto_interval(now - span, now, max_buckets=CHART_BARS))
    series = queries.timeline(now - span, now, interval, platform=finding.platform)
    return [[t.isoformat(), c] for t, c in series]


def suppression_reason(
    store: AlertStore, incident: Incident, ev: Evaluation, now: datetime
) -> str | None:
    """Why a finding must not become an alert now, or None (reads only)."""
    queries = IncidentQueries(store.client, store.names, IncidentScope.of(incident))
    return judge(store, queries, incident, ev.rule, ev.finding, now=now).reason


def raise_alerts(
    client: Elasticsearch,
    names: IndexNames,
    incident: Incident,
    now: datetime,
    provisional: int = 0,
) -> list[dict[str, Any]]:
    """Evaluate and store each new finding as a pending alert; returns the new alerts.
    `provisional`: posts still carrying the lexicon's label, waiting for the learned head
    (`indexer.stance_pending`); each alert says so."""
    store = AlertStore(client, names)
    queries = IncidentQueries(client, names, IncidentScope.of(incident))
    raised = []
    claims: list[dict[str, Any]] | None = None
    for ev in evaluate(client, names, incident, now):
        verdict = judge(store, queries, incident, ev.rule, ev.finding, now=now)
        if verdict.reason is not None:
            logger.debug("%s/%s %s: %s", incident.id, ev.rule.name, ev.finding.key, verdict.reason)
            continue
        supersede(store, verdict.stale, ev.finding, now)
        if claims is None:  # once per run, and only when something fires
            claims = claim_figures(client, names, incident, now)
        alert = store.record(
            incident,
            ev.finding,
            incident.alerts.recipients_for(ev.rule),
            now,
            timeline=_chart_series(queries, ev.rule, ev.finding, now),
            story=story.snapshot(queries, now),
            chart=story.chart(queries, now),
            digest=incident.alerts.digest_on and ev.rule.type not in URGENT_TYPES,
            kibana_dashboard=incident.kibana_dashboard,
            claims=claims,
            **({"provisional_stances": provisional} if provisional else {}),
        )
        raised.append(alert)
    return raised


def claim_figures(
    client: Elasticsearch, names: IndexNames, incident: Incident, now: datetime
) -> list[dict[str, Any]]:
    """Each claim as the alert's e-mail states it: first seen, posts spreading and denying it,
    their reach, and whether the official denial answered it (None: no official denial yet)."""
    if not incident.claims:
        return []
    scope = IncidentScope.of(incident)
    end = min(scope.end, now) if scope.end else now
    report = claim_report(client, names, replace(scope, end=end), list(incident.claims))
    return [
        {
            "name": c.name,
            "description": c.description,
            "first_seen": c.first_seen.timestamp.isoformat() if c.first_seen else None,
            "first_platform": c.first_seen.platform if c.first_seen else None,
            "posts": c.posts,
            "spreading": c.spreading,
            "denying": c.denying,
            "reach_spreading": c.reach_spreading,
            "reach_denying": c.reach_denying,
            "addressed": c.addressed_by_denial if report.denial else None,
        }
        for c in report.claims
    ]


@dataclass
class DeliveryReport:
    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass
class Delivery:
    """Sends due alerts through a sender; `clock` is injected so retries can be tested."""

    store: AlertStore
    sender: Sender
    sender_address: str
    kibana_url: str | None = None
    clock: Callable[[], datetime] | None = None
    report_url: str | None = None
    #: Retry a recipient this long (from the first attempt) before it counts as failed.
    max_age: timedelta = MAX_AGE

    def _now(self, default: datetime) -> datetime:
        return self.clock() if self.clock else default

    def deliver(
        self, now: datetime, incident: str | None = None, digest: bool = False
    ) -> DeliveryReport:
        """Send every due alert once; with `digest`, the due digest alerts in one message."""
        report = DeliveryReport()
        due = [
            a for a in self.store.due(now, incident) if bool(a["details"].get("digest")) == digest
        ]
        for group in _groups(due, digest):
            self._send_group(group, now, report)
        return report

    def _send_group(
        self, group: list[dict[str, Any]], now: datetime, report: DeliveryReport
    ) -> None:
        """One message to the group's recipients still waiting for it; each recipient's answer
        is recorded on every alert of the group (`AlertStore.record_attempt`)."""
        ids = [a["_id"] for a in group]
        recipients = list(group[0].get("recipients") or [])
        if not recipients:
            for alert in group:
                self.store.mark_failed(alert, "no recipients configured for this rule")
            report.failed.extend(ids)
            return
        waiting = _waiting(group[0])  # the same for every alert of a group (`_groups`)
        first = min(self.store.start_attempts(alert, now) for alert in group)
        message = render_message(
            group,
            self.sender_address,
            recipients,
            self.kibana_url,
            first,  # the Date of every copy: retries and resends are recognisably one message
            prefix=self.store.names.prefix,
            report_url=self.report_url,
        )
        try:
            refusals = self.sender.send(message, waiting)
            refused = {a: (r.code, r.reason) for a, r in refusals.items()}
        except SendError as error:
            logger.warning("alert %s not delivered: %s", ",".join(ids), error)
            refused = {address: (error.code, str(error)) for address in waiting}
        for alert in group:
            self.store.record_attempt(alert, waiting, refused, self._now(now), self.max_age)
        state = group[0]["state"]
        target = {"sent": report.sent, "failed": report.failed}.get(state, report.retrying)
        target.extend(ids)
        got = len(waiting) - len(refused)
        logger.info("alert %s: %d of %d recipients got it (%s)", ",".join(ids), got, len(waiting), state)  # fmt: skip


def _waiting(alert: dict[str, Any]) -> list[str]:
    """The recipients who have not had the alert yet and are still to be tried."""
    return [a for a, d in recipient_states(alert).items() if d["state"] == "pending"]


def _groups(alerts: list[dict[str, Any]], digest: bool) -> list[list[dict[str, Any]]]:
    """One message per alert, or per digest: the alerts of one incident with the same
    recipients *still waiting* for them (a message goes to whoever waits for its first alert:
    grouped by recipients alone, one who already had an earlier alert would wait a digest
    period for a newer one, or be sent an earlier one again)."""
    if not digest:
        return [[a] for a in alerts]
    groups: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = {}
    for alert in alerts:
        key = (
            alert["incident"],
            tuple(sorted(alert.get("recipients") or [])),
            tuple(sorted(_waiting(alert))),
        )
        groups.setdefault(key, []).append(alert)
    return list(groups.values())
