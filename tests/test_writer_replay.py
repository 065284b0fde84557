"""The spool replay at a writer's start when the cluster cannot be reached: it stops at the first
batch that got nowhere, and what it did not write waits, in order and once, for the next writer."""

from __future__ import annotations

import http.server
import logging
import os
import signal
import subprocess
import sys
import threading
import time
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


#: A writer started in a process of its own (killed by the test mid-replay): replays the spool
#: of `argv[2]` for prefix `argv[3]` through the relay on port `argv[1]`.
REPLAY_CHILD = """
import sys
from pathlib import Path
from elasticsearch import Elasticsearch
from indexer.connection import IndexNames
from indexer.writer import BulkWriter
client = Elasticsearch(f"http://127.0.0.1:{sys.argv[1]}", request_timeout=5, max_retries=0)
BulkWriter(client, IndexNames(sys.argv[3]), Path(sys.argv[2]), batch_size=1)
"""


def snapshots_spooled(spool: Spool) -> bool:
    """Whether activity documents were spooled (set apart or not) beside the replay file."""
    return any(
        '"kind": "activity"' in path.read_text()
        for path in spool.dir.glob(f"{spool.prefix}.jsonl*")
        if ".replaying." not in path.name
    )


def test_a_replay_that_dies_keeps_the_engagement_snapshots_it_could_not_write(
    es_client, index_names, tmp_path: Path
):
    """A replayed post whose engagement changed is written with its snapshots (new activity
    documents, in no spool file); the cluster goes dark before they are. A process that dies
    later in the replay must leave them somewhere the next writer finds: the post is stored
    with its new engagement by then, so replaying it again makes no snapshot."""
    first = BulkWriter(es_client, index_names, tmp_path / "unused")
    first.add_post(post("eng", engagement={"stars": 10}))
    first.close()
    spool = Spool(tmp_path / "spool", index_names.prefix)
    later = "2024-10-19T09:00:00+00:00"
    spool.append([SpoolEntry("post", post("eng", engagement={"stars": 5000}, last_seen=later), "unreachable: earlier outage")])  # fmt: skip
    spool_posts(spool, ["old-1", "old-2"])
    relay = BlackHole.after_first_bulk(es_client)  # the posts' bulk goes through, then dark
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.Popen(
        [sys.executable, "-c", REPLAY_CHILD, str(relay.port), str(spool.dir), index_names.prefix],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        # The snapshots' bulk timed out and they were spooled; the next batch's lookup waits.
        while not snapshots_spooled(spool) and time.monotonic() < deadline:
            assert child.poll() is None, "the replay ended before the test could stop it"
            time.sleep(0.02)
        child.kill()
    finally:
        child.wait()
        relay.close()
    assert child.returncode == -signal.SIGKILL

    BulkWriter(es_client, index_names, spool.dir, batch_size=1).close()
    es_client.indices.refresh(index=index_names.activity)
    snapshots = [h["_source"] for h in helpers.scan(es_client, index=index_names.activity)]
    assert sorted(s["engagement"]["stars"] for s in snapshots) == [10, 5000]
    assert stored_ids(es_client, index_names) == ["github:eng", "github:old-1", "github:old-2"]


class Refusing:
    """A cluster that answers every request at once with 413 (`http.max_content_length`),
    as Elasticsearch does: its own JSON error and product header. It counts the requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        refusing = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                refusing.requests.append(f"{self.command} {self.path.split('?')[0]}")
                body = b'{"error":{"type":"content_too_long_exception","reason":"request too large"},"status":413}'  # fmt: skip
                self.send_response(413)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def client(self) -> Elasticsearch:
        host, port = self.server.server_address[:2]
        return Elasticsearch(f"http://{host}:{port}", request_timeout=5, max_retries=0)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_batch_the_cluster_refuses_at_once_does_not_stop_the_replay(index_names, tmp_path: Path):
    """A refusal comes from a cluster that answers (a batch too large is refused 413): it costs
    no timeout, and stopping there would hold every later batch back at every start."""
    spool = Spool(tmp_path / "spool", index_names.prefix)
    ids = [f"old-{n}" for n in range(10)]
    spool_posts(spool, ids)
    cluster = Refusing()
    client = cluster.client()
    writer = BulkWriter(client, index_names, tmp_path / "spool", batch_size=4)
    client.close()
    cluster.close()
    assert cluster.requests == [f"POST /{index_names.posts}/_mget"] * 3  # every batch tried
    assert writer.stats.spool_left == 0
    assert spooled_ids(spool) == ids  # each refused, each kept once, in order


def test_a_replay_given_up_is_written_by_the_next_writer_of_the_same_process(
    es_client, index_names, tmp_path: Path
):
    """The scheduler and the stream start every writer in one long-lived process: a replay one
    of them gave up (a dead letter it could not keep, the disk full) is written by the next,
    not days later when the service restarts."""
    spool = Spool(tmp_path / "spool", index_names.prefix)
    bad = post("bad", engagement={"stars": "a lot"})  # refused for its content a second time
    spool.append([SpoolEntry("post", bad, "content: mapper_parsing_exception: stars")])
    spool_posts(spool, ["old-1", "old-2"])
    spool.dir.mkdir(parents=True, exist_ok=True)
    spool.dead_path.symlink_to("/dev/full")  # ENOSPC on every write
    relay = BlackHole.after_first_bulk(es_client)  # the bad post's bulk goes through, then dark
    client = relay.client(TIMEOUT)
    first = BulkWriter(client, index_names, spool.dir, batch_size=1)
    client.close()
    relay.close()
    assert first.stats.spool_replayed == 0
    assert stored_ids(es_client, index_names) == []
    assert spooled_ids(spool) == ["bad", "old-1", "old-2"]  # its replay file kept them all
    spool.dead_path.unlink()  # room again

    second = BulkWriter(es_client, index_names, spool.dir, batch_size=1).close()
    assert (second.spool_replayed, second.dead_lettered) == (2, 1)
    assert stored_ids(es_client, index_names) == ["github:old-1", "github:old-2"]
    assert [e.doc["native_id"] for e in spool.dead_letters()] == ["bad"]
    assert sorted(p.name for p in spool.dir.iterdir()) == [spool.dead_path.name]
