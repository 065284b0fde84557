"""A spool that cannot be written fails the crawl loudly, and its posts come with the next one.

With the cluster down every post goes to the spool; on a full disk none gets there. Those
posts exist nowhere: the run must say `failed` (exit 1) with how many were lost, and the crawl
state must not move past them, so the next crawl (disk freed, cluster back) fetches them again.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from harness import crawl, tally, world

from crawlers.state import FileStateStore
from indexer.connection import IndexNames
from indexer.templates import delete_all, init
from spreadwatch.demo.dataset import INCIDENT_FILE
from spreadwatch.incident import load_incident
from spreadwatch.settings import Settings

#: Elasticsearch "down": nothing listens on the discard port.
DEAD_CLUSTER = "http://127.0.0.1:9"


@pytest.mark.slow
def test_posts_that_reach_neither_the_cluster_nor_the_spool_fail_the_run_and_come_next_time(
    es_client: Elasticsearch, es_settings: Settings, tmp_path: Path
) -> None:
    incident = load_incident(INCIDENT_FILE)
    assert incident.window.end is not None
    names = IndexNames(f"{es_settings.index_prefix}-full-{uuid.uuid4().hex[:6]}")
    init(es_client, names)
    data_dir = tmp_path / "data"
    spool_file = data_dir / "spool" / f"{names.prefix}.jsonl"
    spool_file.parent.mkdir(parents=True)
    spool_file.symlink_to("/dev/full")  # every write: ENOSPC, as on a full disk
    try:
        with world(es_settings, names.prefix, data_dir, incident.window.end) as place:
            failed = crawl(place, "feeds", "full-disk", env={"SPREADWATCH_ES_URL": DEAD_CLUSTER})
            state_after_failure = FileStateStore(data_dir).load(incident.id, "feeds")
            spool_file.unlink()  # the disk has room again
            recovered = crawl(place, "feeds", "disk-freed")
        found = tally(es_client, names, "feeds", incident.window.end)
    finally:
        delete_all(es_client, names)
    assert (failed.returncode, failed.summary["status"]) == (1, "failed"), failed.stderr
    assert failed.summary["items_lost"] == found.expected
    assert (state_after_failure.etags, state_after_failure.seen) == ({}, {})
    assert recovered.summary["status"] == "ok", recovered.stderr
    assert (found.expected, found.lost, found.doubled) == (31, [], [])
