"""What a digest says before its list: how many alerts of each kind in the period, the three
that matter most, and the period to chart.

A digest holds only the non-urgent alerts (urgent ones never wait, see
`spreadwatch.alert_rules.URGENT_TYPES`), so "most important" ranks what is left: a rumour still
rising after the denial first, then spikes, influential authors and new repositories, then first
posts and thresholds, resolved notices last; within a kind, the larger figure (ratio, followers,
count) and then the later alert first. Everything comes from the stored alerts, so a digest sent
again after a failure says the same.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.store import parse_time

#: Rank of each rule type in a digest (higher first); unknown types (a plugin's) rank in between.
IMPORTANCE = {
    "denial_not_landing": 9,
    "spike": 8,
    "influential_author": 7,
    "new_repo": 6,
    "evidence_removed": 6,
    "statement_edited": 6,
    "first_platform": 4,
    "threshold": 3,
    "resolved": 1,
}
DEFAULT_IMPORTANCE = 5
TOP = 3

#: How each type is counted in the summary line ("2 spikes").
KIND_NAMES = {
    "spike": ("spike", "spikes"),
    "threshold": ("threshold crossed", "thresholds crossed"),
    "first_platform": ("first post on a platform", "first posts on a platform"),
    "influential_author": ("influential author", "influential authors"),
    "new_repo": ("new repository", "new repositories"),
    "denial_not_landing": ("denial not landing", "denial not landing"),
    "resolved": ("resolved notice", "resolved notices"),
}


@dataclass(frozen=True)
class DigestSummary:
    """The head of a digest: period, counts per kind (most first), the top alerts' indices."""

    start: datetime
    end: datetime
    total: int
    counts: list[tuple[str, int]]
    top: list[int]  # positions in the digest's alert list, most important first

    def counts_text(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in self.counts)


def kind_name(rule_type: str, count: int) -> str:
    one, many = KIND_NAMES.get(rule_type, (rule_type.replace("_", " "),) * 2)
    return one if count == 1 else many


def importance(alert: dict[str, Any]) -> tuple[int, float, datetime]:
    rank = IMPORTANCE.get(str(alert.get("rule_type")), DEFAULT_IMPORTANCE)
    value = alert.get("value")
    figure = float(value) if isinstance(value, int | float) else 0.0
    return rank, figure, parse_time(alert["@timestamp"])


def summarise(alerts: list[dict[str, Any]]) -> DigestSummary:
    """The summary of one digest's alerts (in the order they were raised)."""
    if not alerts:
        raise ValueError("an empty digest has nothing to summarise")
    kinds = Counter(str(a.get("rule_type")) for a in alerts)
    ordered = sorted(kinds.items(), key=lambda kv: (-kv[1], -IMPORTANCE.get(kv[0], 5), kv[0]))
    ranked = sorted(range(len(alerts)), key=lambda i: importance(alerts[i]), reverse=True)
    return DigestSummary(
        start=min(parse_time(a["window_start"]) for a in alerts),
        end=max(parse_time(a["window_end"]) for a in alerts),
        total=len(alerts),
        counts=[(kind_name(kind, n), n) for kind, n in ordered],
        top=ranked[:TOP],
    )


def chart_alert(alerts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The alert whose stored chart is the latest picture of the incident (the newest with one)."""
    charted = [a for a in alerts if (a.get("details") or {}).get("chart", {}).get("series")]
    return max(charted, key=lambda a: parse_time(a["@timestamp"]), default=None)
