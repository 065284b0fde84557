"""Rendered captures: a statement page as headless Chromium shows it (its scripts ran), archived
as a screenshot and a DOM that refer to the post's archived response; rendered again only when
the post's archived text changed; a missing browser is a clear, counted failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from evidence.recheck import render_pages
from evidence.render import Rendered, archive_rendering
from evidence.retention import prune
from evidence.warcstore import Exchange, WarcStore
from indexer.evidence_queries import referenced_records
from spreadwatch.replay import ReplayServer
from spreadwatch.replay.pages import PagesData, PagesReplay

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Statement</title></head>
<body><article><p>ByteDance: the intern was dismissed in August.</p><p id="late"></p></article>
<script>document.getElementById("late").textContent = "Added by the page's script.";</script>
</body></html>"""
RECORD = "<urn:uuid:11111111-2222-4333-8444-555555555555>"


def _statement(es_client: Any, names: Any) -> None:
    doc = {
        "@timestamp": "2024-10-19T04:30:00+00:00",
        "incident": ["bytedance-test"],
        "platform": "toutiao",
        "native_id": "statement-1",
        "kind": "statement",
        "url": "https://www.toutiao.com/article/1/",
        "text": "ByteDance: the intern was dismissed in August.",
        "author": {"official": True, "handle": "bytedance"},
        "evidence": {"record_id": RECORD, "warc": "x.warc.gz", "digest": "sha256:X"},
    }
    es_client.index(index=names.posts, id="toutiao:statement-1", document=doc, refresh=True)


def _resources(data_dir: Path) -> dict[str, Any]:
    found = {}
    for path in (data_dir / "evidence").glob("*/*.warc.gz"):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "resource":
                    headers = record.rec_headers
                    found[headers.get_header("WARC-Target-URI")] = (headers, record.content_stream().read())  # fmt: skip
    return found


@pytest.fixture
def pages() -> Any:
    with ReplayServer(PagesReplay(PagesData(pages={"/article/1/": PAGE}))) as server:
        yield server


def test_a_statement_page_is_archived_as_rendered(
    es_client: Any, index_names: Any, settings_for: Any, pages: Any, tmp_path: Path
) -> None:
    _statement(es_client, index_names)
    settings = settings_for(index_prefix=index_names.prefix, data_dir=tmp_path, pages_base_url=pages.url)  # fmt: skip
    counts = render_pages(es_client, index_names, settings, "bytedance-test", ["pages"])
    assert counts == {"rendered": 1, "unchanged": 0, "failed": 0, "refused": 0}
    resources = _resources(tmp_path)
    view_headers, png = resources["urn:view:https://www.toutiao.com/article/1/"]
    _, dom = resources["urn:dom:https://www.toutiao.com/article/1/"]
    assert png.startswith(b"\x89PNG") and b"Added by the page's script." in dom
    assert view_headers.get_header("WARC-Refers-To") == RECORD
    es_client.indices.refresh(index=index_names.posts)
    rendered = es_client.get(index=index_names.posts, id="toutiao:statement-1")["_source"]["rendered"]  # fmt: skip
    assert rendered["of"] == RECORD and rendered["screenshot"].startswith("<urn:uuid:")
    again = render_pages(es_client, index_names, settings, "bytedance-test", ["pages"])
    assert again == {"rendered": 0, "unchanged": 1, "failed": 0, "refused": 0}


def test_without_a_browser_rendering_fails_clearly(
    es_client: Any, index_names: Any, settings_for: Any, tmp_path: Path, caplog: Any
) -> None:
    _statement(es_client, index_names)
    settings = settings_for(index_prefix=index_names.prefix, data_dir=tmp_path, chromium_command="no-such-chromium")  # fmt: skip
    counts = render_pages(es_client, index_names, settings, "bytedance-test", ["pages"])
    assert counts["failed"] == 1 and "no-such-chromium" in caplog.text


def test_a_page_on_a_private_network_is_not_rendered_unless_allowed(  # noqa: PLR0917 (fixtures)
    es_client: Any, index_names: Any, settings_for: Any, pages: Any, tmp_path: Path, caplog: Any
) -> None:
    """The browser would connect on its own: the address is judged before it starts (`true`
    stands in for Chromium, so a page that got through would count as failed, not refused)."""
    _statement(es_client, index_names)
    settings = settings_for(index_prefix=index_names.prefix, data_dir=tmp_path, pages_base_url=pages.url, chromium_command="true", allow_private_networks="")  # fmt: skip
    counts = render_pages(es_client, index_names, settings, "bytedance-test", ["pages"])
    assert counts == {"rendered": 0, "unchanged": 0, "failed": 0, "refused": 1}
    assert "127.0.0.1 (loopback)" in caplog.text and pages.requests == []


def test_retention_keeps_the_rendered_captures_a_post_points_at(
    es_client: Any, index_names: Any, tmp_path: Path
) -> None:
    """A page is rendered by a later re-check than the crawl that archived its response, so the
    screenshot and DOM land in another day file; past retention they stay while the post's
    `rendered` field points at them, as its response does."""
    store = WarcStore(tmp_path, "bytedance-test")
    crawled = datetime(2024, 10, 19, 4, 40, tzinfo=UTC)
    response = store.write_exchange(Exchange("https://www.toutiao.com/article/1/", 200, [], PAGE.encode(), fetched_at=crawled))  # fmt: skip
    shot = Rendered(screenshot=b"\x89PNG screenshot", dom=b"<html>rendered</html>")
    rendered = archive_rendering(store, "https://www.toutiao.com/article/1/", shot, response.record_id)  # fmt: skip
    doc = {
        "@timestamp": "2024-10-19T04:30:00+00:00", "incident": ["bytedance-test"],
        "platform": "toutiao", "native_id": "statement-1", "kind": "statement",
        "url": "https://www.toutiao.com/article/1/", "evidence": response.as_field(),
        "rendered": rendered,
    }  # fmt: skip
    es_client.index(index=index_names.posts, id="toutiao:statement-1", document=doc, refresh=True)
    keep = referenced_records(es_client, index_names, "bytedance-test")
    # Rendered today; a year on, both day files are past retention.
    report = prune(tmp_path, "bytedance-test", keep, days=30, now=datetime.now(UTC) + timedelta(days=365))  # fmt: skip
    assert report.files == 2
    resources = _resources(tmp_path)
    assert sorted(resources) == ["urn:dom:https://www.toutiao.com/article/1/", "urn:view:https://www.toutiao.com/article/1/"]  # fmt: skip
    assert {h.get_header("WARC-Record-ID") for h, _ in resources.values()} == {rendered["screenshot"], rendered["dom"]}  # fmt: skip
