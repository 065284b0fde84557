"""`spreadwatch crawl`: subprocess per source, summary table, runs recorded, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from spreadwatch.cli import cli

pytest_plugins = ["conftest_crawl"]


@pytest.fixture
def invoke(crawl_env, monkeypatch):  # type: ignore[no-untyped-def]
    """Run the CLI with the crawl environment (this test's indices, the test spiders)."""
    for name, value in crawl_env.items():
        monkeypatch.setenv(name, value)

    def call(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return call


def test_crawl_prints_a_summary_row_per_source(invoke, tiny_incident):
    result = invoke(
        "crawl", str(tiny_incident), "--source", "jsonposts", "--spider-module", "crawl_spiders"
    )
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "jsonposts" in line and "│" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[:6] == ["jsonposts", "ok", "2", "0", "0", "0"]
    assert cells[6] == "bad_timestamp 1, no_match 1"
    assert cells[7] == "200 1, 404 1"


def test_json_format_prints_one_summary_per_source(invoke, tiny_incident):
    result = invoke(
        "crawl",
        str(tiny_incident),
        "--source",
        "jsonposts",
        "--spider-module",
        "crawl_spiders",
        "--format",
        "json",
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["source"], summary["status"], summary["items_indexed"]) == (
        "jsonposts",
        "ok",
        2,
    )


def test_crawl_records_the_run(invoke, tiny_incident, es_client, index_names):
    invoke("crawl", str(tiny_incident), "--source", "jsonposts", "--spider-module", "crawl_spiders")
    es_client.indices.refresh(index=index_names.runs)
    runs = es_client.search(index=index_names.runs)["hits"]["hits"]
    assert [(r["_source"]["source"], r["_source"]["status"]) for r in runs] == [("jsonposts", "ok")]


@pytest.mark.parametrize("deferred", ["true", "false"])
def test_every_post_crawled_carries_the_heads_label_when_the_command_ends(
    invoke, tiny_incident, stored_posts, monkeypatch, deferred
):
    """Deferred (the default), the crawl writes the lexicon's label and the command has the
    head label what waits before it returns; per batch, the crawl's writer already did."""
    monkeypatch.setenv("SPREADWATCH_STANCE_DEFERRED", deferred)
    result = invoke(
        "crawl", str(tiny_incident), "--source", "jsonposts", "--spider-module", "crawl_spiders"
    )
    posts = stored_posts()
    assert len(posts) == 2
    assert {(d["stance_source"], bool(d.get("stance_pending"))) for d in posts.values()} == {
        ("model", False)
    }
    said = "stance: 2 posts labelled by the model"
    assert (said in result.stderr) is (deferred == "true")


def test_a_failed_source_makes_the_command_fail(invoke, tiny_incident):
    # With plugin spider modules a name is only known when the crawl looks for it.
    result = invoke(
        "crawl", str(tiny_incident), "--source", "nosuch", "--spider-module", "crawl_spiders"
    )
    assert result.exit_code == 1
    assert "no spider named 'nosuch'" in result.output


def test_a_crawl_past_its_timeout_is_stopped_and_recorded(
    invoke, tiny_incident, es_client, index_names
):
    result = invoke(
        "crawl",
        str(tiny_incident),
        "--source",
        "jsonposts",
        "--spider-module",
        "crawl_spiders",
        "--timeout",
        "0.5",
    )
    assert result.exit_code == 1
    es_client.indices.refresh(index=index_names.runs)
    runs = es_client.search(index=index_names.runs)["hits"]["hits"]
    assert [r["_source"]["status"] for r in runs] == ["timeout"]


def test_unknown_incident_id_is_a_one_line_error(crawl_env, monkeypatch, tmp_path):
    for name, value in crawl_env.items():
        monkeypatch.setenv(name, value)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "spreadwatch",
            "crawl",
            "no-such-incident",
            "--incidents-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: no incident file with id 'no-such-incident' in {tmp_path}; pass a path to the file"
    ]


def test_spooled_documents_are_pointed_out(invoke, tiny_incident, monkeypatch, crawl_env):
    monkeypatch.setenv("SPREADWATCH_ES_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SPREADWATCH_ES_REQUEST_TIMEOUT", "2")
    result = invoke(
        "crawl", str(tiny_incident), "--source", "jsonposts", "--spider-module", "crawl_spiders"
    )
    assert result.exit_code == 0, result.output
    assert "note: 2 documents are waiting in" in result.stderr
    assert crawl_env["SPREADWATCH_DATA_DIR"] in result.stderr
    assert "note: the model's stance labels are not written yet" in result.stderr


def test_an_unknown_source_is_refused_before_anything_runs(invoke, tiny_incident):
    result = invoke("crawl", str(tiny_incident), "--source", "myspace")
    assert result.exit_code == 2
    assert "unknown source 'myspace' (known: bluesky, feeds, github," in result.output
