"""The client factory: external clusters by URL, clear errors when they cannot be reached."""

from __future__ import annotations

import socket

import pytest
from elasticsearch import Elasticsearch

from indexer.connection import ClusterFeatures, ConnectionFailedError, make_client
from spreadwatch.settings import Settings, load_settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_external_url_is_used_as_given(es_client: Elasticsearch, es_settings: Settings) -> None:
    url = es_client.transport.node_pool.get().base_url
    client = make_client(load_settings(es_url=url, index_prefix=es_settings.index_prefix))
    assert client.cluster.health()["status"] in ("green", "yellow")


def test_an_unreachable_cluster_is_a_clear_error() -> None:
    port = closed_port()
    settings = load_settings(es_url=f"http://127.0.0.1:{port}", es_request_timeout=2)
    with pytest.raises(
        ConnectionFailedError, match=f"cannot reach Elasticsearch at http://127.0.0.1:{port}"
    ):
        make_client(settings)


def test_credentials_never_appear_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    settings = load_settings(
        es_url=f"http://127.0.0.1:{port}", es_api_key="c2VjcmV0LWtleQ==", es_request_timeout=2
    )
    with pytest.raises(ConnectionFailedError) as caught:
        make_client(settings)
    assert "c2VjcmV0LWtleQ==" not in str(caught.value)


def test_features_are_read_from_the_cluster(es_client: Elasticsearch) -> None:
    features = ClusterFeatures(es_client)
    assert "x-pack-core" in features.modules
    assert features.language_analyzers == ("analysis-common" in features.modules)
    assert features.version.startswith("9.")
