"""Lens building blocks: form-based columns, layers and visualisation states.

Each function returns the plain dict Kibana stores, so the saved objects read like an export
from Kibana itself. Column ids are stable strings (not UUIDs) so a re-export produces the same
bundle and a diff shows real changes only.
"""

from __future__ import annotations

from typing import Any

#: Kibana's pseudo-field for "count of records": not a mapping field.
RECORDS = "___records___"

Column = dict[str, Any]


def date_histogram(field: str = "@timestamp", interval: str = "auto") -> Column:
    """X axis over time; `auto` lets Kibana pick the bucket from the dashboard's time range."""
    return {
        "label": field,
        "dataType": "date",
        "operationType": "date_histogram",
        "sourceField": field,
        "isBucketed": True,
        "scale": "interval",
        "params": {"interval": interval, "includeEmptyRows": True, "dropPartials": False},
    }


def terms(field: str, order_by: str, size: int = 10, other_bucket: bool = True) -> Column:
    """Top values of a keyword field, ordered by the metric column `order_by`."""
    return {
        "label": f"Top {size} values of {field}",
        "dataType": "string",
        "operationType": "terms",
        "sourceField": field,
        "isBucketed": True,
        "scale": "ordinal",
        "params": {
            "size": size,
            "orderBy": {"type": "column", "columnId": order_by},
            "orderDirection": "desc",
            "otherBucket": other_bucket,
            "missingBucket": False,
            "parentFormat": {"id": "terms"},
            "include": [],
            "exclude": [],
            "includeIsRegex": False,
            "excludeIsRegex": False,
        },
    }


def count(label: str = "Posts") -> Column:
    return {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "operationType": "count",
        "sourceField": RECORDS,
        "isBucketed": False,
        "scale": "ratio",
        "params": {"emptyAsNull": False},
    }


def metric(operation: str, field: str, label: str) -> Column:
    """A numeric metric (`sum`, `max`, `unique_count`...) over one field."""
    return {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "operationType": operation,
        "sourceField": field,
        "isBucketed": False,
        "scale": "ratio",
        "params": {"emptyAsNull": False},
    }


def cumulative_sum(of_column: str, label: str = "Cumulative posts") -> Column:
    """A running total of another column of the same layer (Lens keeps that column hidden)."""
    return {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "operationType": "cumulative_sum",
        "isBucketed": False,
        "scale": "ratio",
        "references": [of_column],
    }


def form_based_layer(columns: dict[str, Column]) -> dict[str, Any]:
    """A datasource layer: columns in order (buckets first, as Lens orders them)."""
    bucketed = [cid for cid, col in columns.items() if col["isBucketed"]]
    metrics = [cid for cid, col in columns.items() if not col["isBucketed"]]
    return {
        "columns": columns,
        "columnOrder": bucketed + metrics,
        "incompleteColumns": {},
        "sampling": 1,
    }


def xy_data_layer(
    layer_id: str, series: str, x: str, accessors: list[str], split: str | None = None
) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "layerId": layer_id,
        "layerType": "data",
        "seriesType": series,
        "xAccessor": x,
        "accessors": accessors,
    }
    if split is not None:
        layer["splitAccessor"] = split
    return layer


def query_annotation_layer(
    layer_id: str, data_view_id: str, label: str, kuery: str
) -> dict[str, Any]:
    """Event markers from documents matching a KQL query (e.g. the official denial)."""
    return {
        "layerId": layer_id,
        "layerType": "annotations",
        "indexPatternId": data_view_id,
        "ignoreGlobalFilters": False,
        "annotations": [
            {
                "type": "query",
                "id": f"{layer_id}-event",
                "label": label,
                "key": {"type": "point_in_time"},
                "timeField": "@timestamp",
                "filter": {"type": "kibana_query", "language": "kuery", "query": kuery},
                "extraFields": ["author.handle"],
                "icon": "alert",
                "color": "#E7664C",
                "lineStyle": "solid",
                "lineWidth": 2,
                "textVisibility": True,
                "textField": "author.handle",
            }
        ],
    }


def xy_visualization(layers: list[dict[str, Any]], series: str) -> dict[str, Any]:
    return {
        "legend": {"isVisible": True, "position": "right"},
        "valueLabels": "hide",
        "fittingFunction": "None",
        "preferredSeriesType": series,
        "axisTitlesVisibilitySettings": {"x": True, "yLeft": True, "yRight": True},
        "layers": layers,
    }


def metric_visualization(layer_id: str, column: str) -> dict[str, Any]:
    return {"layerId": layer_id, "layerType": "data", "metricAccessor": column}


def datatable_visualization(layer_id: str, columns: list[str]) -> dict[str, Any]:
    """A table sorted by its first metric (the column after the row key), largest first."""
    table: dict[str, Any] = {
        "layerId": layer_id,
        "layerType": "data",
        "columns": [{"columnId": cid} for cid in columns],
    }
    if len(columns) > 1:
        table["sorting"] = {"columnId": columns[1], "direction": "desc"}
    return table


def tagcloud_visualization(layer_id: str, tag: str, value: str) -> dict[str, Any]:
    return {
        "layerId": layer_id,
        "tagAccessor": tag,
        "valueAccessor": value,
        "maxFontSize": 72,
        "minFontSize": 18,
        "orientation": "single",
        "showLabel": True,
    }
