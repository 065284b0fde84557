"""Capture through a real crawl (`crawlers.run`, replayed Mastodon, the session node): each
matching post's exchange is archived once, re-archived when its text changes (with the old
version kept), and the WARC files never hold the credentials the crawl used.

One scenario, three crawls (first sight, unchanged, edited), shared by the tests below.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest_crawl import PROJECT_ROOT, TESTS, run_crawl
from elasticsearch import Elasticsearch
from social_crawl import write_incident
from social_fixtures import FIXTURES
from warcio.archiveiterator import ArchiveIterator

from indexer.connection import IndexNames
from indexer.templates import delete_all, init
from spreadwatch.replay import ReplayServer
from spreadwatch.replay.mastodon import MastodonData, MastodonReplay

TOKEN = "mastodon-user-token-5f1c"  # a test credential the archive must not hold
ORIGINAL = "mastodon:https://mastodon.social/users/aiwatch/statuses/113329333862400100"
EDITED = "<p>Correction: the ByteDance intern story is unconfirmed.</p>"


@dataclass
class Scenario:
    data_dir: Path
    posts: list[dict[str, Any]]  # the stored posts after each crawl
    records: list[list[Any]]  # the WARC records after each crawl
    summaries: list[dict[str, Any]]
    token_requests: int


def _records(data_dir: Path) -> list[Any]:
    records = []
    for path in sorted((data_dir / "evidence").glob("*/*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                payload = record.content_stream().read()
                records.append((record.rec_type, dict(record.rec_headers.headers), payload))
    return records


@pytest.fixture(scope="module")
def scenario(
    es_settings: Any, es_client: Elasticsearch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    folder = tmp_path_factory.mktemp("capture")
    names = IndexNames(f"{es_settings.index_prefix}-{uuid.uuid4().hex[:6]}")
    init(es_client, names)
    data = MastodonData.load(FIXTURES / "mastodon.json", "mastodon.social")
    section = {"terms": ["bytedance"], "instances": [{"url": "https://mastodon.social", "hashtags": ["bytedance"]}]}  # fmt: skip
    incident = write_incident(folder, {"mastodon": section})
    with ReplayServer(MastodonReplay(data, tokens=(TOKEN,))) as server:
        env = {
            "SPREADWATCH_ES_URL": es_client.transport.node_pool.get().base_url,
            "SPREADWATCH_INDEX_PREFIX": names.prefix,
            "SPREADWATCH_DATA_DIR": str(folder / "data"),
            "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(TESTS)]),
            "SPREADWATCH_MASTODON_BASE_URL": server.url,
            "SPREADWATCH_MASTODON_TOKEN": TOKEN,
        }
        result = Scenario(folder / "data", [], [], [], 0)
        for step in ("first", "unchanged", "edited"):
            if step == "edited":
                status = next(s for s in data.statuses if s["id"] == "113329333862400100")
                status["content"] = EDITED
                status["edited_at"] = "2024-10-20T10:00:00.000Z"
            done = run_crawl(env, "--incident", str(incident), "--source", "mastodon")
            assert done.code == 0, done.stderr[-3000:]
            result.summaries.append(done.summary)
            es_client.indices.refresh(index=names.posts)
            hits = es_client.search(index=names.posts, size=100)["hits"]["hits"]
            result.posts.append({h["_id"]: h["_source"] for h in hits})
            result.records.append(_records(result.data_dir))
        result.token_requests = sum(
            1 for r in server.matching(path=r"/api/") if "authorization" in r.headers
        )
    yield result
    delete_all(es_client, names)


def test_a_matching_post_points_at_the_response_record_that_holds_it(scenario: Scenario) -> None:
    evidence = scenario.posts[0][ORIGINAL]["evidence"]
    responses = {h["WARC-Record-ID"]: (h, body) for t, h, body in scenario.records[0] if t == "response"}  # fmt: skip
    headers, body = responses[evidence["record_id"]]
    assert b"JusticeFighter110" in body
    expected = "sha256:" + base64.b32encode(hashlib.sha256(body).digest()).decode()
    assert evidence["digest"] == headers["WARC-Payload-Digest"] == expected
    assert evidence["warc"].startswith("bytedance-test/") and evidence["warc"].endswith(".warc.gz")
    assert (scenario.data_dir / "evidence" / evidence["warc"]).is_file()


def test_every_response_record_has_its_request_record(scenario: Scenario) -> None:
    records = scenario.records[-1]
    responses = {h["WARC-Record-ID"] for t, h, _ in records if t == "response"}
    concurrent = {h.get("WARC-Concurrent-To") for t, h, _ in records if t == "request"}
    assert responses and responses == concurrent


def test_no_credential_reaches_the_archive(scenario: Scenario) -> None:
    assert scenario.token_requests > 0, "the crawl should have sent its token"
    files = list((scenario.data_dir / "evidence").glob("*/*.warc.gz"))
    raw = b"".join(gzip.decompress(f.read_bytes()) for f in files)
    # Whichever authenticated request brought a post first (tag timeline or search) is archived ...
    assert re.search(rb"GET /api/v(1/timelines/tag/bytedance|2/search)\?", raw)
    assert TOKEN.encode() not in raw  # ... is archived without its token
    assert b"authorization:" not in raw.lower()


def test_an_unchanged_post_is_not_archived_again(scenario: Scenario) -> None:
    assert len(scenario.records[1]) == len(scenario.records[0])
    assert scenario.posts[1][ORIGINAL]["evidence"] == scenario.posts[0][ORIGINAL]["evidence"]
    assert scenario.summaries[1]["edited"] == 0


def test_an_edited_post_keeps_its_old_version_and_gets_a_new_capture(scenario: Scenario) -> None:
    before, after = scenario.posts[1][ORIGINAL], scenario.posts[2][ORIGINAL]
    assert after["text"] == "Correction: the ByteDance intern story is unconfirmed."
    assert after["edited_at"]
    [version] = after["versions"]
    assert (version["text"], version["evidence"]) == (before["text"], before["evidence"])
    assert version["seen_until"] == before["last_seen"]
    assert after["evidence"]["record_id"] != before["evidence"]["record_id"]
    assert scenario.summaries[2]["edited"] == 1
