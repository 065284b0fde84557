"""What every alert evaluator reads: the incident, its queries, the clock and the open spikes.

Its own module so that the evaluators (`alerts.rules`) and the wording they share
(`alerts.evidence`) both take it from below them instead of from each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from indexer.alert_queries import IncidentQueries
    from spreadwatch.incident import Incident


@dataclass(frozen=True)
class Context:
    """What every evaluator sees: the incident, its queries, the clock, and open spikes."""

    incident: Incident
    queries: IncidentQueries
    now: datetime
    open_spikes: Callable[[str], list[dict[str, Any]]]

    @property
    def since(self) -> datetime:
        return self.incident.window.start
