"""Fixtures that start real servers: the embedded Elasticsearch node, and a clean index prefix.

The node is started (or reused, if one is already running from the same data folder) once per
test session — under a lock, as the suite's worker processes (pytest-xdist) all share it; every
worker writes under its own index prefix and removes it at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.connection import IndexNames, es_url, make_client
from indexer.templates import delete_all, init
from spreadwatch.replay import REPLAY_NETWORKS
from spreadwatch.settings import Settings, load_settings

from index_pool import IndexPool  # isort: skip

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Every crawl of the suite reads replay servers on loopback, which the private-network guard
#: refuses unless allowed; processes started with this environment (or with settings loaded
#: from it) inherit the allowance. Tests of the guard itself set their own.
os.environ["SPREADWATCH_ALLOW_PRIVATE_NETWORKS"] = REPLAY_NETWORKS


@pytest.fixture(scope="session")
def es_settings() -> Settings:
    """Settings for the test session: the real node (embedded unless SPREADWATCH_ES_URL is set)."""
    prefix = f"swtest-{uuid.uuid4().hex[:8]}"
    return load_settings(index_prefix=prefix)


@pytest.fixture(scope="session")
def es_client(es_settings: Settings) -> Iterator[Elasticsearch]:
    client = make_client(es_settings)
    yield client
    client.close()


@pytest.fixture(scope="session")
def session_names(es_settings: Settings, es_client: Elasticsearch) -> Iterator[IndexNames]:
    """The session's index names, created once and deleted when the session ends."""
    names = IndexNames(es_settings.index_prefix)
    init(es_client, names)
    yield names
    delete_all(es_client, names)


@pytest.fixture(scope="session")
def index_pool(es_settings: Settings, es_client: Elasticsearch) -> Iterator[IndexPool]:
    pool = IndexPool(es_client, es_settings.index_prefix)
    yield pool
    pool.close()


@pytest.fixture
def index_names(index_pool: IndexPool) -> Iterator[IndexNames]:
    """A clean, empty set of indices for one test: as fresh as new ones (same mappings, no
    documents), taken from the session's pool and emptied afterwards (tests/index_pool.py)."""
    names = index_pool.take()
    yield names
    index_pool.give_back(names)


@pytest.fixture(scope="session")
def es_node_url(es_settings: Settings) -> str:
    """The session node's URL(s), as a child process is given them (`SPREADWATCH_ES_URL`)."""
    return es_url(es_settings)


@pytest.fixture
def settings_for(es_node_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build test settings on the session's cluster with overrides (index prefix, base URLs...).

    The data folder is the test's own: what a test keeps there (crawl state, spool, evidence
    archives and ledgers, last good incident files) is never another test's, and never lands in
    the developer's data folder, where `spreadwatch status` would list it. The node is given by
    its URL, as it is found from the default data folder once for the session."""

    def build(**overrides: object) -> Settings:
        values = {"data_dir": tmp_path / "data", "es_url": es_node_url, **overrides}
        return load_settings(**values)

    return build


@pytest.fixture(autouse=True)
def _no_live_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never use a developer's real tokens, whatever their shell exports."""
    for name in list(os.environ):
        if name.endswith(("_TOKEN", "_APP_PASSWORD", "_COOKIE", "_CLIENT_SECRET")):
            monkeypatch.delenv(name, raising=False)
