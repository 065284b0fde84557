"""The Kibana bundle, checked offline the way Kibana would read it.

Kibana cannot run here, so these tests check what makes an import fail or a panel come up blank:
JSON-in-JSON attributes that do not parse, references that resolve nowhere, Lens columns on
fields the index does not have (or has with a type the operation cannot use), panel ids that do
not match their grid slots, and migration versions a supported Kibana would refuse.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from markdown_it import MarkdownIt

from indexer.kibana import BundleError, DashboardFacts, build_bundle, to_ndjson, write_ndjson
from indexer.kibana.lens import RECORDS
from indexer.kibana.objects import markdown_text
from indexer.kibana.versions import OLDEST_SUPPORTED_KIBANA, version_tuple
from indexer.scope import OFFICIAL_DENIAL_KQL
from indexer.templates import mapping_for

PREFIX = "swk"
FACTS = DashboardFacts(
    incident_id="bytedance-intern-2024",
    title="ByteDance intern GPU sabotage",
    start=datetime(2024, 10, 17, tzinfo=UTC),
    end=datetime(2024, 11, 15, tzinfo=UTC),
    onset_at=datetime(2024, 10, 18, 2, 0, tzinfo=UTC),
    denial_at=datetime(2024, 10, 19, 6, 30, tzinfo=UTC),
    denial_by="bytedance",
)
BUNDLE = build_bundle(PREFIX, [FACTS])
BY_KEY = {(o["type"], o["id"]): o for o in BUNDLE}
LENSES = [o for o in BUNDLE if o["type"] == "lens"]
DASHBOARD = next(o for o in BUNDLE if o["type"] == "dashboard")

#: Which mapping types each Lens operation can run on.
FITTING_TYPES = {
    "date_histogram": {"date"},
    "terms": {"keyword", "boolean", "long", "integer"},
    "unique_count": {"keyword", "long", "integer", "boolean"},
    "sum": {"long", "integer", "float", "double"},
    "max": {"long", "integer", "float", "double", "date"},
    "min": {"long", "integer", "float", "double", "date"},
    "avg": {"long", "integer", "float", "double"},
}
STRINGIFIED = {
    "dashboard": ["panelsJSON", "optionsJSON", "kibanaSavedObjectMeta.searchSourceJSON"],
    "search": ["kibanaSavedObjectMeta.searchSourceJSON"],
    "index-pattern": ["fields", "runtimeFieldMap", "fieldFormatMap", "sourceFilters"],
}


def flat_types(properties: dict[str, Any], parent: str = "") -> dict[str, str]:
    """`author.handle` → `keyword`, from a mapping's nested `properties`."""
    types: dict[str, str] = {}
    for name, spec in properties.items():
        path = f"{parent}{name}"
        if "properties" in spec:
            types.update(flat_types(spec["properties"], f"{path}."))
        else:
            types[path] = spec.get("type", "object")
    return types


MAPPINGS = {
    f"{PREFIX}-{kind}*": flat_types(mapping_for(kind)["properties"])
    for kind in ("posts", "activity")
}


