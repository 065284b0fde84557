"""Crawl state in Elasticsearch (`<prefix>-state`): what a crawl on any host loads and commits."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from crawlers.state import CrawlState, FileStateStore, StateDelta
from crawlers.state_es import EsStateStore, state_store
from indexer.connection import IndexNames
from spreadwatch.settings import Settings


@pytest.fixture
def store(es_settings: Settings, es_client: Elasticsearch, index_names: IndexNames) -> EsStateStore:
    settings = es_settings.model_copy(update={"index_prefix": index_names.prefix})
    return EsStateStore(settings, es_client)


def changes(state: CrawlState) -> StateDelta:
    """What was changed outside a callback: the operations recorded on the state."""
    return state.take_loose()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_committed_delta_is_what_the_next_load_sees(store: EsStateStore) -> None:
    state = store.load("case", "github")
    state.remember_validators("https://api.github.com/repos/o/r?page=2", 'W/"abc"', None)
    state.set_cursor("stargazers:o/r", "/repos/o/r/stargazers?page=3")
    state.advance_since("issues:o/r", datetime(2024, 10, 19, tzinfo=UTC))
    state.mark_seen("guid-1")
    state.set_extra("followed_repos", ["o/r", "x/y"])
    store.commit("case", "github", changes(state))
    again = store.load("case", "github")
    assert again.conditional_headers("https://api.github.com/repos/o/r?page=2") == {
        "If-None-Match": 'W/"abc"'
    }
    assert again.cursors == {"stargazers:o/r": "/repos/o/r/stargazers?page=3"}
    assert again.since_time("issues:o/r") == datetime(2024, 10, 19, tzinfo=UTC)
    assert again.is_seen("guid-1")
    assert again.extra == {"followed_repos": ["o/r", "x/y"]}


def test_states_are_kept_per_incident_and_source(store: EsStateStore) -> None:
    state = store.load("case", "github")
    state.mark_seen("x")
    store.commit("case", "github", changes(state))
    assert not store.load("case", "feeds").is_seen("x")
    assert not store.load("other", "github").is_seen("x")


def test_concurrent_commits_of_one_state_all_count(
    es_settings: Settings, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    """Two hosts' crawls of one source: each commit re-applies its delta on a conflict."""
    settings = es_settings.model_copy(update={"index_prefix": index_names.prefix})
    hosts = [EsStateStore(settings, es_client), EsStateStore(settings, es_client)]
    now = datetime.now(UTC).isoformat()  # seen ids older than the retention are dropped
    deltas = [StateDelta((("seen", f"guid-{n}", now),)) for n in range(16)]
    threads = [
        threading.Thread(target=hosts[n % 2].commit, args=("case", "feeds", delta))
        for n, delta in enumerate(deltas)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(hosts[0].load("case", "feeds").seen) == sorted(f"guid-{n}" for n in range(16))


def test_a_since_value_committed_later_but_older_never_moves_it_back(store: EsStateStore) -> None:
    newer = StateDelta((("since", "k", "2024-10-19T00:00:00+00:00"),))
    older = StateDelta((("since", "k", "2024-10-18T00:00:00+00:00"),))
    store.commit("case", "rss", newer)
    store.commit("case", "rss", older)
    assert store.load("case", "rss").since_time("k") == datetime(2024, 10, 19, tzinfo=UTC)


def test_urls_in_the_state_never_become_mapped_fields(
    store: EsStateStore, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    state = store.load("case", "pages")
    state.remember_validators("https://example.org/a.b/c?d=e", '"v1"', None)
    store.commit("case", "pages", changes(state))
    mapping = es_client.indices.get_mapping(index=index_names.state)
    (properties,) = [index["mappings"]["properties"] for index in mapping.body.values()]
    assert properties["state"] == {"type": "object", "enabled": False}


def test_an_unreachable_cluster_loads_an_empty_state_and_skips_commits(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        es_url=f"http://127.0.0.1:{closed_port()}", es_request_timeout=2, data_dir=tmp_path
    )
    store = EsStateStore(settings)
    state = store.load("case", "github")
    assert state.to_dict()["seen"] == {} and state.etags == {}
    state.mark_seen("x")
    store.commit("case", "github", changes(state))  # skipped, logged: the next run refetches


@pytest.mark.parametrize(
    ("configured", "kind"), [("elasticsearch", EsStateStore), ("file", FileStateStore)]
)
def test_the_store_is_the_one_the_settings_name(
    es_settings: Settings, configured: str, kind: type
) -> None:
    settings = es_settings.model_copy(update={"state_store": configured})
    assert isinstance(state_store(settings), kind)
