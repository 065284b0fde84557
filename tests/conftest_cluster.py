"""A real three-node cluster shared by the multi-process scale tests (node loss, Scrapyd, standby).

Started once per session in its own folder and ports — never the session's embedded node, which
other tests keep using — and stopped at the end. A test that kills a node gets it back through
`healthy_cluster`, which restarts whatever is down before the next test uses the cluster.
Use with `pytest_plugins = ["conftest_cluster"]`.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from indexer.cluster import LocalCluster
from indexer.connection import IndexNames, make_client
from indexer.templates import ShardLayout, delete_all, init
from spreadwatch.settings import Settings, load_settings

NODES = 3


@pytest.fixture(scope="session")
def local_cluster(es_settings: Settings) -> Iterator[LocalCluster]:
    # Under the data folder, not pytest's tmp: the unprivileged node user must reach it.
    root = es_settings.data_dir / "test-clusters" / uuid.uuid4().hex[:8]
    cluster = LocalCluster(root, load_settings(data_dir=es_settings.data_dir, es_heap="512m"))
    try:
        cluster.start(NODES)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def healthy_cluster(local_cluster: LocalCluster) -> LocalCluster:
    """The cluster with all its nodes up (a node an earlier test killed is started again)."""
    local_cluster.start(NODES)
    return local_cluster


@pytest.fixture
def cluster_settings(healthy_cluster: LocalCluster, es_settings: Settings) -> Settings:
    """Settings pointing at every node of the cluster, with an index prefix for this test."""
    return load_settings(
        es_url=",".join(healthy_cluster.urls),
        index_prefix=f"{es_settings.index_prefix}-{uuid.uuid4().hex[:6]}",
        es_request_timeout=20,
    )


@pytest.fixture
def cluster_client(cluster_settings: Settings) -> Iterator[Elasticsearch]:
    client = make_client(cluster_settings)
    yield client
    client.close()


@pytest.fixture
def cluster_names(
    cluster_settings: Settings, cluster_client: Elasticsearch
) -> Iterator[IndexNames]:
    names = IndexNames(cluster_settings.index_prefix)
    init(cluster_client, names, ShardLayout.from_settings(cluster_settings))
    yield names
    delete_all(cluster_client, names)
