"""Whether a finding becomes an alert now: silences, realert windows, and lifecycle alerts that
stay in force only while the posts they stand on still qualify.

Lifecycle rules (the official denial, the first post per platform, influential authors, new
repos, the denial overtaking the rumour) fire once — but "once" means once *correctly*. Each
such alert records its basis (post ids). When the incident file or a reclassify later shows
that a basis post no longer qualifies (an unrelated press release that was taken for the
official denial, a post detached from the incident), that alert is superseded and the real
event fires. An alert without a recorded basis (raised before bases existed) stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerts.model import Finding
from alerts.rules import BASIS_QUERIES
from alerts.store import AlertStore
from indexer.alert_queries import IncidentQueries
from spreadwatch.alert_rules import ONCE_TYPES, Rule
from spreadwatch.incident import Incident

#: Lifecycle types keyed on their post: any earlier alert of the rule, whatever its key, counts.
PER_RULE = frozenset({"official_denial", "denial_overtakes"})


@dataclass(frozen=True)
class Verdict:
    """None = raise it; `stale` = earlier alerts of the rule that no longer stand."""

    reason: str | None
    stale: list[dict[str, Any]] = field(default_factory=list)


def judge(
    store: AlertStore,
    queries: IncidentQueries,
    incident: Incident,
    rule: Rule,
    finding: Finding,
    *,
    now: datetime,
) -> Verdict:
    until = store.silenced_until(incident.id, rule.name, now)
    if until is not None:
        return Verdict(f"silenced until {until.isoformat()}")
    if rule.type in BASIS_QUERIES:
        return _lifecycle(store, queries, incident, rule, finding)
    # Other once-only types (a deletion, an edit) and `resolved` (one notice per spike alert).
    once = rule.type in ONCE_TYPES or rule.type == "resolved"
    since = None if once else now - incident.alerts.realert_for(rule)
    if store.exists(incident.id, rule.name, finding.key, since):
        return Verdict("already alerted" if once else "within realert window")
    return Verdict(None)


def _lifecycle(
    store: AlertStore, queries: IncidentQueries, incident: Incident, rule: Rule, finding: Finding
) -> Verdict:
    key = None if rule.type in PER_RULE else finding.key
    stale = []
    for alert in store.live(incident.id, rule.name, key):
        basis = list((alert.get("details") or {}).get("basis") or [])
        standing = queries.still_qualifying(basis, BASIS_QUERIES[rule.type]) if basis else set()
        if not basis or standing == set(basis):
            return Verdict(f"already alerted ({alert.get('subject') or alert['_id']})")
        stale.append(alert)
    return Verdict(None, stale)


def supersede(
    store: AlertStore, stale: list[dict[str, Any]], finding: Finding, now: datetime
) -> None:
    """Mark earlier alerts that no longer stand, naming what replaced them."""
    for alert in stale:
        store.supersede(alert, f"its posts no longer qualify; replaced by {finding.headline}", now)