def dig(obj: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj[part]
    return obj


def lens_columns() -> list[tuple[str, str, dict[str, Any]]]:
    """(lens id, data view title, column) for every column of every Lens layer."""
    found = []
    for lens in LENSES:
        refs = {r["name"]: r["id"] for r in lens["references"]}
        layers = lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
        for layer_id, layer in layers.items():
            view = BY_KEY[("index-pattern", refs[f"indexpattern-datasource-layer-{layer_id}"])]
            for column in layer["columns"].values():
                found.append((lens["id"], view["attributes"]["title"], column))
    return found


def test_the_bundle_holds_each_kind_of_object_the_dashboard_needs() -> None:
    kinds = sorted({o["type"] for o in BUNDLE})
    assert kinds == ["dashboard", "index-pattern", "lens", "search"]
    titles = sorted(o["attributes"]["title"] for o in BUNDLE if o["type"] == "index-pattern")
    assert titles == [f"{PREFIX}-activity*", f"{PREFIX}-posts*"]


def test_every_object_id_is_unique() -> None:
    assert len(BY_KEY) == len(BUNDLE)


@pytest.mark.parametrize(
    "view", [o for o in BUNDLE if o["type"] == "index-pattern"], ids=lambda o: o["id"]
)
def test_data_views_use_the_publication_time(view: dict[str, Any]) -> None:
    assert view["attributes"]["timeFieldName"] == "@timestamp"


@pytest.mark.parametrize(
    ("kind", "field"), [(k, f) for k, fields in STRINGIFIED.items() for f in fields]
)
def test_every_stringified_attribute_parses_as_json(kind: str, field: str) -> None:
    objects = [o for o in BUNDLE if o["type"] == kind]
    assert objects
    for obj in objects:
        value = dig(obj["attributes"], field)
        assert isinstance(value, str), f"{obj['id']}: {field} must be a JSON string"
        json.loads(value)


@pytest.mark.parametrize("obj", BUNDLE, ids=lambda o: o["id"])
def test_every_reference_resolves_inside_the_bundle(obj: dict[str, Any]) -> None:
    for ref in obj["references"]:
        assert (ref["type"], ref["id"]) in BY_KEY, f"{obj['id']} → {ref}"


@pytest.mark.parametrize("lens", LENSES, ids=lambda o: o["id"])
def test_each_lens_layer_has_its_data_view_reference(lens: dict[str, Any]) -> None:
    names = {r["name"] for r in lens["references"]}
    state = lens["attributes"]["state"]
    for layer_id in state["datasourceStates"]["formBased"]["layers"]:
        assert f"indexpattern-datasource-layer-{layer_id}" in names
    for layer in state["visualization"].get("layers", []):
        if layer.get("layerType") == "annotations":
            assert f"xy-visualization-layer-{layer['layerId']}" in names


@pytest.mark.parametrize(
    ("lens_id", "view", "column"),
    [c for c in lens_columns() if "sourceField" in c[2] and c[2]["sourceField"] != RECORDS],
    ids=lambda v: v if isinstance(v, str) else v.get("sourceField", ""),
)
def test_every_lens_field_exists_in_the_mapping_with_a_fitting_type(
    lens_id: str, view: str, column: dict[str, Any]
) -> None:
    field, operation = column["sourceField"], column["operationType"]
    mapped = MAPPINGS[view].get(field)
    assert mapped is not None, f"{lens_id}: {field} is not in the {view} mapping"
    assert mapped in FITTING_TYPES[operation], f"{lens_id}: {operation} on {field} ({mapped})"


def test_count_columns_use_kibanas_records_pseudo_field() -> None:
    counts = [c for _, _, c in lens_columns() if c["operationType"] == "count"]
    assert counts
    assert {c["sourceField"] for c in counts} == {RECORDS}


@pytest.mark.parametrize("lens", LENSES, ids=lambda o: o["id"])
def test_column_order_and_references_stay_inside_the_layer(lens: dict[str, Any]) -> None:
    for layer in lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values():
        assert sorted(layer["columnOrder"]) == sorted(layer["columns"])
        for column in layer["columns"].values():
            for ref in column.get("references", []):
                assert ref in layer["columns"]
            order_by = column.get("params", {}).get("orderBy", {}).get("columnId")
            if order_by is not None:
                assert order_by in layer["columns"]


def test_cumulative_volume_is_a_running_sum_of_the_post_count() -> None:
    lens = BY_KEY[("lens", f"{PREFIX}-lens-cumulative-volume")]
    columns = lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]["data"][
        "columns"
    ]
    cumulative = [c for c in columns.values() if c["operationType"] == "cumulative_sum"]
    assert len(cumulative) == 1
    assert columns[cumulative[0]["references"][0]]["operationType"] == "count"


@pytest.mark.parametrize(
    ("slug", "series", "split_field"),
    [("volume-platform", "area_stacked", "platform"), ("volume-stance", "bar_stacked", "stance")],
)
def test_volume_charts_are_stacked_by_their_dimension_and_mark_the_denial(
    slug: str, series: str, split_field: str
) -> None:
    state = BY_KEY[("lens", f"{PREFIX}-lens-{slug}")]["attributes"]["state"]
    layers = {layer["layerType"]: layer for layer in state["visualization"]["layers"]}
    columns = state["datasourceStates"]["formBased"]["layers"]["data"]["columns"]
    assert layers["data"]["seriesType"] == series
    assert columns[layers["data"]["splitAccessor"]]["sourceField"] == split_field
    assert columns[layers["data"]["xAccessor"]]["operationType"] == "date_histogram"
    event = layers["annotations"]["annotations"][0]
    assert event["type"] == "query"
    assert event["filter"]["query"] == OFFICIAL_DENIAL_KQL  # the one definition (indexer/scope)


@pytest.mark.parametrize(
    ("slug", "operation", "field"),
    [
        ("posts", "count", RECORDS),
        ("authors", "unique_count", "author.handle"),
        ("reach", "sum", "reach"),
    ],
)
def test_metric_tiles_count_posts_authors_and_reach(slug: str, operation: str, field: str) -> None:
    lens = BY_KEY[("lens", f"{PREFIX}-lens-{slug}")]
    assert lens["attributes"]["visualizationType"] == "lnsMetric"
    layer = lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]["data"]
    (column,) = layer["columns"].values()
    assert (column["operationType"], column["sourceField"]) == (operation, field)


