"""The one crawl launcher: a crawl that is stopped saves its work first, then goes.

Stopping (at the timeout, or when the monitor stops) = SIGTERM (the crawl writes what it has
buffered at once, so its state commits what is durable), then SIGKILL after the grace. Before,
a crawl hanging on one slow feed was killed with the posts of its other feeds still in the
writer's buffer.
"""

from __future__ import annotations

import threading
import time
import uuid
from email.utils import format_datetime
from pathlib import Path

import pytest
import yaml
from elasticsearch import Elasticsearch

from crawlers.launch import run_crawl
from crawlers.state_es import state_store
from indexer.connection import IndexNames, es_url
from indexer.templates import delete_all, init
from spreadwatch.replay import ReplayServer, faults
from spreadwatch.replay.feeds import FeedsData, FeedsReplay
from spreadwatch.settings import Settings, load_settings

from replay_helpers import DENIAL_DAY  # isort: skip
from scheduler_support import wait_for  # isort: skip

FEEDS = {
    "/fast.xml": {
        "title": "Fast desk",
        "link": "https://fast.example/",
        "items": [
            {
                "title": f"ByteDance intern story {n}",
                "link": f"https://fast.example/{n}",
                "guid": {"text": f"fast-{n}", "isPermaLink": "false"},
                "pubDate": format_datetime(DENIAL_DAY, usegmt=True),
                "description": f"ByteDance intern sabotage rumour, part {n}",
            }
            for n in range(3)
        ],
    },
    "/slow.xml": {"title": "Slow desk", "link": "https://slow.example/", "items": []},
}


def incident_file(folder: Path, base: str) -> Path:
    path = folder / "incident.yml"
    incident = {
        "id": f"launch-{uuid.uuid4().hex[:6]}",
        "title": "ByteDance intern rumour",
        "window": {"start": "2024-10-01T00:00:00Z"},
        "queries": [{"name": "en", "lang": "en", "any": ["ByteDance intern"]}],
        "sources": {"feeds": {"feeds": [{"url": f"{base}/fast.xml"}, {"url": f"{base}/slow.xml"}]}},
    }
    path.write_text(yaml.safe_dump(incident), encoding="utf-8")
    return path


@pytest.fixture
def names(es_client: Elasticsearch, es_settings: Settings):  # type: ignore[no-untyped-def]
    names = IndexNames(f"{es_settings.index_prefix}-launch-{uuid.uuid4().hex[:6]}")
    init(es_client, names)
    yield names
    delete_all(es_client, names)


@pytest.mark.slow
def test_a_crawl_that_is_stopped_stores_what_it_had_and_commits_its_state(
    es_client: Elasticsearch, es_settings: Settings, names: IndexNames, tmp_path: Path
) -> None:
    with ReplayServer(FeedsReplay(FeedsData(feeds=FEEDS))) as server:
        server.script(r"^/slow\.xml", [faults.stalled(120)])
        incident = incident_file(tmp_path, server.url)
        settings = load_settings(
            es_url=es_url(es_settings), data_dir=tmp_path / "data", index_prefix=names.prefix,
            bulk_flush_seconds=300,  # nothing leaves the buffer on its own before the timeout
        )  # fmt: skip
        stop = threading.Event()

        def stop_once_the_fast_feed_is_in() -> None:  # while the slow one hangs
            wait_for(lambda: server.count(status=200, path="^/fast") > 0, timeout=90)
            time.sleep(2)  # its posts are on their way through the stages
            stop.set()

        threading.Thread(target=stop_once_the_fast_feed_is_in, daemon=True).start()
        started = time.monotonic()
        outcome = run_crawl(
            settings, str(incident), "feeds", timeout=120, grace=15, stop=stop, client=es_client
        )
        took = time.monotonic() - started
    es_client.indices.refresh(index=names.posts)
    stored = es_client.search(index=names.posts, size=10)["hits"]["hits"]
    run = es_client.get(index=names.runs, id=outcome.run_id)["_source"]
    state = state_store(settings, es_client).load(  # the store the crawl committed to
        yaml.safe_load(incident.read_text())["id"], "feeds"
    )
    assert outcome.stopped == "shutdown" and took < 60, outcome.log_tail
    assert sorted(h["_source"]["title"] for h in stored) == [
        f"ByteDance intern story {n}" for n in range(3)
    ]
    assert (run["status"], run["finish_reason"]) == ("failed", "shutdown")
    assert f"{server.url}/fast.xml" in state.etags  # the fast feed's work is committed
    assert f"{server.url}/slow.xml" not in state.etags
