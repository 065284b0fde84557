"""The Lens panels of the spreadwatch dashboards, each one saved object of type `lens`.

Panels are shared by every incident's dashboard: the dashboard's incident filter narrows them,
so one set of visualisations serves tens of incidents. Field names are those of
`indexer/documents.py`; a test checks each against `templates.mapping_for`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from indexer.kibana import lens
from indexer.kibana.versions import CORE_MIGRATION_VERSION, LENS_MIGRATION_VERSION
from indexer.scope import OFFICIAL_DENIAL_KQL

#: The official denial as the timelines mark it (`indexer.scope`: one definition everywhere).
DENIAL_KUERY = OFFICIAL_DENIAL_KQL


@dataclass(frozen=True)
class LensPanel:
    """What one Lens visualisation shows; `saved_object` turns it into Kibana's shape."""

    slug: str
    title: str
    visualization_type: str
    layers: dict[str, dict[str, lens.Column]]
    visualization: dict[str, Any]
    data_view: str = "posts"  # which data view the layers read: "posts" or "activity"
    kuery: str = ""
    annotation_layers: list[str] = field(default_factory=list)

    def saved_object(self, prefix: str, data_view_ids: dict[str, str]) -> dict[str, Any]:
        view_id = data_view_ids[self.data_view]
        references = [
            {"type": "index-pattern", "id": view_id, "name": f"indexpattern-datasource-layer-{lid}"}
            for lid in self.layers
        ]
        references += [
            {"type": "index-pattern", "id": view_id, "name": f"xy-visualization-layer-{lid}"}
            for lid in self.annotation_layers
        ]
        state = {
            "datasourceStates": {
                "formBased": {
                    "layers": {
                        lid: lens.form_based_layer(cols) for lid, cols in self.layers.items()
                    }
                }
            },
            "visualization": self.visualization,
            "query": {"language": "kuery", "query": self.kuery},
            "filters": [],
            "internalReferences": [],
            "adHocDataViews": {},
        }
        return {
            "type": "lens",
            "id": lens_id(prefix, self.slug),
            "attributes": {
                "title": self.title,
                "description": "",
                "visualizationType": self.visualization_type,
                "state": state,
            },
            "references": references,
            "coreMigrationVersion": CORE_MIGRATION_VERSION,
            "typeMigrationVersion": LENS_MIGRATION_VERSION,
            "managed": False,
        }


def lens_id(prefix: str, slug: str) -> str:
    return f"{prefix}-lens-{slug}"


def _volume_by(
    split_field: str, series: str, slug: str, title: str, data_view_id: str
) -> LensPanel:
    columns = {
        "when": lens.date_histogram(),
        "split": lens.terms(split_field, order_by="posts", size=10),
        "posts": lens.count(),
    }
    annotations = lens.query_annotation_layer(
        "denial", data_view_id, "Official denial", DENIAL_KUERY
    )
    data = lens.xy_data_layer("data", series, "when", ["posts"], split="split")
    return LensPanel(
        slug=slug,
        title=title,
        visualization_type="lnsXY",
        layers={"data": columns},
        visualization=lens.xy_visualization([data, annotations], series),
        annotation_layers=["denial"],
    )


def _cumulative(data_view_id: str) -> LensPanel:
    columns = {
        "when": lens.date_histogram(),
        "posts": lens.count(),
        "total": lens.cumulative_sum("posts"),
    }
    annotations = lens.query_annotation_layer(
        "denial", data_view_id, "Official denial", DENIAL_KUERY
    )
    data = lens.xy_data_layer("data", "area", "when", ["total"])
    return LensPanel(
        slug="cumulative-volume",
        title="Cumulative volume",
        visualization_type="lnsXY",
        layers={"data": columns},
        visualization=lens.xy_visualization([data, annotations], "area"),
        annotation_layers=["denial"],
    )


def _metric_tile(slug: str, title: str, column: lens.Column) -> LensPanel:
    return LensPanel(
        slug=slug,
        title=title,
        visualization_type="lnsMetric",
        layers={"data": {"value": column}},
        visualization=lens.metric_visualization("data", "value"),
    )


