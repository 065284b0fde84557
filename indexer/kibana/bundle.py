"""The whole export: data views, Lens panels, saved searches and dashboards, as NDJSON.

The order matters to a reader, not to Kibana (the import resolves references across the file):
data views first, then what uses them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from indexer.kibana.objects import (
    DashboardFacts,
    all_saved_searches,
    dashboard,
    data_view,
    data_view_ids,
)
from indexer.kibana.panels import all_panels


class BundleError(ValueError):
    """The bundle cannot be written as asked (e.g. a file name Kibana's import refuses)."""


def build_bundle(prefix: str, incidents: Iterable[DashboardFacts] = ()) -> list[dict[str, Any]]:
    """Every saved object for the indices under `prefix`, with one dashboard per incident."""
    views = data_view_ids(prefix)
    panels = all_panels(views)
    objects = [data_view(prefix, "posts"), data_view(prefix, "activity")]
    objects += [panel.saved_object(prefix, views) for panel in panels]
    objects += all_saved_searches(prefix)
    objects += [dashboard(prefix, facts, panels) for facts in incidents]
    return objects


def to_ndjson(objects: Iterable[dict[str, Any]]) -> str:
    """One object per line, as Kibana's export writes it (no export-details trailer)."""
    return "".join(json.dumps(o, ensure_ascii=False, sort_keys=True) + "\n" for o in objects)


def write_ndjson(objects: list[dict[str, Any]], path: Path) -> Path:
    """Write the bundle; the name must end in .ndjson or Kibana's import answers 400."""
    if path.suffix != ".ndjson":
        raise BundleError(f"{path}: Kibana imports only files named *.ndjson")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_ndjson(objects), encoding="utf-8")
    return path
