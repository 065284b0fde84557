"""What a Lens panel should show, computed with the same aggregation through elasticsearch.dsl.

Lens builds its own queries from the saved state, and Kibana cannot run here. Translating a
panel's columns into the equivalent aggregation (terms, date_histogram, metrics, cumulative_sum)
lets tests and `spreadwatch kibana preview`-style checks see the numbers behind a panel on real
indexed data, so a wrong field or a wrong order shows up as wrong figures, not as a blank chart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.dsl import Q, Search
from elasticsearch.dsl.query import Query

from indexer.intervals import auto_interval
from indexer.kibana import lens
from indexer.kibana.panels import LensPanel

Row = dict[str, Any]

_METRIC_AGGS = {
    "sum": "sum",
    "max": "max",
    "min": "min",
    "avg": "avg",
    "unique_count": "cardinality",
}


def kuery_filter(kuery: str) -> Query | None:
    """The panels' KQL, which is only `field:value` clauses joined by `and`, as a DSL filter."""
    if not kuery.strip():
        return None
    clauses = []
    for part in kuery.split(" and "):
        field, sep, value = part.strip().partition(":")
        if not sep or not field or not value or " " in value.strip():
            raise ValueError(f"unsupported KQL for a panel check: {kuery!r}")
        raw = value.strip()
        clauses.append(
            Q("term", **{field.strip(): raw == "true" if raw in ("true", "false") else raw})
        )
    return Q("bool", filter=clauses)


def panel_search(
    client: Elasticsearch,
    index: str,
    panel: LensPanel,
    incident: str,
    interval: str | None = None,
) -> Search:
    """The aggregation a panel's first layer stands for, on one incident's documents.

    Lens's `auto` interval is bounded by Kibana's `histogram:maxBars`; here, without an explicit
    `interval`, the same bounded choice comes from `auto_interval` over the documents' span.
    """
    columns = next(iter(panel.layers.values()))
    order = lens.form_based_layer(columns)["columnOrder"]
    search = Search(using=client, index=index).filter("term", incident=incident)
    search = search.extra(size=0, track_total_hits=True)
    extra = kuery_filter(panel.kuery)
    if extra is not None:
        search = search.filter(extra)
    interval = interval or _auto(search)
    parent: Any = search.aggs
    histogram: Any = None
    for cid in (c for c in order if columns[c]["isBucketed"]):
        parent = _bucket(parent, cid, columns, interval)
        if columns[cid]["operationType"] == "date_histogram":
            histogram = parent
    for cid in (c for c in order if not columns[c]["isBucketed"]):
        column = columns[cid]
        operation = column["operationType"]
        if operation in _METRIC_AGGS:
            parent.metric(cid, _METRIC_AGGS[operation], field=column["sourceField"])
        elif operation == "cumulative_sum":
            if histogram is None:
                raise ValueError(f"{panel.slug}: cumulative_sum needs a date_histogram")
            histogram.pipeline(
                cid, "cumulative_sum", buckets_path=_path(columns, column["references"][0])
            )
        elif operation != "count":
            raise ValueError(f"{panel.slug}: no DSL equivalent for {operation}")
    return search


def _auto(search: Search) -> str:
    """The bounded interval for the span of the documents `search` selects."""
    ranged = search.extra(size=0)
    ranged.aggs.metric("first", "min", field="@timestamp")
    ranged.aggs.metric("last", "max", field="@timestamp")
    aggs = ranged.execute().aggregations
    if aggs.first.value is None:
        return "1h"
    return auto_interval(_epoch_ms(aggs.first.value), _epoch_ms(aggs.last.value))


def _epoch_ms(value: float) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _bucket(parent: Any, cid: str, columns: dict[str, lens.Column], interval: str) -> Any:
    column = columns[cid]
    if column["operationType"] == "date_histogram":
        return parent.bucket(
            cid,
            "date_histogram",
            field=column["sourceField"],
            fixed_interval=interval,
            min_doc_count=0,
        )
    params = column["params"]
    order_col = params["orderBy"]["columnId"]
    return parent.bucket(
        cid,
        "terms",
        field=column["sourceField"],
        size=params["size"],
        order={_path(columns, order_col): params["orderDirection"]},
    )


def _path(columns: dict[str, lens.Column], cid: str) -> str:
    return "_count" if columns[cid]["operationType"] == "count" else cid


def panel_rows(
    client: Elasticsearch,
    index: str,
    panel: LensPanel,
    incident: str,
    interval: str | None = None,
) -> list[Row]:
    """The panel's table: one row per innermost bucket, a value per column id."""
    response = panel_search(client, index, panel, incident, interval).execute()
    columns = next(iter(panel.layers.values()))
    order = lens.form_based_layer(columns)["columnOrder"]
    buckets = [c for c in order if columns[c]["isBucketed"]]
    metrics = [c for c in order if not columns[c]["isBucketed"]]
    raw = response.to_dict()
    return list(
        _walk(
            raw.get("aggregations", {}),
            buckets=buckets,
            metrics=metrics,
            columns=columns,
            row={},
            doc_count=raw["hits"]["total"]["value"],
        )
    )


def _walk(
    node: dict[str, Any],
    *,
    buckets: list[str],
    metrics: list[str],
    columns: dict[str, lens.Column],
    row: Row,
    doc_count: int,
) -> Any:
    if not buckets:
        yield {**row, **{m: _value(node, m, columns, doc_count) for m in metrics}}
        return
    cid, rest = buckets[0], buckets[1:]
    for bucket in node[cid]["buckets"]:
        key = bucket["key"]
        if columns[cid]["operationType"] == "date_histogram":
            key = datetime.fromtimestamp(key / 1000, tz=UTC)
        extra = {m: _value(bucket, m, columns, bucket["doc_count"]) for m in metrics if m in bucket}
        yield from _walk(
            bucket,
            buckets=rest,
            metrics=metrics,
            columns=columns,
            row={**row, cid: key, **extra},
            doc_count=bucket["doc_count"],
        )


def _value(node: dict[str, Any], cid: str, columns: dict[str, lens.Column], doc_count: int) -> Any:
    if columns[cid]["operationType"] == "count":
        return doc_count
    if cid not in node:
        return None
    return node[cid].get("value")
