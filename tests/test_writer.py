"""The bulk writer against the real node: upserts, snapshots, and the spool."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from elasticsearch import Elasticsearch, helpers

from indexer.connection import IndexNames
from indexer.spool import Spool, SpoolEntry
from indexer.writer import BulkWriter

from es_relay import BulkGate, LostReply, Proxy  # isort: skip


def post(native_id: str = "1", **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@timestamp": "2024-10-18T08:00:00+00:00",
        "platform": "github",
        "native_id": native_id,
        "kind": "repo",
        "incident": ["bytedance-intern-2024"],
        "title": "JusticeFighter110",
        "text": "recording of the ByteDance intern",
        "engagement": {"stars": 10},
        "first_seen": "2024-10-18T09:00:00+00:00",
        "last_seen": "2024-10-18T09:00:00+00:00",
    }
    doc.update(fields)
    return doc


def stored(client: Elasticsearch, names: IndexNames, doc_id: str) -> dict[str, Any]:
    return client.get(index=names.posts, id=doc_id)["_source"]


def count(client: Elasticsearch, index: str, **term: Any) -> int:
    client.indices.refresh(index=index)
    query = {"term": term} if term else {"match_all": {}}
    return int(client.count(index=index, query=query)["count"])


@pytest.fixture
def writer_for(es_client: Elasticsearch, index_names: IndexNames, tmp_path: Path):  # type: ignore[no-untyped-def]
    def build(client: Elasticsearch = es_client, **options: Any) -> BulkWriter:
        return BulkWriter(client, index_names, tmp_path / "spool", **options)

    return build


@pytest.fixture
def dead_client() -> Elasticsearch:
    """A client pointed at a closed port: what the writer sees when the node is down."""
    return Elasticsearch("http://127.0.0.1:9", request_timeout=2, max_retries=0)


def test_second_write_of_the_same_post_updates_instead_of_duplicating(
    es_client, index_names, writer_for
):
    for _ in range(2):
        writer = writer_for()
        writer.add_post(post())
        writer.close()
    assert count(es_client, index_names.posts) == 1
    assert es_client.exists(index=index_names.posts, id="github:1")


def test_second_identical_write_counts_as_unchanged(writer_for):
    first = writer_for()
    first.add_post(post())
    stats_first = first.close()
    second = writer_for()
    second.add_post(post(last_seen="2024-10-19T09:00:00+00:00"))
    stats = second.close()
    assert (stats_first.indexed_new, stats.indexed_new, stats.unchanged) == (1, 0, 1)


def test_changed_engagement_replaces_counts_and_adds_activity_snapshots(
    es_client, index_names, writer_for
):
    writer = writer_for()
    writer.add_post(post())
    writer.close()
    writer = writer_for()
    writer.add_post(post(engagement={"stars": 250}, last_seen="2024-10-19T09:00:00+00:00"))
    stats = writer.close()
    assert stored(es_client, index_names, "github:1")["engagement"] == {"stars": 250}
    assert stats.updated == 1
    es_client.indices.refresh(index=index_names.activity)
    hits = es_client.search(
        index=index_names.activity, query={"term": {"post_id": "github:1"}}, sort=["@timestamp"]
    )["hits"]["hits"]
    assert [(h["_source"]["@timestamp"][:10], h["_source"]["engagement"]) for h in hits] == [
        ("2024-10-18", {"stars": 10}),
        ("2024-10-19", {"stars": 250}),
    ]


def test_unchanged_engagement_adds_no_snapshot(es_client, index_names, writer_for):
    for day in (18, 19):
        writer = writer_for()
        writer.add_post(post(last_seen=f"2024-10-{day}T09:00:00+00:00"))
        writer.close()
    assert count(es_client, index_names.activity) == 0


def test_recrawl_keeps_first_seen_and_advances_last_seen(es_client, index_names, writer_for):
    writer = writer_for()
    writer.add_post(post())
    writer.close()
    writer = writer_for()
    later = "2024-10-20T09:00:00+00:00"
    writer.add_post(post(first_seen=later, last_seen=later))
    writer.close()
    doc = stored(es_client, index_names, "github:1")
    assert (doc["first_seen"], doc["last_seen"]) == ("2024-10-18T09:00:00+00:00", later)


def test_post_found_by_two_incidents_lists_both(es_client, index_names, writer_for):
    writer = writer_for()
    writer.add_post(post(incident=["bytedance-intern-2024"], matched={"queries": ["zh-intern"]}))
    writer.close()
    writer = writer_for()
    writer.add_post(post(incident=["gpu-sabotage"], matched={"queries": ["en-sabotage"]}))
    writer.close()
    doc = stored(es_client, index_names, "github:1")
    assert doc["incident"] == ["bytedance-intern-2024", "gpu-sabotage"]
    assert doc["matched"]["queries"] == ["zh-intern", "en-sabotage"]


def test_empty_values_in_a_recrawl_do_not_erase_stored_ones(es_client, index_names, writer_for):
    writer = writer_for()
    writer.add_post(post(author={"handle": "jf110", "followers": 42}))
    writer.close()
    writer = writer_for()
    writer.add_post(post(author={"handle": "jf110", "followers": None}, text=""))
    writer.close()
    doc = stored(es_client, index_names, "github:1")
    assert (doc["author"]["followers"], doc["text"]) == (42, "recording of the ByteDance intern")


def test_batches_are_written_when_they_reach_the_batch_size(es_client, index_names, writer_for):
    writer = writer_for(batch_size=3, flush_seconds=3600)
    for number in range(7):
        writer.add_post(post(str(number)))
    assert count(es_client, index_names.posts) == 6
    writer.close()
    assert count(es_client, index_names.posts) == 7


def test_a_batch_older_than_flush_seconds_is_written_on_the_next_add(
    es_client, index_names, writer_for
):
    writer = writer_for(batch_size=1000, flush_seconds=0)
    writer.add_post(post("a"))
    assert count(es_client, index_names.posts) == 1
    writer.close()


def test_unreachable_cluster_spools_every_document(writer_for, dead_client, tmp_path):
    writer = writer_for(client=dead_client)
    writer.add_post(post("1"))
    writer.add_post(post("2"))
    writer.add_activity(
        {
            "platform": "github",
            "event": "star",
            "native_id": "x",
            "@timestamp": "2024-10-18T10:00:00Z",
        }
    )
    stats = writer.close()
    entries = Spool(tmp_path / "spool", writer.names.prefix).entries()
    assert stats.spooled == 3
    assert sorted(e.doc["native_id"] for e in entries) == ["1", "2", "x"]
    assert all(e.reason.startswith("unreachable") for e in entries)


def test_spooled_documents_are_replayed_by_the_next_writer(
    es_client, index_names, writer_for, dead_client, tmp_path
):
    down = writer_for(client=dead_client)
    for number in range(5):
        down.add_post(post(str(number)))
    down.close()
    up = writer_for()
    stats = up.close()
    assert (stats.spool_replayed, count(es_client, index_names.posts)) == (5, 5)
    assert Spool(tmp_path / "spool", index_names.prefix).entries() == []


def test_a_large_spool_is_replayed_in_batches_of_the_writers_size(
    es_client, index_names, writer_for, tmp_path, caplog
):
    """After a long outage the spool holds more than one bulk request should: it is read and
    written `batch_size` at a time (counted on the wire: the client's request log)."""
    Spool(tmp_path / "spool", index_names.prefix).append(
        SpoolEntry("post", post(str(n)), "unreachable: test") for n in range(1200)
    )
    with caplog.at_level(logging.INFO, logger="elastic_transport.transport"):
        stats = writer_for(batch_size=500).close()
    reads = [r for r in caplog.records if "/_mget" in r.getMessage()]
    assert len(reads) == 3  # 500 + 500 + 200 stored posts looked up, not 1,200 in one
    assert (stats.spool_replayed, count(es_client, index_names.posts)) == (1200, 1200)
    assert Spool(tmp_path / "spool", index_names.prefix).entries() == []


def test_mapping_error_stays_spooled_with_reason_and_the_rest_is_written(
    es_client, index_names, writer_for, tmp_path
):
    writer = writer_for()
    writer.add_post(post("good-1"))
    writer.add_post(post("bad", engagement={"stars": "a lot"}))
    writer.add_post(post("good-2"))
    stats = writer.close()
    assert count(es_client, index_names.posts) == 2
    entries = Spool(tmp_path / "spool", index_names.prefix).entries()
    assert [e.doc["native_id"] for e in entries] == ["bad"]
    assert entries[0].reason.startswith("content:")
    assert "stars" in entries[0].reason
    assert stats.rejected_by_reason == {"content": 1}


def test_mapping_error_is_spooled_for_one_retry_then_kept_as_a_dead_letter(
    es_client, index_names, writer_for, tmp_path
):
    writer = writer_for()
    writer.add_post(post("bad", engagement={"stars": "a lot"}))
    writer.close()
    spool = Spool(tmp_path / "spool", index_names.prefix)
    assert [e.doc["native_id"] for e in spool.entries()] == ["bad"]
    writer_for().close()  # the retry: refused again (tests/test_bounded_fields.py)
    assert [e.doc["native_id"] for e in spool.dead_letters()] == ["bad"]


@pytest.mark.parametrize(
    "broken",
    [
        {"platform": "github", "text": "no id"},
        {"native_id": "7", "text": "no platform"},
    ],
)
def test_document_without_an_id_is_spooled_not_dropped(writer_for, broken, tmp_path):
    writer = writer_for()
    writer.add_post(broken)
    stats = writer.close()
    entries = Spool(tmp_path / "spool", writer.names.prefix).entries()
    assert [e.doc for e in entries] == [broken]
    assert stats.rejected_by_reason == {"missing_id": 1}


def test_activity_points_are_written_once_per_id(es_client, index_names, writer_for):
    star = {
        "platform": "github",
        "event": "star",
        "native_id": "JusticeFighter110/repo:alice",
        "@timestamp": "2024-10-18T10:00:00Z",
        "repo": "JusticeFighter110/repo",
    }
    for _ in range(2):
        writer = writer_for()
        writer.add_activity(dict(star))
        stats = writer.close()
    assert stats.activity_written == 1
    assert count(es_client, index_names.activity) == 1


def test_node_lost_mid_crawl_then_back_every_post_is_there_exactly_once(
    es_client, index_names, writer_for
):
    node = urlsplit(es_client.transport.node_pool.get().base_url)
    proxy = Proxy((node.hostname, node.port))
    through_proxy = Elasticsearch(
        f"http://127.0.0.1:{proxy.port}", request_timeout=5, max_retries=0
    )
    writer = writer_for(client=through_proxy, batch_size=4, flush_seconds=3600)
    for number in range(4):
        writer.add_post(post(str(number)))  # the fourth fills the batch: written
    proxy.cut()
    for number in range(4, 10):
        writer.add_post(post(str(number)))
    lost = writer.close()
    recovered = writer_for().close()
    es_client.indices.refresh(index=index_names.posts)
    ids = sorted(h["_id"] for h in helpers.scan(es_client, index=index_names.posts))
    assert (lost.indexed_new, lost.spooled, recovered.spool_replayed) == (4, 6, 6)
    assert ids == sorted(f"github:{n}" for n in range(10))


def test_a_document_that_is_not_json_is_spooled_and_the_rest_written(
    es_client, index_names, writer_for, tmp_path
):
    writer = writer_for()
    writer.add_post(post("good"))
    writer.add_post(post("odd", hashtags={"a set", "is not JSON"}))
    writer.close()
    entries = Spool(tmp_path / "spool", index_names.prefix).entries()
    assert [(e.doc["native_id"], e.reason.split(":")[0]) for e in entries] == [("odd", "content")]
    assert count(es_client, index_names.posts) == 1


def test_background_writer_writes_every_batch_once_and_in_order(es_client, index_names, writer_for):
    writer = writer_for(batch_size=50, flush_seconds=3600, background=True)
    for round_ in range(2):  # the second round re-crawls every post with new engagement
        for number in range(300):
            writer.add_post(post(str(number), engagement={"stars": round_}, last_seen=f"2024-10-1{8 + round_}T09:00:00+00:00"))  # fmt: skip
    stats = writer.close()
    assert (stats.indexed_new, stats.updated, stats.spooled) == (300, 300, 0)
    assert count(es_client, index_names.posts) == 300
    assert stored(es_client, index_names, "github:299")["engagement"] == {"stars": 1}


def test_background_writer_spools_when_the_node_is_down(writer_for, dead_client, tmp_path):
    writer = writer_for(client=dead_client, batch_size=10, background=True)
    for number in range(25):
        writer.add_post(post(str(number)))
    stats = writer.close()
    assert stats.spooled == 25
    assert len(Spool(tmp_path / "spool", writer.names.prefix).entries()) == 25


def test_a_callback_after_durable_runs_once_the_documents_before_it_are_stored(
    es_client, index_names, writer_for
):
    writer = writer_for(batch_size=1000)
    seen_at_callback: list[bool] = []
    writer.add_post(post("1"))
    writer.add_post(post("2"))
    writer.after_durable(
        lambda: seen_at_callback.append(
            bool(es_client.exists(index=index_names.posts, id="github:2"))
        )
    )
    assert seen_at_callback == []  # still buffered: nothing vouched for yet
    writer.close()
    assert seen_at_callback == [True]


def test_documents_spooled_because_the_node_is_down_are_durable_too(writer_for, dead_client):
    writer = writer_for(client=dead_client)
    calls: list[str] = []
    writer.add_post(post("1"))
    writer.after_durable(lambda: calls.append("committed"))
    stats = writer.close()
    assert (stats.spooled, stats.lost, calls) == (1, 0, ["committed"])


def test_a_spooled_document_holds_its_checkpoint_when_the_crawl_state_is_shared(
    writer_for, dead_client, es_client
):
    """With the state in Elasticsearch the next crawl may run on another host, which never sees
    this host's spool: only an ack from Elasticsearch lets a checkpoint commit."""
    calls: list[str] = []
    writer = writer_for(client=dead_client, spool_is_durable=False)
    writer.add_post(post("1"))
    writer.after_durable(lambda: calls.append("spooled"))
    held = writer.close()
    replaying = writer_for(client=es_client, spool_is_durable=False)  # the cluster is back
    replaying.add_post(post("2"))
    replaying.after_durable(lambda: calls.append("acked"))
    replayed = replaying.close()
    assert (held.spooled, held.checkpoints_held, held.lost) == (1, 1, 0)
    assert (replayed.spool_replayed, replayed.checkpoints_held, calls) == (1, 0, ["acked"])


def fill_the_disk(writer: BulkWriter) -> None:
    """From now on the spool file cannot take a byte: it is /dev/full (ENOSPC on every write)."""
    writer.spool.dir.mkdir(parents=True, exist_ok=True)
    writer.spool.path.symlink_to("/dev/full")


def test_a_spool_that_cannot_be_written_counts_the_lost_and_runs_no_later_callback(
    writer_for, dead_client
):
    writer = writer_for(client=dead_client)
    fill_the_disk(writer)
    calls: list[str] = []
    for n in range(3):
        writer.add_post(post(str(n)))
    writer.after_durable(lambda: calls.append("first"))
    writer.flush()
    writer.add_post(post("later"))
    writer.after_durable(lambda: calls.append("second"))
    stats = writer.close()
    assert (stats.lost, stats.spooled, calls) == (4, 0, [])


def gated_writer(writer_for, es_client: Elasticsearch) -> tuple[BulkWriter, BulkGate]:  # type: ignore[no-untyped-def]
    gate = BulkGate.to(es_client)
    return writer_for(client=gate.client(), flush_seconds=3600), gate


@pytest.mark.parametrize(
    ("stored_first", "slow", "fast", "expected"),
    [
        # Two incidents' crawls find the same new post at once: both incidents stay on it.
        (None, {"incident": ["a"]}, {"incident": ["b"]}, {"incident": ["b", "a"]}),
        # A stored post re-crawled by two crawls at once: both incidents stay on it.
        (
            {"incident": ["a"]},
            {"incident": ["b"], "last_seen": "2024-10-18T10:00:00+00:00"},
            {"incident": ["c"], "last_seen": "2024-10-18T11:00:00+00:00"},
            {"incident": ["a", "c", "b"]},
        ),
        # The stream saw it first; the crawl's later sighting must not move first_seen.
        (
            None,
            {"first_seen": "2024-10-18T11:00:00+00:00", "last_seen": "2024-10-18T11:00:00+00:00"},
            {"first_seen": "2024-10-18T09:30:00+00:00", "last_seen": "2024-10-18T09:30:00+00:00"},
            {"first_seen": "2024-10-18T09:30:00+00:00", "last_seen": "2024-10-18T11:00:00+00:00"},
        ),
        # Edited between two crawls: the first wording stays as a version.
        (
            {"text": "first wording of the ByteDance intern post"},
            {"text": "third wording", "last_seen": "2024-10-18T11:00:00+00:00"},
            {"text": "second wording", "last_seen": "2024-10-18T10:00:00+00:00"},
            {"versions": ["first wording of the ByteDance intern post", "second wording"]},
        ),
    ],
)
def test_two_writers_on_one_post_at_once_lose_neither_write(  # noqa: PLR0917
    es_client, index_names, writer_for, stored_first, slow, fast, expected
):
    """A writer's read of the stored post and its write are two requests: another crawl (an
    incident watching the same place, or the Jetstream stream beside a Bluesky crawl) may write
    the same post in between. Its write must not be overwritten by a merge made without it."""
    if stored_first is not None:
        first = writer_for()
        first.add_post(post("p", **stored_first))
        first.close()
    slow_writer, gate = gated_writer(writer_for, es_client)
    slow_writer.add_post(post("p", **slow))
    finishing = threading.Thread(target=slow_writer.close)
    finishing.start()  # reads the stored post, then its bulk request waits at the gate
    assert gate.held.wait(30)
    fast_writer = writer_for()
    fast_writer.add_post(post("p", **fast))
    fast_writer.close()
    gate.release()
    finishing.join(60)
    gate.cut()
    doc = stored(es_client, index_names, "github:p")
    if "versions" in expected:
        doc = {"versions": [v["text"] for v in doc.get("versions", [])]}
    assert {k: doc.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("stored_first", "sent", "counts", "snapshots"),
    [
        # A new post: counted new once, not "unchanged" when the request is sent again.
        (None, {}, {"indexed_new": 1, "updated": 0, "unchanged": 0}, 0),
        # A stored post with more stars: counted updated once, its growth plotted.
        (
            {},
            {"engagement": {"stars": 250}, "last_seen": "2024-10-19T09:00:00+00:00"},
            {"indexed_new": 0, "updated": 1, "unchanged": 0},
            2,
        ),
    ],
)
def test_a_write_whose_reply_was_lost_counts_once_as_what_it_was(  # noqa: PLR0917
    es_client, index_names, writer_for, stored_first, sent, counts, snapshots
):
    """The node that took a bulk request wrote it and died before replying; the client sent it
    again to another node, which refused it as a version conflict: the post is already there,
    written by this very writer."""
    if stored_first is not None:
        first = writer_for()
        first.add_post(post("p", **stored_first))
        first.close()
    relay = LostReply.to(es_client)
    writer = writer_for(client=relay.client())
    writer.add_post(post("p", **sent))
    stats = writer.close()
    relay.cut()
    assert relay.lost.is_set(), "the relay never lost a bulk reply: nothing was tested"
    assert {k: getattr(stats, k) for k in counts} == counts
    assert (stats.spooled, count(es_client, index_names.activity)) == (0, snapshots)
    assert stored(es_client, index_names, "github:p")["engagement"] == post(**sent)["engagement"]
