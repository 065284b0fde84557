"""The figures a dashboard states in words, from the spread analytics (`indexer.phases`).

Lens cannot subtract two "first" times, so time-to-denial is computed at export time and
written into the dashboard's markdown panel, with the same definition as `spreadwatch timeline`:
official denial − rumour onset.
"""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from indexer.connection import IndexNames
from indexer.kibana.objects import DashboardFacts
from indexer.phases import phases
from indexer.scope import IncidentScope
from spreadwatch.incident import Incident


def dashboard_facts(client: Elasticsearch, names: IndexNames, incident: Incident) -> DashboardFacts:
    """Onset and first official denial of an incident, as indexed now."""
    exported_at = datetime.now(UTC)
    found = phases(client, names, IncidentScope.of(incident), now=exported_at)
    return DashboardFacts(
        incident_id=incident.id,
        title=incident.title,
        start=incident.window.start,
        end=incident.window.end,
        onset_at=found.onset.timestamp if found.onset else None,
        denial_at=found.denial.timestamp if found.denial else None,
        denial_by=found.denial.author if found.denial else None,
        exported_at=exported_at,
    )
