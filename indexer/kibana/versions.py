"""Saved-object migration versions, and the Kibana versions the bundle imports into.

Kibana refuses (HTTP 422) an object whose version is newer than it knows, and re-runs every
migration above an object's version. Lens and dashboards at 8.9.0 skip the 8.6 migration that
wipes a `formBased` state (kibana#281635) and still import into 8.19 and every 9.x.
"""

from __future__ import annotations

CORE_MIGRATION_VERSION = "8.8.0"
LENS_MIGRATION_VERSION = "8.9.0"
DASHBOARD_MIGRATION_VERSION = "8.9.0"
SEARCH_MIGRATION_VERSION = "8.0.0"
DATA_VIEW_MIGRATION_VERSION = "8.0.0"

#: The oldest Kibana the bundle is meant for; no object may carry a newer version.
OLDEST_SUPPORTED_KIBANA = "8.19.0"


def version_tuple(version: str) -> tuple[int, ...]:
    """`"8.9.0"` → `(8, 9, 0)`, for ordering versions numerically (8.10 > 8.9)."""
    return tuple(int(part) for part in version.split("."))
