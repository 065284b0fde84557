"""The numbers behind the Lens panels, on real indexed data whose truth is known.

Each panel's columns are translated into the same aggregation through elasticsearch.dsl
(`indexer.kibana.panel_data`) and run against the hand-built founding-case spread; the figures
must match what the fixture says (counts per platform and day, running totals, authors, reach,
amplifier order, GitHub events). Another incident's post in the same index must never count.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch
from spread_case import EVENTS, INCIDENT, POSTS, index_case
from test_kibana_bundle import flat_types

from indexer.connection import IndexNames
from indexer.kibana.lens import RECORDS
from indexer.kibana.objects import data_view_ids
from indexer.kibana.panel_data import kuery_filter, panel_rows
from indexer.kibana.panels import LensPanel, all_panels
from indexer.templates import delete_all, init
from spreadwatch.cli import cli
from spreadwatch.settings import Settings

PANELS = {p.slug: p for p in all_panels(data_view_ids("any"))}


@pytest.fixture(scope="module")
def case(es_client: Elasticsearch, es_settings: Settings) -> Iterator[IndexNames]:
    """The founding-case spread, indexed once for the module (the tests only read it)."""
    names = IndexNames(f"{es_settings.index_prefix}-kbpanels")
    init(es_client, names)
    index_case(es_client, names)
    yield names
    delete_all(es_client, names)


def rows(client: Elasticsearch, names: IndexNames, slug: str, interval: str = "1d") -> list[dict]:
    panel: LensPanel = PANELS[slug]
    index = names.activity if panel.data_view == "activity" else names.posts
    return panel_rows(client, index, panel, INCIDENT, interval)


def day(n: int) -> datetime:
    return datetime(2024, 10, n, tzinfo=UTC)


@pytest.mark.parametrize(("slug", "position"), [("volume-platform", 2), ("volume-stance", 4)])
def test_volume_panels_count_posts_per_day_and_split(
    es_client: Elasticsearch, case: IndexNames, slug: str, position: int
) -> None:
    expected = Counter((day(p[1].day), p[position]) for p in POSTS)
    got = {(r["when"], r["split"]): r["posts"] for r in rows(es_client, case, slug)}
    assert got == dict(expected)


def test_cumulative_panel_runs_the_total_over_days(
    es_client: Elasticsearch, case: IndexNames
) -> None:
    per_day = Counter(day(p[1].day) for p in POSTS)
    days = sorted(per_day)
    expected = dict(zip(days, accumulate(per_day[d] for d in days), strict=True))
    got = {r["when"]: r["total"] for r in rows(es_client, case, "cumulative-volume")}
    assert got == expected


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("posts", len(POSTS)),
        ("authors", len({p[5] for p in POSTS})),
        ("reach", sum(p[6] for p in POSTS)),
    ],
)
def test_metric_tiles(es_client: Elasticsearch, case: IndexNames, slug: str, expected: int) -> None:
    (row,) = rows(es_client, case, slug)
    assert row["value"] == expected


def test_top_amplifiers_are_ordered_by_summed_reach(
    es_client: Elasticsearch, case: IndexNames
) -> None:
    reach: Counter[str] = Counter()
    reposts: Counter[str] = Counter()
    for p in POSTS:
        reach[p[5]] += p[6]
        reposts[p[5]] += p[7]
    table = rows(es_client, case, "top-amplifiers")
    assert [r["reach"] for r in table] == sorted((r["reach"] for r in table), reverse=True)
    assert table[0]["author"] == "bytedance"
    assert {r["author"]: (r["reach"], r["reposts"]) for r in table} == {
        a: (reach[a], reposts[a]) for a in [r["author"] for r in table]
    }
    assert len(table) == min(15, len(reach))


def test_top_repos_counts_github_posts_per_repo(es_client: Elasticsearch, case: IndexNames) -> None:
    table = rows(es_client, case, "top-repos")
    github_posts = sum(1 for p in POSTS if p[2] == "github")
    assert [(r["repo"], r["posts"]) for r in table] == [
        ("JusticeFighter110/confession", github_posts)
    ]


def test_github_activity_panel_counts_events_per_hour(
    es_client: Elasticsearch, case: IndexNames
) -> None:
    expected = Counter((when.replace(minute=0), event) for when, event in EVENTS)
    got = {
        (r["when"], r["event"]): r["events"]
        for r in rows(es_client, case, "github-activity", interval="1h")
    }
    assert got == dict(expected)


@pytest.mark.parametrize(
    ("kuery", "expected"),
    [
        ("", None),
        ("platform:github", {"bool": {"filter": [{"term": {"platform": "github"}}]}}),
        (
            "stance:denial and author.official:true",
            {
                "bool": {
                    "filter": [
                        {"term": {"stance": "denial"}},
                        {"term": {"author.official": True}},
                    ]
                }
            },
        ),
    ],
)
def test_panel_queries_translate_to_filters(kuery: str, expected: dict | None) -> None:
    query = kuery_filter(kuery)
    assert (query.to_dict() if query is not None else None) == expected


@pytest.mark.parametrize("kuery", ["platform:github or platform:weibo", "text:*fake*x y", "nope"])
def test_queries_the_check_cannot_reproduce_are_refused(kuery: str) -> None:
    with pytest.raises(ValueError, match="unsupported KQL"):
        kuery_filter(kuery)


INCIDENT_YAML = f"""\
id: {INCIDENT}
title: "ByteDance intern GPU sabotage <rumour>"
window:
  start: 2024-10-17T00:00:00Z
  end: 2024-11-15T00:00:00Z
