"""`python -m crawlers.run`: one crawl in its own process, its run document and summary line."""

from __future__ import annotations

from pathlib import Path

from indexer.spool import Spool

pytest_plugins = ["conftest_crawl"]


def posts(es_client, names) -> dict[str, dict]:
    es_client.indices.refresh(index=names.posts)
    hits = es_client.search(index=names.posts, size=100)["hits"]["hits"]
    return {h["_id"]: h["_source"] for h in hits}


def test_a_crawl_indexes_matching_posts_and_counts_drops(
    crawl_runner, crawl_env, tiny_incident, es_client, index_names
):
    result = crawl_runner(crawl_env, "--incident", str(tiny_incident), "--source", "jsonposts")
    assert result.code == 0, result.stderr[-2000:]
    assert sorted(posts(es_client, index_names)) == ["tiny:1", "tiny:2"]
    summary = result.summary
    assert (summary["status"], summary["items_scraped"], summary["items_indexed"]) == ("ok", 4, 2)
    assert summary["drops"] == {"bad_timestamp": 1, "no_match": 1}
    assert summary["http_status"] == {"200": 1, "404": 1}  # the posts, and robots.txt


def test_the_run_document_is_written_under_the_run_id(
    crawl_runner, crawl_env, tiny_incident, es_client, index_names
):
    crawl_runner(
        crawl_env, "--incident", str(tiny_incident), "--source", "jsonposts", "--run-id", "r-1"
    )
    es_client.indices.refresh(index=index_names.runs)
    run = es_client.get(index=index_names.runs, id="r-1")["_source"]
    assert (run["incident"], run["source"], run["status"], run["job"]) == (
        "tiny-case",
        "jsonposts",
        "ok",
        "crawl",
    )
    assert {d["key"]: d["count"] for d in run["drops"]} == {"bad_timestamp": 1, "no_match": 1}
    assert run["items_indexed"] == 2


def test_a_second_crawl_updates_instead_of_duplicating(
    crawl_runner, crawl_env, tiny_incident, json_server, stored_posts
):
    crawl_runner(crawl_env, "--incident", str(tiny_incident), "--source", "jsonposts")
    json_server.records[0]["likes"] = 99
    second = crawl_runner(crawl_env, "--incident", str(tiny_incident), "--source", "jsonposts")
    summary = second.summary
    assert (summary["items_indexed"], summary["items_updated"], summary["items_unchanged"]) == (
        0,
        1,
        1,
    )
    assert stored_posts()["tiny:1"]["engagement"] == {"likes": 99}


def test_posts_of_a_crawl_while_elasticsearch_is_down_arrive_with_the_next_crawl(
    crawl_runner, crawl_env, tiny_incident, es_client, index_names
):
    down = {
        **crawl_env,
        "SPREADWATCH_ES_URL": "http://127.0.0.1:9",
        "SPREADWATCH_ES_REQUEST_TIMEOUT": "2",
    }
    first = crawl_runner(down, "--incident", str(tiny_incident), "--source", "jsonposts")
    spool = Spool(Path(crawl_env["SPREADWATCH_DATA_DIR"]) / "spool", index_names.prefix)
    assert (first.code, first.summary["status"], first.summary["items_spooled"]) == (
        0,
        "partial",
        2,
    )
    assert len(spool.entries()) == 2
    crawl_runner(crawl_env, "--incident", str(tiny_incident), "--source", "jsonposts")
    assert sorted(posts(es_client, index_names)) == ["tiny:1", "tiny:2"]
    assert spool.entries() == []


def test_unknown_source_is_bad_input_and_recorded_as_failed(
    crawl_runner, crawl_env, tiny_incident, es_client, index_names
):
    result = crawl_runner(crawl_env, "--incident", str(tiny_incident), "--source", "nosuch")
    assert (result.code, result.summary["status"]) == (2, "failed")
    assert "no spider named 'nosuch'" in result.summary["error"]
    es_client.indices.refresh(index=index_names.runs)
    assert es_client.count(index=index_names.runs)["count"] == 1


def test_missing_incident_file_is_bad_input(crawl_runner, crawl_env, tmp_path):
    result = crawl_runner(
        crawl_env, "--incident", str(tmp_path / "nope.yml"), "--source", "jsonposts"
    )
    assert (result.code, result.summary["status"]) == (2, "failed")
    assert "nope.yml" in result.summary["error"]
    assert "Traceback" not in result.stderr
