"""The spool replay at a writer's start when the cluster cannot be reached: it stops at the first
batch that got nowhere, and what it did not write waits, in order and once, for the next writer."""

from __future__ import annotations

import logging
from pathlib import Path

from elasticsearch import Elasticsearch, helpers

from indexer.connection import IndexNames
from indexer.spool import Spool, SpoolEntry
from indexer.writer import BulkWriter

from es_relay import BlackHole  # isort: skip
from test_writer import post  # isort: skip

#: Seconds the writer's client waits for an answer: short, a black hole never gives one.
TIMEOUT = 0.5


def spool_posts(spool: Spool, ids: list[str]) -> None:
    spool.append(SpoolEntry("post", post(n), "unreachable: earlier outage") for n in ids)


def spooled_ids(spool: Spool) -> list[str]:
    """The native ids the spool holds, in replay order (oldest first)."""
    return [e.doc["native_id"] for e in spool.entries() + spool.replaying_entries()]


def stored_ids(client: Elasticsearch, names: IndexNames) -> list[str]:
    client.indices.refresh(index=names.posts)
    return sorted(hit["_id"] for hit in helpers.scan(client, index=names.posts))


def test_a_black_holed_cluster_costs_one_batchs_requests_and_the_spool_stays_whole(
    es_client, index_names, tmp_path: Path, caplog
):
    """Every batch of the replay would wait out the client's timeout: a writer start against a
    cluster that takes connections and never answers tries one batch, not all of them."""
    spool = Spool(tmp_path / "spool", index_names.prefix)
    ids = [f"old-{n}" for n in range(10)]  # three batches of four: 4, 4 and 2
    spool_posts(spool, ids)
    hole = BlackHole()
    client = hole.client(TIMEOUT)
    with caplog.at_level(logging.WARNING, logger="indexer.writer"):
        writer = BulkWriter(client, index_names, tmp_path / "spool", batch_size=4)
    client.close()
    assert hole.swallowed() == [f"POST /{index_names.posts}/_mget HTTP/1.1"]  # one lookup
    hole.close()
    assert spooled_ids(spool) == ids  # every one still there, once, oldest first
    assert [p.name for p in spool.dir.iterdir()] == [spool.path.name]  # nowhere else
    assert (writer.stats.spooled, writer.stats.spool_left) == (4, 6)
    stopped = [r.getMessage() for r in caplog.records if "replay stopped" in r.getMessage()]
    assert len(stopped) == 1
    assert "4 spooled again and 6 not tried" in stopped[0]
    assert "unreachable: ConnectionTimeout" in stopped[0]

    recovered = BulkWriter(es_client, index_names, tmp_path / "spool", batch_size=4).close()
    assert recovered.spool_replayed == 10
    assert stored_ids(es_client, index_names) == sorted(f"github:{n}" for n in ids)
    assert spooled_ids(spool) == []


def test_a_cluster_lost_after_the_first_batch_leaves_exactly_the_unwritten_ones(
    es_client, index_names, tmp_path: Path
):
    spool = Spool(tmp_path / "spool", index_names.prefix)
    ids = [f"old-{n}" for n in range(10)]
    spool_posts(spool, ids)
    relay = BlackHole.after_first_bulk(es_client)
    client = relay.client(TIMEOUT)
    writer = BulkWriter(client, index_names, tmp_path / "spool", batch_size=4)
    client.close()
    assert relay.swallowed() == [f"POST /{index_names.posts}/_mget HTTP/1.1"]  # the 2nd batch's
    relay.close()
    assert stored_ids(es_client, index_names) == sorted(f"github:{n}" for n in ids[:4])
    assert spooled_ids(spool) == ids[4:]
    assert (writer.stats.spool_replayed, writer.stats.spooled, writer.stats.spool_left) == (4, 4, 2)

    recovered = BulkWriter(es_client, index_names, tmp_path / "spool", batch_size=4).close()
    assert (recovered.spool_replayed, recovered.indexed_new) == (6, 6)
    assert stored_ids(es_client, index_names) == sorted(f"github:{n}" for n in ids)
    assert spooled_ids(spool) == []