queries:
  - name: gpu
    any: ["ByteDance intern"]
"""


def test_cli_export_writes_a_dashboard_stating_the_time_to_denial(
    case: IndexNames, es_settings: Settings, tmp_path: Path
) -> None:
    incident_file = tmp_path / "case.yml"
    incident_file.write_text(INCIDENT_YAML, encoding="utf-8")
    out = tmp_path / "dash.ndjson"
    env = {
        "SPREADWATCH_INDEX_PREFIX": case.prefix,
        "SPREADWATCH_DATA_DIR": str(es_settings.data_dir),
        "SPREADWATCH_ES_URL": es_settings.es_url or "",
    }
    args = ["kibana", "export", "--out", str(out), "--incident", str(incident_file)]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    (dashboard,) = [o for o in objects if o["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    (markdown,) = [p for p in panels if p["type"] == "visualization"]
    text = markdown["embeddableConfig"]["savedVis"]["params"]["markdown"]
    # Onset: weibo:1 at 18 Oct 02:00; official denial: toutiao:8 at 19 Oct 06:00 by bytedance.
    assert "**Time to denial:** 28.0 h" in text
    assert "by bytedance" in text
    assert f"wrote {len(objects)} saved objects" in result.output


def test_cli_export_refuses_a_name_kibana_would_refuse(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["kibana", "export", "--out", str(tmp_path / "d.json")])
    assert result.exit_code == 2
    assert ".ndjson" in result.output
    assert not (tmp_path / "d.json").exists()


def test_cli_export_without_incident_files_writes_the_shared_objects_only(tmp_path: Path) -> None:
    empty = tmp_path / "incidents"
    empty.mkdir()
    out = tmp_path / "dash.ndjson"
    args = ["kibana", "export", "--out", str(out), "--incidents-dir", str(empty)]
    result = CliRunner().invoke(cli, args, env={"SPREADWATCH_INDEX_PREFIX": "swk"})
    assert result.exit_code == 0, result.output
    kinds = {json.loads(line)["type"] for line in out.read_text(encoding="utf-8").splitlines()}
    assert kinds == {"index-pattern", "lens", "search"}
    assert "no dashboard exported" in result.output


@pytest.mark.parametrize("kind", ["posts", "activity"])
def test_every_panel_field_is_mapped_in_the_live_index(
    es_client: Elasticsearch, case: IndexNames, kind: str
) -> None:
    """The templates really put into Elasticsearch carry every field the panels read."""
    alias = getattr(case, kind)
    (mapping,) = es_client.indices.get_mapping(index=alias).body.values()
    mapped = flat_types(mapping["mappings"]["properties"])
    used = {
        column["sourceField"]
        for panel in PANELS.values()
        if panel.data_view == kind
        for columns in panel.layers.values()
        for column in columns.values()
        if column.get("sourceField") not in (None, RECORDS)
    }
    assert used
    assert {field: mapped.get(field) for field in used if field not in mapped} == {}
