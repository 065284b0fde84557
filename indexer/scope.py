"""Which posts are the incident's, and which one is "the official denial": one definition, as
Elasticsearch queries, for phases, alerts, the report and Kibana alike.

- A post of the incident carries its id in `incident` and was published inside the incident's
  window (`[start, end)`; a post before the window is context, not the story).
- **The official denial** is a post of the incident that either the incident file pins
  (`official.statements`, flagged `matched.statement` at ingest), or that comes from an official
  source (`author.official`), matches the incident (a query or a claim) and whose stance is
  `denial` with a confidence of at least `DENIAL_CONFIDENCE`. A denial by anyone else is a
  denial, never "the official denial"; an official post about something else is not a post of
  the incident at all (the match stage drops it as `no_match`).

`IncidentScope` is what a query needs to know of an incident (id and window); build it with
`IncidentScope.of(incident)` from the incident model, or from a bare id (no window known).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch.dsl import Q
from elasticsearch.dsl.query import Query

TIMESTAMP = "@timestamp"
#: The least stance confidence at which an official post's "denial" counts as the denial.
DENIAL_CONFIDENCE = 0.6

OFFICIAL = Q("term", **{"author.official": True})
MATCHED = Q("exists", field="matched.queries") | Q("exists", field="matched.claims")
PINNED = Q("term", **{"matched.statement": True})
#: Classifiers before `stance_confidence` existed stored none: their denial counts as sure.
_SURE = Q("range", stance_confidence={"gte": DENIAL_CONFIDENCE}) | ~Q(
    "exists", field="stance_confidence"
)
OFFICIAL_DENIAL = PINNED | (OFFICIAL & MATCHED & Q("term", stance="denial") & _SURE)
#: The same, in KQL, for Kibana (annotations marking the official denial on the dashboards).
OFFICIAL_DENIAL_KQL = (
    "matched.statement:true or (author.official:true and stance:denial and "
    "(matched.queries:* or matched.claims:*) and "
    f"(stance_confidence >= {DENIAL_CONFIDENCE} or not stance_confidence:*))"
)


@dataclass(frozen=True)
class IncidentScope:
    """An incident as queries see it: its id and window (None = unbounded)."""

    id: str
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def of(cls, incident: Any) -> IncidentScope:
        """From an `Incident`, or a bare id when no incident file is at hand."""
        if isinstance(incident, IncidentScope):
            return incident
        if isinstance(incident, str):
            return cls(incident)
        return cls(incident.id, incident.window.start, incident.window.end)

    def window(self) -> Query:
        """Posts published inside the window (match_all when it is unbounded)."""
        bounds = {}
        if self.start is not None:
            bounds["gte"] = self.start.isoformat()
        if self.end is not None:
            bounds["lt"] = self.end.isoformat()
        return Q("range", **{TIMESTAMP: bounds}) if bounds else Q("match_all")

    def posts(self) -> Query:
        """The incident's posts: its id, inside its window."""
        return Q("term", incident=self.id) & self.window()