def _top_amplifiers() -> LensPanel:
    columns = {
        "author": lens.terms("author.handle", order_by="reach", size=15, other_bucket=False),
        "reach": lens.metric("sum", "reach", "Reach"),
        "reposts": lens.metric("sum", "engagement.reposts", "Reposts"),
        "posts": lens.count(),
    }
    return LensPanel(
        slug="top-amplifiers",
        title="Top amplifiers (by reach)",
        visualization_type="lnsDatatable",
        layers={"data": columns},
        visualization=lens.datatable_visualization("data", list(columns)),
    )


def _top_repos() -> LensPanel:
    columns = {
        "repo": lens.terms("repo", order_by="posts", size=10, other_bucket=False),
        "posts": lens.count("Posts, issues, commits"),
        "stars": lens.metric("max", "engagement.stars", "Stars"),
        "forks": lens.metric("max", "engagement.forks", "Forks"),
    }
    return LensPanel(
        slug="top-repos",
        title="Top GitHub repositories",
        visualization_type="lnsDatatable",
        layers={"data": columns},
        visualization=lens.datatable_visualization("data", list(columns)),
        kuery="platform:github",
    )


def _hashtags() -> LensPanel:
    columns = {
        "tag": lens.terms("hashtags", order_by="posts", size=40, other_bucket=False),
        "posts": lens.count(),
    }
    return LensPanel(
        slug="hashtags",
        title="Hashtags",
        visualization_type="lnsTagcloud",
        layers={"data": columns},
        visualization=lens.tagcloud_visualization("data", "tag", "posts"),
    )


def _github_activity() -> LensPanel:
    columns = {
        "when": lens.date_histogram(),
        "event": lens.terms("event", order_by="events", size=8),
        "events": lens.count("Events"),
    }
    data = lens.xy_data_layer("data", "bar_stacked", "when", ["events"], split="event")
    return LensPanel(
        slug="github-activity",
        title="GitHub activity (stars, forks, issues)",
        visualization_type="lnsXY",
        layers={"data": columns},
        visualization=lens.xy_visualization([data], "bar_stacked"),
        data_view="activity",
        kuery="platform:github",
    )


def _claims_over_time(data_view_id: str) -> LensPanel:
    """Each claim's volume by the stance posts take towards it (`claim_stances`)."""
    columns = {
        "when": lens.date_histogram(),
        "claim": lens.terms("claim_stances", order_by="posts", size=20),
        "posts": lens.count(),
    }
    annotations = lens.query_annotation_layer(
        "denial", data_view_id, "Official denial", DENIAL_KUERY
    )
    data = lens.xy_data_layer("data", "bar_stacked", "when", ["posts"], split="claim")
    return LensPanel(
        slug="claims-over-time",
        title="Claims over time (claim:stance)",
        visualization_type="lnsXY",
        layers={"data": columns},
        visualization=lens.xy_visualization([data, annotations], "bar_stacked"),
        annotation_layers=["denial"],
        kuery="claim_stances:*",
    )


def _claims_reach() -> LensPanel:
    """Per claim and stance: posts and reach — a claim spreading vs being denied."""
    columns = {
        "claim": lens.terms("claim_stances", order_by="reach", size=40, other_bucket=False),
        "posts": lens.count(),
        "reach": lens.metric("sum", "reach", "Reach"),
    }
    return LensPanel(
        slug="claims",
        title="Claims: posts and reach by stance (claim:stance)",
        visualization_type="lnsDatatable",
        layers={"data": columns},
        visualization=lens.datatable_visualization("data", list(columns)),
        kuery="claim_stances:*",
    )


def all_panels(data_view_ids: dict[str, str]) -> list[LensPanel]:
    """Every Lens panel, in dashboard order."""
    posts_view = data_view_ids["posts"]
    return [
        _metric_tile("posts", "Posts", lens.count()),
        _metric_tile("authors", "Authors", lens.metric("unique_count", "author.handle", "Authors")),
        _metric_tile("reach", "Reach", lens.metric("sum", "reach", "Reach")),
        _volume_by("platform", "area_stacked", "volume-platform", "Volume by platform", posts_view),
        _volume_by("stance", "bar_stacked", "volume-stance", "Volume by stance", posts_view),
        _cumulative(posts_view),
        _claims_reach(),
        _claims_over_time(posts_view),
        _top_amplifiers(),
        _top_repos(),
        _hashtags(),
        _github_activity(),
    ]


def encode(value: Any) -> str:
    """Kibana stores some attributes as JSON text inside the JSON object (panelsJSON...)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