def test_there_is_one_saved_search_per_stance_and_one_of_the_labels_set_by_hand() -> None:
    searches = [o for o in BUNDLE if o["type"] == "search"]
    queries = sorted(
        json.loads(s["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]
        for s in searches
    )
    stances = [f"stance:{s}" for s in ("debunk", "denial", "other", "report", "rumour")]
    assert queries == [*stances, "stance_source:human"]


def test_dashboard_panels_match_their_grid_slots_and_references() -> None:
    panels = json.loads(DASHBOARD["attributes"]["panelsJSON"])
    names = {r["name"] for r in DASHBOARD["references"]}
    for panel in panels:
        assert panel["panelIndex"] == panel["gridData"]["i"]
        assert panel["gridData"]["x"] + panel["gridData"]["w"] <= 48
        if "panelRefName" in panel:
            assert f"{panel['panelIndex']}:{panel['panelRefName']}" in names
    assert len({p["panelIndex"] for p in panels}) == len(panels)


def test_dashboard_panels_do_not_overlap() -> None:
    cells: set[tuple[int, int]] = set()
    for panel in json.loads(DASHBOARD["attributes"]["panelsJSON"]):
        grid = panel["gridData"]
        mine = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & mine, panel["panelIndex"]
        cells |= mine


def test_dashboard_shows_every_lens_panel() -> None:
    shown = {r["id"] for r in DASHBOARD["references"] if r["type"] == "lens"}
    assert shown == {o["id"] for o in LENSES}


def test_dashboard_is_filtered_to_its_incident_and_window() -> None:
    attributes = DASHBOARD["attributes"]
    source = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])
    (incident_filter,) = source["filter"]
    assert incident_filter["query"] == {"match_phrase": {"incident": "bytedance-intern-2024"}}
    index_ref = incident_filter["meta"]["indexRefName"]
    assert {"type": "index-pattern", "id": f"{PREFIX}-posts", "name": index_ref} in DASHBOARD[
        "references"
    ]
    assert (attributes["timeRestore"], attributes["timeFrom"], attributes["timeTo"]) == (
        True,
        "2024-10-17T00:00:00+00:00",
        "2024-11-15T00:00:00+00:00",
    )


def test_dashboard_per_incident_has_its_own_id() -> None:
    other = DashboardFacts("other-case", "Other", datetime(2025, 1, 1, tzinfo=UTC))
    bundle = build_bundle(PREFIX, [FACTS, other])
    ids = sorted(o["id"] for o in bundle if o["type"] == "dashboard")
    assert ids == [f"{PREFIX}-dashboard-bytedance-intern-2024", f"{PREFIX}-dashboard-other-case"]


def test_markdown_panel_states_the_time_to_denial() -> None:
    panels = json.loads(DASHBOARD["attributes"]["panelsJSON"])
    (markdown,) = [p for p in panels if p["type"] == "visualization"]
    text = markdown["embeddableConfig"]["savedVis"]["params"]["markdown"]
    assert "**Time to denial:** 28.5 h" in text
    assert "by bytedance" in text


def test_markdown_says_so_when_there_is_no_denial_yet() -> None:
    later = FACTS.onset_at + timedelta(hours=30)
    facts = DashboardFacts(
        "x", "X", datetime(2024, 10, 17, tzinfo=UTC), onset_at=FACTS.onset_at, exported_at=later
    )
    assert (
        "**Time to denial:** none yet: no official denial indexed — 30.0 h since the rumour's onset."
    ) in markdown_text(facts)


def test_markdown_panel_escapes_markup_from_posts() -> None:
    facts = DashboardFacts(
        "x",
        "X",
        datetime(2024, 10, 17, tzinfo=UTC),
        onset_at=FACTS.onset_at,
        denial_at=FACTS.denial_at,
        denial_by="<img src=x>[link](evil)",
    )
    text = markdown_text(facts)
    assert r"by \<img src\=x\>\[link\]\(evil\)" in text
    assert not re.search(r"(?<!\\)[<\[]", text.split(" by ", 1)[1])


#: Kibana's markdown panel: markdown-it with its default rules and raw HTML off
#: (`new MarkdownIt({ html: false, linkify: true })` in kibana_react's markdown.tsx);
#: markdown-it-py is its port, linkify-it-py the port of its linkify-it.
KIBANA_MARKDOWN = MarkdownIt("js-default", {"html": False, "linkify": True})
#: What the panel itself writes: its heading, bold labels and the closing note.
PANEL_TAGS = {"h3", "p", "strong", "em"}

