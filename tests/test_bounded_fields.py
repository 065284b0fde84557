"""Bounded fields and dead letters: an over-long value never costs a post, and a document the
cluster refuses for its content is tried twice, then kept aside — never replayed forever."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from crawlers.ingest import Ingest, IngestContext
from crawlers.items import Author, Post
from indexer.connection import IndexNames
from indexer.documents import KEYWORD_MAX_CHARS
from indexer.spool import Spool, spool_summary
from indexer.writer import BulkWriter
from spreadwatch.incident import Incident

INCIDENT = Incident.model_validate(
    {
        "id": "case",
        "title": "t",
        "window": {"start": "2024-10-01T00:00:00Z"},
        "queries": [{"name": "en", "any": ["ByteDance intern"]}],
    }
)
HANDLE = "h" * 40_000  # a 40,000-character handle: one "immense term" for Lucene


def post(native_id: str, **fields: Any) -> Post:
    values: dict[str, Any] = {"platform": "mastodon", "native_id": native_id,
              "timestamp": "2024-10-18T08:00:00Z", "text": "ByteDance intern rumour",
              "author": Author(id="u1", handle="someone", followers=3)}  # fmt: skip
    values.update(fields)
    return Post(**values)


def test_an_over_long_keyword_is_cut_flagged_and_counted_and_the_post_stored(
    settings_for, index_names: IndexNames, es_client: Elasticsearch
) -> None:
    ingest = Ingest(IngestContext.build(settings_for(index_prefix=index_names.prefix), INCIDENT, spider_name="x"))  # fmt: skip
    ingest.process(post("1", author=Author(id="u1", handle=HANDLE), hashtags=["#" + "t" * 9000]))
    ingest.process(post("x" * 5000))  # an id too long for Elasticsearch's 512-byte _id
    ingest.close()
    stats = ingest.stats()
    es_client.indices.refresh(index=index_names.posts)
    stored = {h["_source"]["native_id"]: h["_source"] for h in es_client.search(index=index_names.posts)["hits"]["hits"]}  # fmt: skip
    assert len(stored) == 2 and stats.get("spreadwatch/writer/spooled", 0) == 0
    first = stored["1"]
    assert len(first["author"]["handle"]) == KEYWORD_MAX_CHARS and first["truncated"] is True
    assert len(first["hashtags"][0]) == KEYWORD_MAX_CHARS
    long_id = next(k for k in stored if k != "1")
    assert long_id.startswith("xxx") and "~" in long_id and len(long_id.encode()) <= 400
    assert stats["spreadwatch/truncated/author.handle"] == 1
    assert stats["spreadwatch/truncated/native_id"] == 1


def test_a_keyword_past_ignore_above_written_directly_is_kept_not_refused(
    es_client: Elasticsearch, index_names: IndexNames, tmp_path: Path
) -> None:
    writer = BulkWriter(es_client, index_names, tmp_path / "spool")
    writer.add_post({"platform": "x", "native_id": "1", "@timestamp": "2024-10-18T08:00:00Z",
                     "kind": "post", "text": "t", "author": {"handle": HANDLE}})  # fmt: skip
    stats = writer.close()
    assert (stats.indexed_new, stats.spooled) == (1, 0)


def refused_doc(native_id: str) -> dict[str, Any]:
    """A post the mapping refuses for its content: a count that is not a number."""
    return {"platform": "x", "native_id": native_id, "@timestamp": "2024-10-18T08:00:00Z",
            "kind": "post", "text": "t", "engagement": {"likes": "many"}}  # fmt: skip


def test_a_document_refused_for_its_content_twice_becomes_a_dead_letter(
    es_client: Elasticsearch, index_names: IndexNames, tmp_path: Path
) -> None:
    folder = tmp_path / "spool"
    first = BulkWriter(es_client, index_names, folder)
    first.add_post(refused_doc("bad"))
    first.add_post({**refused_doc("good"), "engagement": {"likes": 3}})
    assert first.close().spooled == 1
    second = BulkWriter(es_client, index_names, folder)  # replays it: refused again
    stats = second.close()
    spool = Spool(folder, index_names.prefix)
    assert (stats.dead_lettered, spool.entries()) == (1, [])
    [dead] = spool.dead_letters()
    assert (dead.doc["native_id"], dead.attempts) == ("bad", 2) and dead.reason.startswith(
        "content"
    )
    third = BulkWriter(es_client, index_names, folder).close()
    assert (third.spool_replayed, third.spooled) == (0, 0)  # never replayed again
    assert spool_summary(folder)[index_names.prefix]["dead_letters"] == 1


def test_status_counts_what_an_interrupted_replay_left(tmp_path: Path) -> None:
    from indexer.spool import SpoolEntry

    spool = Spool(tmp_path, "sw")
    spool.append([SpoolEntry("post", {"native_id": str(n)}, "unreachable: x") for n in range(3)])
    crashed = tmp_path / "sw.jsonl.replaying.999999.abcd"  # a pid that no longer runs
    (tmp_path / "sw.jsonl").rename(crashed)
    spool.append([SpoolEntry("post", {"native_id": "4"}, "unreachable: x")])
    assert spool_summary(tmp_path)["sw"]["documents"] == 4
