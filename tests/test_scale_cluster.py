"""A three-node cluster: a crawl keeps every post through the loss of a node; status sees it.

The node-killing tests come last in the module, so the others find all three nodes up without
waiting for a restart.

Real processes throughout: three Elasticsearch nodes, `crawlers.run` crawling a replayed news
host, and SIGKILL on the node that holds the posts primary while the crawl is writing.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from scale_support import news_world, write_incidents

from indexer.cluster import ClusterNode, LocalCluster
from indexer.connection import IndexNames
from indexer.templates import ShardLayout, delete_all, init
from scheduler.status import collect
from spreadwatch.replay import ReplayServer
from spreadwatch.replay.feeds import FeedsReplay
from spreadwatch.settings import Settings

pytest_plugins = ["conftest_cluster"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FEEDS, ITEMS = 24, 50


def crawl_command(incident: Path) -> list[str]:
    return [sys.executable, "-m", "crawlers.run", "--incident", str(incident), "--source", "feeds"]


def crawl_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SPREADWATCH_ES_URL": settings.es_url or "",
        "SPREADWATCH_INDEX_PREFIX": settings.index_prefix,
        "SPREADWATCH_DATA_DIR": str(data_dir),
        # Small, frequent batches: many writes land while the node is gone and its shard moves.
        "SPREADWATCH_BULK_BATCH_SIZE": "100",
        "SPREADWATCH_BULK_FLUSH_SECONDS": "1",
    }


def summary(stdout: str) -> dict[str, Any]:
    return json.loads(stdout.strip().splitlines()[-1])


def post_count(client: Elasticsearch, names: IndexNames) -> int:
    client.indices.refresh(index=names.posts)
    return int(client.count(index=names.posts)["count"])


def primary_holder(client: Elasticsearch, names: IndexNames, cluster: LocalCluster) -> ClusterNode:
    shards = client.cat.shards(index=names.posts, format="json")
    holder = next(s["node"] for s in shards if s["prirep"] == "p")
    return next(node for node in cluster.nodes() if node.name == holder)


@pytest.mark.timeout(900)  # a safety net: the cluster starts within the first test using it
def test_status_reports_the_clusters_health_and_node_count(
    healthy_cluster: LocalCluster,
    cluster_settings: Settings,
    cluster_client: Elasticsearch,
    cluster_names: IndexNames,
    tmp_path: Path,
) -> None:
    settings = cluster_settings.model_copy(update={"data_dir": tmp_path})
    state = collect(settings, cluster_client, datetime.now(UTC))
    assert state["cluster"]["number_of_nodes"] == len(healthy_cluster.nodes()) == 3
    assert state["cluster"]["status"] in ("green", "yellow")
    replicas = cluster_client.indices.get_settings(index=cluster_names.posts, flat_settings=True)
    (index_settings,) = replicas.body.values()
    assert index_settings["settings"]["index.auto_expand_replicas"] == "0-1"


@pytest.mark.parametrize("replicas", [0, 2])
def test_replicas_come_from_the_settings(
    cluster_settings: Settings, cluster_client: Elasticsearch, replicas: int
) -> None:
    settings = cluster_settings.model_copy(update={"es_replicas": replicas})
    names = IndexNames(settings.index_prefix + f"-r{replicas}")
    init(cluster_client, names, ShardLayout.from_settings(settings))
    try:
        health = cluster_client.cluster.health(index=names.posts, wait_for_status="green")
        shards = cluster_client.cat.shards(index=names.posts, format="json")
        assert health["status"] == "green"
        assert sum(1 for s in shards if s["prirep"] == "r") == replicas
    finally:
        delete_all(cluster_client, names)


@pytest.mark.timeout(900)  # a safety net: the cluster starts within the first test using it
def test_a_crawl_loses_no_post_and_indexes_none_twice_when_a_node_is_killed(
    healthy_cluster: LocalCluster,
    cluster_settings: Settings,
    cluster_client: Elasticsearch,
    cluster_names: IndexNames,
    tmp_path: Path,
) -> None:
    data, truth = news_world(incidents=1, feeds=FEEDS, items=ITEMS)
    expected = truth["inc-00"]
    env = crawl_env(cluster_settings, tmp_path / "data")
    with ReplayServer(FeedsReplay(data)) as news:
        (incident,) = write_incidents(tmp_path / "incidents", news.url, 1, FEEDS)
        crawl = subprocess.Popen(
            crawl_command(incident), cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        while post_count(cluster_client, cluster_names) == 0 and crawl.poll() is None:
            time.sleep(0.2)
        assert crawl.poll() is None, "the crawl ended before its first batch: nothing to test"
        victim = primary_holder(cluster_client, cluster_names, healthy_cluster)
        healthy_cluster.kill_node(victim)
        killed_at = post_count(cluster_client, cluster_names)
        first = summary(crawl.communicate(timeout=240)[0])
        # The next crawl replays whatever the first had to spool.
        again = subprocess.run(
            crawl_command(incident),
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        second = summary(again.stdout)

    assert 0 < killed_at < len(expected), "the node must die while the crawl is still writing"
    assert first["status"] in ("ok", "partial") and second["status"] in ("ok", "partial")
    cluster_client.indices.refresh(index=cluster_names.posts)
    hits = cluster_client.search(index=cluster_names.posts, size=2 * len(expected), source=False)
    stored = [hit["_id"] for hit in hits["hits"]["hits"]]
    assert sorted(stored) == sorted(expected)  # every post, each once
    # Counted as new once each across both runs: a retry after the node loss is no second post.
    assert first["items_indexed"] + second["items_indexed"] == len(expected)


class _FreeOnWarning(logging.Handler):
    """Closes `held` once the cluster says a node did not start, before it starts it again."""

    def __init__(self, held: socket.socket) -> None:
        super().__init__(logging.WARNING)
        self.held = held
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "did not start" in message:
            self.warnings.append(message)
            self.held.close()


@pytest.mark.timeout(900)
def test_a_node_that_cannot_boot_beside_the_others_is_started_again_with_its_cause_logged(
    healthy_cluster: LocalCluster,
) -> None:
    """A node's HTTP port taken while it was down: its boot fails on the bind, the cause is the
    node log's fatal exception, and once the port is free the node starts alone."""
    victim = healthy_cluster.nodes()[-1]
    healthy_cluster.kill_node(victim)
    held = socket.create_server(("127.0.0.1", victim.http_port))
    watcher = _FreeOnWarning(held)
    cluster_log = logging.getLogger("indexer.cluster")
    cluster_log.addHandler(watcher)
    try:
        healthy_cluster.start(len(healthy_cluster.nodes()))
    finally:
        cluster_log.removeHandler(watcher)
        held.close()
    (warning,) = watcher.warnings
    assert victim.name in warning and str(victim.http_port) in warning  # the bind, by its port
    assert healthy_cluster.status()["number_of_nodes"] == 3