#: A name from a post or an incident file, and the text a reader must see instead: every
#: character as written, controls and bidi overrides as escapes (as `spreadwatch.display`
#: shows them everywhere), line breaks as spaces (a name is one line).
HOSTILE_NAMES = [
    ("~~struck~~ out", "~~struck~~ out"),
    ("AT&amp;T", "AT&amp;T"),
    ("&#x202e;moc.elgoog", "&#x202e;moc.elgoog"),  # an entity that decodes to an override
    ("@admin\u202emoc.elgoog", "@admin\\u202emoc.elgoog"),
    ("x\n===", "x ==="),  # a setext underline: the line above becomes a heading
    ("x\n\n    indented", "x indented"),  # a code block
    ("x\n\n1) one\n2) two", "x 1) one 2) two"),
    ("<img src=x>[link](evil) `code` *b* \\", "<img src=x>[link](evil) `code` *b* \\"),
    ("GPU \ud83d\udd25 \udc00", "GPU \U0001f525 \\udc00"),
    # linkify would make these links to wherever the post's author chose
    ("evil.com", "evil.com"),
    ("see https://evil.com/login", "see https://evil.com/login"),
    ("xn--80ak6aa92e.com", "xn--80ak6aa92e.com"),  # a punycode look-alike shown decoded
    ("write to press@evil.com", "write to press@evil.com"),
]
HOSTILE_IDS = ["tilde", "entity", "entity-override", "override", "setext", "code-block",
               "list", "markup", "surrogates", "bare-domain", "url", "punycode",
               "e-mail"]  # fmt: skip


def rendered(text: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(KIBANA_MARKDOWN.render(text), create_parent="div")


@pytest.mark.parametrize(("raw", "shown"), HOSTILE_NAMES, ids=HOSTILE_IDS)
def test_an_incident_title_shows_in_the_markdown_panel_as_written(raw: str, shown: str) -> None:
    facts = replace(FACTS, title=raw)
    page = rendered(markdown_text(facts))
    assert {e.tag for e in page.iter()} - {"div"} <= PANEL_TAGS
    (heading,) = page.xpath("//h3")
    assert " ".join(heading.text_content().split()) == shown


@pytest.mark.parametrize(("raw", "shown"), HOSTILE_NAMES, ids=HOSTILE_IDS)
def test_a_denial_author_shows_in_the_markdown_panel_as_written(raw: str, shown: str) -> None:
    page = rendered(markdown_text(replace(FACTS, denial_by=raw)))
    assert {e.tag for e in page.iter()} - {"div"} <= PANEL_TAGS
    (line,) = [p for p in page.xpath("//p") if "official denial" in p.text_content()]
    assert " ".join(line.text_content().split()).endswith(f" UTC by {shown}")


@pytest.mark.parametrize("obj", BUNDLE, ids=lambda o: o["id"])
def test_migration_versions_are_inside_the_supported_window(obj: dict[str, Any]) -> None:
    assert obj["coreMigrationVersion"] == "8.8.0"
    newest = version_tuple(OLDEST_SUPPORTED_KIBANA)
    assert version_tuple(obj["typeMigrationVersion"]) <= newest
    if obj["type"] in ("lens", "dashboard"):
        assert version_tuple(obj["typeMigrationVersion"]) >= (8, 9, 0)


def test_ndjson_has_one_parseable_object_per_line(tmp_path: Path) -> None:
    written = write_ndjson(BUNDLE, tmp_path / "dash.ndjson")
    lines = written.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == json.loads(json.dumps(BUNDLE))


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("GPU \ud83d\udd25 sabotage \udc00", "GPU \U0001f525 sabotage \\udc00"),
        ("ByteDance\u202e lanruoj", "ByteDance\\u202e lanruoj"),
    ],
    ids=["surrogates", "override"],
)
def test_the_dashboard_title_is_written_as_every_output_shows_it(
    tmp_path: Path, raw: str, shown: str
) -> None:
    """A JSON-style escaped emoji (two surrogate code points, as YAML reads it) and a lone
    surrogate made the export fail with an empty file left; an override reversed the title."""
    written = write_ndjson(build_bundle(PREFIX, [replace(FACTS, title=raw)]), tmp_path / "d.ndjson")
    objects = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    (dashboard,) = [o for o in objects if o["type"] == "dashboard"]
    assert dashboard["attributes"]["title"] == f"spreadwatch: {shown}"


@pytest.mark.parametrize("name", ["dash.json", "dash.ndjson.txt", "dash"])
def test_a_file_name_kibana_would_refuse_is_an_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(BundleError, match=r"\.ndjson"):
        write_ndjson(BUNDLE, tmp_path / name)
    assert not (tmp_path / name).exists()


def test_the_export_is_deterministic() -> None:
    assert to_ndjson(build_bundle(PREFIX, [FACTS])) == to_ndjson(BUNDLE)


def test_dashboard_lists_the_denial_posts() -> None:
    panels = json.loads(DASHBOARD["attributes"]["panelsJSON"])
    (listing,) = [p for p in panels if p["type"] == "search"]
    name = f"{listing['panelIndex']}:{listing['panelRefName']}"
    (ref,) = [r for r in DASHBOARD["references"] if r["name"] == name]
    assert ref == {"type": "search", "id": f"{PREFIX}-search-denial", "name": name}
