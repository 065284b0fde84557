"""`spreadwatch kibana export` right after a cluster starts (the README's compose steps): no data,
no index yet — the export still works and every data view points at an index that exists."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from click.testing import CliRunner
from elasticsearch import Elasticsearch

from indexer.connection import IndexNames
from indexer.kibana.objects import dashboard_id
from indexer.templates import delete_all
from spreadwatch.cli import cli
from spreadwatch.settings import Settings

PROJECT = Path(__file__).resolve().parent.parent


def test_export_on_a_fresh_cluster_creates_the_indices_it_points_at(
    es_client: Elasticsearch, es_settings: Settings, tmp_path: Path
) -> None:
    names = IndexNames(f"{es_settings.index_prefix}-fresh-{uuid.uuid4().hex[:6]}")
    assert not es_client.indices.exists(index=names.posts)
    out = tmp_path / "dashboards.ndjson"
    env = {
        "SPREADWATCH_INDEX_PREFIX": names.prefix,
        "SPREADWATCH_DATA_DIR": str(es_settings.data_dir),
    }
    try:
        result = CliRunner().invoke(
            cli,
            ["kibana", "export", "--out", str(out), "--incidents-dir", str(PROJECT / "incidents")],
            env=env,
        )
        assert result.exit_code == 0, result.output
        objects = [json.loads(line) for line in out.read_text().splitlines()]
        titles = [o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"]
        assert titles == [f"{names.prefix}-posts*", f"{names.prefix}-activity*"]
        for title in titles:
            assert es_client.indices.get(index=title)  # the pattern matches an existing index
        dashboards = [o["id"] for o in objects if o["type"] == "dashboard"]
        assert dashboards == [dashboard_id(names.prefix, "bytedance-intern-2024")]
    finally:
        delete_all(es_client, names)
