"""Data views, saved searches and the per-incident dashboard, as Kibana saved objects.

Ids are derived from the index prefix (and the incident id), so re-importing a bundle with
`overwrite=true` updates the same objects instead of piling up copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from indexer.documents import STANCES
from indexer.kibana.panels import LensPanel, encode, lens_id
from indexer.kibana.versions import (
    CORE_MIGRATION_VERSION,
    DASHBOARD_MIGRATION_VERSION,
    DATA_VIEW_MIGRATION_VERSION,
    SEARCH_MIGRATION_VERSION,
)
from spreadwatch.display import display_line, display_markdown

SEARCH_COLUMNS = ["platform", "author.handle", "title", "text", "url", "reach"]
SEARCH_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
FILTER_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.filter[0].meta.index"
GRID_COLUMNS = 48


@dataclass(frozen=True)
class DashboardFacts:
    """What the dashboard states in words: the incident and its time-to-denial, if known."""

    incident_id: str
    title: str
    start: datetime
    end: datetime | None = None
    onset_at: datetime | None = None
    denial_at: datetime | None = None
    denial_by: str | None = None
    exported_at: datetime | None = None

    @property
    def time_to_denial(self) -> timedelta | None:
        if self.onset_at is None or self.denial_at is None:
            return None
        return self.denial_at - self.onset_at


def dashboard_id(prefix: str, incident_id: str) -> str:
    """The saved-object id of an incident's dashboard: the export writes it, e-mails link to it."""
    return f"{prefix}-dashboard-{incident_id}"


def data_view_ids(prefix: str) -> dict[str, str]:
    return {"posts": f"{prefix}-posts", "activity": f"{prefix}-activity"}


def data_view(prefix: str, kind: str) -> dict[str, Any]:
    """A data view on `<prefix>-<kind>*` (the alias and its versioned indices)."""
    return {
        "type": "index-pattern",
        "id": data_view_ids(prefix)[kind],
        "attributes": {
            "title": f"{prefix}-{kind}*",
            "name": f"spreadwatch {kind} ({prefix})",
            "timeFieldName": "@timestamp",
            "fields": "[]",
            "runtimeFieldMap": "{}",
            "fieldFormatMap": "{}",
            "sourceFilters": "[]",
            "allowNoIndex": True,
        },
        "references": [],
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": DATA_VIEW_MIGRATION_VERSION,
        "managed": False,
    }


def saved_search(prefix: str, stance: str) -> dict[str, Any]:
    """The posts of one stance, newest first, as a Discover session."""
    return _discover(
        prefix,
        slug=stance,
        kql=f"stance:{stance}",
        title=f"spreadwatch: {stance} posts",
        description=f"Posts classified as {stance}, newest first.",
        columns=SEARCH_COLUMNS,
    )


def human_labels_search(prefix: str) -> dict[str, Any]:
    """The posts whose stance a person set (`spreadwatch stance set`/`import`), with the label,
    the note and what the classifier had said (the cues): the team's own corrections."""
    return _discover(
        prefix,
        slug="human",
        kql="stance_source:human",
        title="spreadwatch: stance set by hand",
        description="Posts whose stance a person set, newest first; the cues hold the note "
        "and what the classifier had said.",
        columns=["stance", "stance_cues", *SEARCH_COLUMNS],
    )


def _discover(
    prefix: str, *, slug: str, kql: str, title: str, description: str, columns: list[str]
) -> dict[str, Any]:
    source = {
        "query": {"language": "kuery", "query": kql},
        "filter": [],
        "indexRefName": SEARCH_INDEX_REF,
    }
    return {
        "type": "search",
        "id": f"{prefix}-search-{slug}",
        "attributes": {
            "title": title,
            "description": description,
            "columns": columns,
            "sort": [["@timestamp", "desc"]],
            "grid": {},
            "hideChart": False,
            "kibanaSavedObjectMeta": {"searchSourceJSON": encode(source)},
        },
        "references": [
            {
                "type": "index-pattern",
                "id": data_view_ids(prefix)["posts"],
                "name": SEARCH_INDEX_REF,
            }
        ],
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": SEARCH_MIGRATION_VERSION,
        "managed": False,
    }


def all_saved_searches(prefix: str) -> list[dict[str, Any]]:
    return [*(saved_search(prefix, stance) for stance in STANCES), human_labels_search(prefix)]


def _incident_filter(incident_id: str) -> dict[str, Any]:
    return {
        "meta": {
            "alias": None,
            "negate": False,
            "disabled": False,
            "type": "phrase",
            "key": "incident",
            "params": {"query": incident_id},
            "indexRefName": FILTER_INDEX_REF,
        },
        "query": {"match_phrase": {"incident": incident_id}},
        "$state": {"store": "appState"},
    }


def _layout(panels: list[LensPanel]) -> list[tuple[str, dict[str, int]]]:
    """Grid positions: three metric tiles and the markdown on top, charts two per row."""
    placed: list[tuple[str, dict[str, int]]] = []
    x = y = row_height = 0
    for panel in panels:
        width, height = (12, 7) if panel.visualization_type == "lnsMetric" else (24, 15)
        if x + width > GRID_COLUMNS:
            x, y = 0, y + row_height
        placed.append((panel.slug, {"x": x, "y": y, "w": width, "h": height}))
        row_height = height
        x += width
    return placed


