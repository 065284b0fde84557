"""Search output and the report mark deleted and edited posts and point at their archived copies."""

from __future__ import annotations

from typing import Any

from indexer.search import SearchRequest, search_posts
from spreadwatch.cli._output import render_search
from spreadwatch.report.data import collect
from spreadwatch.report.render import render_html

EVIDENCE = {
    "warc": "bytedance-intern-2024/2024-10-18.warc.gz",
    "record_id": "<urn:uuid:0b8c9d8e-0000-4000-8000-000000000001>",
    "digest": "sha256:ABC",
    "captured_at": "2024-10-18T09:01:02+00:00",
    "uri": "https://m.weibo.cn/api/container/getIndex?containerid=100103",
}
REPLAY = "http://127.0.0.1:8080/evidence"


def _posts(es_client: Any, names: Any) -> None:
    base = {"incident": ["bytedance-intern-2024"], "kind": "post", "stance": "rumour", "reach": 100}
    docs = {
        "weibo:1": {**base, "@timestamp": "2024-10-18T08:00:00+00:00", "platform": "weibo", "native_id": "1",
                    "text": "<b>8000张H100</b> intern rumour", "author": {"handle": "leaker"},
                    "evidence": EVIDENCE, "deleted_at": "2024-10-20T01:00:00+00:00", "deleted_how": "weibo:deleted"},
        "weibo:2": {**base, "@timestamp": "2024-10-18T09:00:00+00:00", "platform": "weibo", "native_id": "2",
                    "text": "corrected intern story", "author": {"handle": "editor"},
                    "edited_at": "2024-10-19T01:00:00+00:00", "versions": [{"text": "intern story"}]},
        "weibo:3": {**base, "@timestamp": "2024-10-18T10:00:00+00:00", "platform": "weibo", "native_id": "3",
                    "text": "an intern post nobody touched", "author": {"handle": "quiet"}},
    }  # fmt: skip
    for doc_id, doc in docs.items():
        es_client.index(index=names.posts, id=doc_id, document=doc)
    es_client.indices.refresh(index=names.posts)


def test_search_rows_say_deleted_or_edited_and_link_the_archived_copy(es_client, index_names) -> None:  # fmt: skip
    _posts(es_client, index_names)
    result = search_posts(es_client, index_names, SearchRequest(query="intern", sort="oldest"), REPLAY)  # fmt: skip
    rows = {r.id: r for r in result.rows}
    assert rows["weibo:1"].status == "deleted (weibo:deleted)"
    assert rows["weibo:1"].archived == f"{REPLAY}/20241018090102/{EVIDENCE['uri']}"
    assert rows["weibo:2"].status == "edited (1 earlier)" and rows["weibo:3"].status == ""
    table = render_search(result, "table")
    assert "[deleted] <b>8000张H100</b>" in table and "[edited] corrected" in table


def test_without_a_replay_server_the_archived_copy_is_named_by_file_and_record(es_client, index_names) -> None:  # fmt: skip
    _posts(es_client, index_names)
    result = search_posts(es_client, index_names, SearchRequest(query="8000"))
    assert result.rows[0].archived == f"evidence/{EVIDENCE['warc']}#{EVIDENCE['record_id']}"


def test_the_report_lists_deleted_and_edited_posts_escaped(es_client, index_names) -> None:
    _posts(es_client, index_names)
    data = collect(es_client, index_names, "bytedance-intern-2024", replay_url=REPLAY)
    assert [p.id for p in data.changed] == ["weibo:1", "weibo:2"]
    page = render_html(data)
    section = page[page.index('id="evidence"') :]
    assert "deleted (weibo:deleted)" in section and "&lt;b&gt;8000张H100" in section
    assert f'href="{REPLAY}/20241018090102/' in section
