"""Kibana saved objects built in code, and the client that imports them.

Why by hand and not `kb-dashboard-core` (PyPI, evaluated at 0.4.1, Nov 2026): it is a capable
YAML → Kibana compiler with pydantic view models, but (1) every release requires Python ≥ 3.12
while spreadwatch supports 3.11; (2) it stamps dashboards with typeMigrationVersion 10.2.0, which
an 8.19 or early 9.x Kibana refuses with 422 ("newer than this Kibana"); (3) it is alpha and
brings tatsu, beartype, ruamel.yaml and humanize for what here is ~400 lines of plain dicts.
We follow its shapes (by-value annotation layers with `indexPatternId`, one
`indexpattern-datasource-layer-<L>` reference per layer) where they match Kibana's exports.
"""

from __future__ import annotations

from indexer.kibana.bundle import BundleError, build_bundle, to_ndjson, write_ndjson
from indexer.kibana.objects import DashboardFacts

__all__ = ["BundleError", "DashboardFacts", "build_bundle", "to_ndjson", "write_ndjson"]