def markdown_text(facts: DashboardFacts) -> str:
    """The time-to-denial tile: a figure Lens cannot compute (a difference of two first times)."""
    lines = [f"### {display_markdown(facts.title)}", ""]
    ttd = facts.time_to_denial
    if ttd is None:
        since = ""
        if facts.onset_at is not None and facts.exported_at is not None:
            hours_since = (facts.exported_at - facts.onset_at).total_seconds() / 3600
            since = f" — {hours_since:.1f} h since the rumour's onset"
        lines.append(f"**Time to denial:** none yet: no official denial indexed{since}.")
    else:
        hours = ttd.total_seconds() / 3600
        lines.append(f"**Time to denial:** {hours:.1f} h")
    if facts.onset_at is not None:
        lines.append(f"\nRumour onset: {facts.onset_at:%Y-%m-%d %H:%M} UTC")
    if facts.denial_at is not None:
        by = f" by {display_markdown(facts.denial_by)}" if facts.denial_by else ""
        lines.append(f"\nFirst official denial: {facts.denial_at:%Y-%m-%d %H:%M} UTC{by}")
    lines.append("\n_As of the export; re-export to refresh._")
    return "\n".join(lines)


def _markdown_panel(facts: DashboardFacts, index: str, grid: dict[str, int]) -> dict[str, Any]:
    return {
        "type": "visualization",
        "panelIndex": index,
        "gridData": {**grid, "i": index},
        "embeddableConfig": {
            "savedVis": {
                "id": "",
                "title": "Time to denial",
                "description": "",
                "type": "markdown",
                "params": {
                    "markdown": markdown_text(facts),
                    "fontSize": 12,
                    "openLinksInNewTab": True,
                },
                "uiState": {},
                "data": {"aggs": [], "searchSource": {}},
            },
            "enhancements": {},
        },
    }


def dashboard(prefix: str, facts: DashboardFacts, panels: list[LensPanel]) -> dict[str, Any]:
    """One incident's dashboard, filtered to the incident.

    Every Lens panel by reference, the time-to-denial markdown, and the denial posts as a list.
    """
    panels_json: list[dict[str, Any]] = []
    references: list[dict[str, str]] = []
    for number, (slug, grid) in enumerate(_layout(panels), start=1):
        index = f"p{number}"
        panels_json.append(
            {
                "type": "lens",
                "panelIndex": index,
                "gridData": {**grid, "i": index},
                "panelRefName": f"panel_{index}",
                "embeddableConfig": {"enhancements": {}},
            }
        )
        references.append(
            {"type": "lens", "id": lens_id(prefix, slug), "name": f"{index}:panel_{index}"}
        )
    bottom = max(p["gridData"]["y"] + p["gridData"]["h"] for p in panels_json)
    markdown_grid = {"x": 36, "y": 0, "w": 12, "h": 7}
    if any(p["gridData"]["x"] == 36 and p["gridData"]["y"] == 0 for p in panels_json):
        markdown_grid = {"x": 0, "y": bottom, "w": 24, "h": 8}
    panels_json.append(_markdown_panel(facts, f"p{len(panels_json) + 1}", markdown_grid))
    bottom = max(p["gridData"]["y"] + p["gridData"]["h"] for p in panels_json)
    index = f"p{len(panels_json) + 1}"
    panels_json.append(
        {
            "type": "search",
            "panelIndex": index,
            "gridData": {"x": 0, "y": bottom, "w": GRID_COLUMNS, "h": 15, "i": index},
            "panelRefName": f"panel_{index}",
            "title": "Denials",
            "embeddableConfig": {"enhancements": {}},
        }
    )
    references.append(
        {"type": "search", "id": f"{prefix}-search-denial", "name": f"{index}:panel_{index}"}
    )
    references.append(
        {"type": "index-pattern", "id": data_view_ids(prefix)["posts"], "name": FILTER_INDEX_REF}
    )
    source = {
        "query": {"language": "kuery", "query": ""},
        "filter": [_incident_filter(facts.incident_id)],
    }
    return {
        "type": "dashboard",
        "id": dashboard_id(prefix, facts.incident_id),
        "attributes": {
            "title": f"spreadwatch: {display_line(facts.title)}",
            "description": f"Spread of incident {facts.incident_id}, built by spreadwatch.",
            "timeRestore": True,
            "timeFrom": facts.start.isoformat(),
            "timeTo": facts.end.isoformat() if facts.end else "now",
            "refreshInterval": {"pause": True, "value": 60000},
            "optionsJSON": encode(
                {
                    "useMargins": True,
                    "syncColors": False,
                    "syncCursor": True,
                    "syncTooltips": False,
                    "hidePanelTitles": False,
                }
            ),
            "panelsJSON": encode(panels_json),
            "kibanaSavedObjectMeta": {"searchSourceJSON": encode(source)},
            "version": 1,
        },
        "references": references,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": DASHBOARD_MIGRATION_VERSION,
        "managed": False,
    }
