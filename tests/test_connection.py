"""The client factory: external clusters by URL, clear errors when they cannot be reached."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.connection import ClusterFeatures, ConnectionFailedError, make_client
from spreadwatch.settings import Settings, load_settings

PROJECT = Path(__file__).resolve().parent.parent


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


PASSWORD = "pa55-in-the-url"


def test_a_password_in_the_url_never_appears_in_the_error() -> None:
    port = closed_port()
    url = f"http://elastic:{PASSWORD}@127.0.0.1:{port}"
    with pytest.raises(ConnectionFailedError) as caught:
        make_client(load_settings(es_url=url, es_request_timeout=2))
    assert PASSWORD not in str(caught.value)
    assert f"http://elastic:***@127.0.0.1:{port}" in str(caught.value)


def _run_against(es_url: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    """`spreadwatch ARGS` as a process, its cluster at `es_url` (answering within 2 s)."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "SPREADWATCH_ES_URL": es_url,
        "SPREADWATCH_ES_REQUEST_TIMEOUT": "2",
    }
    return subprocess.run(
        [sys.executable, "-m", "spreadwatch", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", [["search", "intern"], ["timeline", "x"], ["es", "status"]])
def test_no_command_shows_the_password_of_the_url(command: list[str]) -> None:
    done = _run_against(f"http://elastic:{PASSWORD}@127.0.0.1:{closed_port()}", command)
    assert done.returncode != 0
    assert "elastic:***@127.0.0.1" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr


@pytest.mark.parametrize(("debug", "tracebacks"), [([], False), (["--debug"], True)])
def test_an_unreachable_cluster_ends_a_command_in_its_error_without_tracebacks(
    debug: list[str], tracebacks: bool
) -> None:
    done = _run_against(f"http://127.0.0.1:{closed_port()}", [*debug, "search", "intern"])
    assert done.returncode == 1
    assert ("Traceback" in done.stderr) is tracebacks
    if not tracebacks:
        assert done.stderr.splitlines()[-1].startswith("error: cannot reach Elasticsearch at")
        assert all(" WARNING " in line for line in done.stderr.splitlines()[:-1])


def test_features_are_read_from_the_cluster(es_client: Elasticsearch) -> None:
    features = ClusterFeatures(es_client)
    assert "x-pack-core" in features.modules
    assert features.language_analyzers == ("analysis-common" in features.modules)
    assert features.version.startswith("9.")
