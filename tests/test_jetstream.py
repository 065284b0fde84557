"""The Jetstream consumer against a local WebSocket replay, indexing into the real node.

A replayed burst mixes posts about the incident with unrelated ones; the server drops the
connection mid-burst. Every matching post must be in Elasticsearch exactly once, whatever the
disconnects and restarts.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from social_crawl import write_incident

from crawlers.state import StateDelta
from crawlers.state_es import state_store
from crawlers.stream import JetstreamConsumer
from indexer.connection import IndexNames
from indexer.stance_pending import LabelRun
from scheduler.runtime import DEFAULT_STREAM_COMMAND
from spreadwatch.cli.stream import Labeller
from spreadwatch.incident import Incident, load_incident
from spreadwatch.netpolicy import PrivateAddressError
from spreadwatch.replay import REPLAY_NETWORKS
from spreadwatch.replay.jetstream import JetstreamReplay, post_event
from spreadwatch.settings import Settings

START_US = 1_729_263_600_000_000  # 2024-10-18T15:00:00Z
MATCHING_EVERY = 5


def burst(count: int = 200) -> list[dict[str, Any]]:
    """`count` post events, one in five about the rumour, plus likes the consumer never asks for."""
    events = []
    for n in range(count):
        about = n % MATCHING_EVERY == 0
        text = f"ByteDance intern sabotage story, take {n}" if about else f"my cat, day {n}"
        events.append(
            post_event(f"did:plc:user{n % 37:04d}", f"3l6r{n:07d}", START_US + n * 1000, text)
        )
    like = {"did": "did:plc:liker", "time_us": START_US + 5, "kind": "commit",
            "commit": {"operation": "create", "collection": "app.bsky.feed.like", "rkey": "3l6like",
                       "record": {"$type": "app.bsky.feed.like", "subject": {"uri": "at://x", "cid": "y"}}}}  # fmt: skip
    return [*events, like]


def expected_ids(events: list[dict[str, Any]]) -> set[str]:
    return {
        f"bluesky:at://{e['did']}/app.bsky.feed.post/{e['commit']['rkey']}"
        for e in events
        if "ByteDance" in e["commit"]["record"].get("text", "")
    }


@pytest.fixture
def incident(tmp_path: Path) -> Incident:
    """An incident with its own id (its cursor file lives in the test's own data folder)."""
    path = write_incident(tmp_path, {"bluesky": {"stream": True}}, id=f"jet-{uuid.uuid4().hex[:8]}")
    return load_incident(path)


@pytest.fixture
def stream_settings(
    settings_for: Callable[..., Settings], index_names: IndexNames
) -> Callable[[str], Settings]:
    return lambda url: settings_for(index_prefix=index_names.prefix, jetstream_base_url=url)


def consume(settings: Settings, incident: Incident, **options: Any) -> Any:
    consumer = JetstreamConsumer(
        settings, incident, idle_timeout=1.0, checkpoint_seconds=0.2, **options
    )
    return asyncio.run(consumer.run())


def stored_ids(client: Elasticsearch, names: IndexNames) -> list[str]:
    client.indices.refresh(index=names.posts)
    hits = client.search(index=names.posts, size=1000, query={"match_all": {}})["hits"]["hits"]
    return [hit["_id"] for hit in hits]


def test_matching_posts_of_a_burst_are_indexed_and_others_are_not(
    stream_settings: Any, incident: Incident, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    events = burst()
    with JetstreamReplay(events) as server:
        stats = consume(stream_settings(server.url), incident)
    ids = stored_ids(es_client, index_names)
    assert sorted(ids) == sorted(expected_ids(events))
    assert (stats.posts_seen, stats.matched, stats.indexed) == (200, 40, 40)
    doc = es_client.get(index=index_names.posts, id=ids[0])["_source"]
    assert doc["platform"] == "bluesky" and doc["source"]["spider"] == "jetstream"


def test_dropped_connections_resume_from_the_cursor_without_loss_or_duplicates(
    stream_settings: Any, incident: Incident, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    events = burst()
    with JetstreamReplay(events, drop_after=[53, 71]) as server:
        stats = consume(stream_settings(server.url), incident)
    ids = stored_ids(es_client, index_names)
    assert len(ids) == len(set(ids)) == len(expected_ids(events))
    assert set(ids) == expected_ids(events)
    assert stats.reconnects == 2
    assert stats.indexed == 40  # each matching post handled once, not again after a reconnect
    first_cursor = events[52]["time_us"]
    assert server.connections == [None, first_cursor, events[52 + 71 - 1]["time_us"]]
    assert stats.skipped_replayed == 2  # the event at each resumed cursor, seen already


def test_a_restart_resumes_from_the_persisted_cursor(
    stream_settings: Any, incident: Incident, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    events = burst()
    with JetstreamReplay(events) as server:
        first = consume(stream_settings(server.url), incident, max_events=100)
        second = consume(stream_settings(server.url), incident)
    assert server.connections == [None, first.cursor]
    assert set(stored_ids(es_client, index_names)) == expected_ids(events)
    assert first.indexed + second.indexed == 40


def test_garbage_and_changed_shapes_are_counted_not_fatal(
    stream_settings: Any, incident: Incident, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    events = burst(20)
    expected = expected_ids(events)
    events[5]["commit"]["record"]["text"] = ["ByteDance", "intern"]  # changed field type
    del events[10]["did"]
    with JetstreamReplay(events) as server:
        stats = consume(stream_settings(server.url), incident)
    assert stats.bad_events == 2
    lost = {"bluesky:at://did:plc:user0005/app.bsky.feed.post/3l6r0000005",
            "bluesky:at://did:plc:user0010/app.bsky.feed.post/3l6r0000010"}  # fmt: skip
    assert set(stored_ids(es_client, index_names)) == expected - lost


@pytest.mark.parametrize(
    "record",
    [
        {"facets": 7},
        {"facets": [{"features": [{"$type": None}]}]},
        {"tags": 3},
        {"embed": {"$type": "app.bsky.embed.images", "images": 1}},
        {"embed": {"$type": "app.bsky.embed.record", "record": {"uri": "at://did:plc:x"}}},
        {"createdAt": "9999-12-31T23:59:59-01:00"},
    ],
    ids=[
        "facets-int",
        "feature-type-null",
        "tags-int",
        "images-int",
        "quote-uri-short",
        "year-9999",
    ],
)
def test_a_post_of_an_unexpected_shape_is_one_bad_event_and_the_stream_goes_on(
    stream_settings: Any,
    incident: Incident,
    es_client: Elasticsearch,
    index_names: IndexNames,
    record: dict[str, Any],
) -> None:
    events = burst(20)
    expected = expected_ids(events)
    events[5]["commit"]["record"].update(record)
    with JetstreamReplay(events) as server:
        stats = consume(stream_settings(server.url), incident)
    assert (stats.bad_events, stats.posts_seen) == (1, 19)  # read to the end of the burst
    lost = "bluesky:at://did:plc:user0005/app.bsky.feed.post/3l6r0000005"
    assert set(stored_ids(es_client, index_names)) == expected - {lost}


def _cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPREADWATCH_")}
    env.update(
        SPREADWATCH_DATA_DIR=str(settings.data_dir),
        SPREADWATCH_INDEX_PREFIX=settings.index_prefix,
        SPREADWATCH_ALLOW_PRIVATE_NETWORKS=REPLAY_NETWORKS,  # the Jetstream replay's loopback
    )
    if settings.es_url:
        env["SPREADWATCH_ES_URL"] = settings.es_url
    return {**env, **extra}


def test_the_stream_command_indexes_a_burst_and_prints_a_summary(
    stream_settings: Any, incident: Incident, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    events = burst(50)
    assert incident.path is not None
    with JetstreamReplay(events) as server:
        settings = stream_settings(server.url)
        done = subprocess.run(
            [sys.executable, "-m", "spreadwatch", "stream", str(incident.path), "--source", "bluesky", "--idle-timeout", "1"],
            env=_cli_env(settings, SPREADWATCH_JETSTREAM_BASE_URL=server.url),
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["incident"], summary["indexed"]) == (incident.id, 10)
    assert set(stored_ids(es_client, index_names)) == expected_ids(events)
    assert summary["stance_labelled"] == 10
    assert stance_states(es_client, index_names) == {("model", False): 10}


def stance_states(client: Elasticsearch, names: IndexNames) -> dict[tuple[str, bool], int]:
    """How many posts carry each (stance_source, still pending) pair."""
    client.indices.refresh(index=names.posts)
    hits = client.search(index=names.posts, size=1000, query={"match_all": {}})["hits"]["hits"]
    states = [
        (h["_source"]["stance_source"], bool(h["_source"].get("stance_pending"))) for h in hits
    ]
    return dict(Counter(states))


def test_a_stream_run_on_its_own_labels_its_posts_while_it_runs(
    stream_settings: Any, incident: Incident, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    """Without the monitor nothing else would label them: the stream's own passes do, every
    SPREADWATCH_STANCE_EVERY seconds, before it stops."""
    events = burst(50)
    assert incident.path is not None
    with JetstreamReplay(events) as server:
        env = _cli_env(stream_settings(server.url), SPREADWATCH_JETSTREAM_BASE_URL=server.url,
                       SPREADWATCH_STANCE_EVERY="1")  # fmt: skip
        command = [sys.executable, "-m", "spreadwatch", "stream", str(incident.path)]
        with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as running:  # fmt: skip
            try:
                labelled_while_running = wait_for_states(es_client, index_names, {("model", False): 10}, running)  # fmt: skip
            finally:
                running.terminate()
            out, err = running.communicate(timeout=60)
    assert labelled_while_running, err[-2000:]
    assert running.returncode == 0, err[-2000:]
    assert json.loads(out.strip().splitlines()[-1])["stance_labelled"] == 10


def wait_for_states(
    client: Elasticsearch,
    names: IndexNames,
    wanted: dict[tuple[str, bool], int],
    running: subprocess.Popen[str],
) -> bool:
    """Whether the posts reach `wanted` while the process still runs (within a minute)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and running.poll() is None:
        if stance_states(client, names) == wanted:
            return running.poll() is None
        time.sleep(0.2)
    return False


def test_under_the_monitor_the_stream_leaves_labelling_to_its_stance_job(
    stream_settings: Any, incident: Incident, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    events = burst(50)
    assert incident.path is not None
    assert "--no-label" in DEFAULT_STREAM_COMMAND
    with JetstreamReplay(events) as server:
        done = subprocess.run(
            [sys.executable, "-m", "spreadwatch", "stream", str(incident.path), "--idle-timeout", "1", "--no-label"],
            env=_cli_env(stream_settings(server.url), SPREADWATCH_JETSTREAM_BASE_URL=server.url),
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "stance_labelled" not in json.loads(done.stdout.strip().splitlines()[-1])
    assert stance_states(es_client, index_names) == {("lexicon", True): 10}


def test_the_stream_command_refuses_an_unknown_incident_in_one_line(
    es_settings: Settings, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "spreadwatch", "stream", str(tmp_path / "missing.yml")],
        env=_cli_env(es_settings), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1


def test_a_post_deleted_on_the_stream_is_marked_deleted_with_its_text_kept(
    stream_settings: Any, incident: Incident, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    """Evidence (#15): Jetstream's `delete` of a post the stream indexed marks it deleted; the
    firehose's other deletes (posts never indexed, other collections) are ignored."""
    kept = post_event("did:plc:leaker", "3l6keep0001", START_US, "ByteDance intern sabotage, the proof")  # fmt: skip
    gone = {"did": "did:plc:leaker", "time_us": START_US + 5_000_000, "kind": "commit",
            "commit": {"rev": "3l6x", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": "3l6keep0001"}}  # fmt: skip
    other = {"did": "did:plc:someone", "time_us": START_US + 6_000_000, "kind": "commit",
             "commit": {"rev": "3l6y", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": "3l6never"}}  # fmt: skip
    with JetstreamReplay([kept, gone, other]) as server:
        stats = consume(stream_settings(server.url), incident)
    assert stats.deleted == 1
    es_client.indices.refresh(index=index_names.posts)
    [hit] = es_client.search(index=index_names.posts, query={"match_all": {}})["hits"]["hits"]
    doc = hit["_source"]
    assert (doc["deleted_how"], doc["text"]) == ("bluesky:deleted", "ByteDance intern sabotage, the proof")  # fmt: skip
    assert doc["deleted_at"]


def repost_event(did: str, rkey: str, time_us: int, subject: str) -> dict[str, Any]:
    """A Jetstream `commit` creating an `app.bsky.feed.repost` of `subject` (an at:// URI)."""
    record = {"$type": "app.bsky.feed.repost", "createdAt": "2024-10-18T15:00:01.000Z", "subject": {"uri": subject, "cid": "bafyreisubject"}}  # fmt: skip
    commit = {"rev": f"3l{rkey}", "operation": "create", "collection": "app.bsky.feed.repost", "rkey": rkey, "record": record, "cid": f"bafyrei{rkey}"}  # fmt: skip
    return {"did": did, "time_us": time_us, "kind": "commit", "commit": commit}


def test_reposts_of_kept_posts_are_kept_as_repost_edges(
    stream_settings: Any, incident: Incident, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    events = burst(10)  # posts 0 and 5 are about the rumour
    kept = "at://did:plc:user0000/app.bsky.feed.post/3l6r0000000"
    other = "at://did:plc:user0001/app.bsky.feed.post/3l6r0000001"
    events += [
        repost_event("did:plc:fan", "3l7rp1", START_US + 50_000, kept),
        repost_event("did:plc:fan", "3l7rp2", START_US + 50_001, other),
    ]
    with JetstreamReplay(events) as server:
        stats = consume(stream_settings(server.url), incident)
    ids = set(stored_ids(es_client, index_names))
    repost = "bluesky:at://did:plc:fan/app.bsky.feed.repost/3l7rp1"
    assert ids == expected_ids(events[:10]) | {repost}
    doc = es_client.get(index=index_names.posts, id=repost)["_source"]
    assert (doc["kind"], doc["repost_of"]) == ("repost", f"bluesky:{kept}")
    assert (stats.indexed, stats.reposts) == (2, 1)


def test_a_stream_on_a_private_address_is_refused_before_connecting(
    settings_for: Callable[..., Settings], incident: Incident, index_names: IndexNames
) -> None:
    with JetstreamReplay(burst(5)) as server:
        settings = settings_for(index_prefix=index_names.prefix, jetstream_base_url=server.url,
                                allow_private_networks="")  # fmt: skip
        with pytest.raises(PrivateAddressError, match=r"127\.0\.0\.1 \(loopback\)"):
            consume(settings, incident)
    assert server.connections == []


@pytest.mark.parametrize(
    "time_us",
    [4_102_444_800_000_000, 10**30, 1],
    ids=["year-2100", "past-any-calendar", "1970"],
)
def test_an_event_at_an_impossible_time_is_one_bad_event_and_does_not_move_the_cursor(
    stream_settings: Any,
    incident: Incident,
    es_client: Elasticsearch,
    index_names: IndexNames,
    time_us: int,
) -> None:
    """A far-future `time_us` taken as the cursor would have marked every later true event
    as already handled, and the checkpoint would have kept the stream blind after restarts."""
    events = burst(20)
    events[3]["time_us"] = time_us
    with JetstreamReplay(events) as server:
        stats = consume(stream_settings(server.url), incident)
    assert (stats.bad_events, stats.skipped_replayed) == (1, 0)
    assert stats.cursor == events[19]["time_us"]  # the last post; the like is filtered out
    assert set(stored_ids(es_client, index_names)) == expected_ids(events)


def test_a_stored_cursor_at_an_impossible_time_is_dropped_and_the_stream_starts_live(
    stream_settings: Any, incident: Incident, es_client: Elasticsearch, index_names: IndexNames
) -> None:
    events = burst(20)
    with JetstreamReplay(events) as server:
        settings = stream_settings(server.url)
        store = state_store(settings)
        store.commit(incident.id, "jetstream", StateDelta((("cursor", "time_us", 10**18),)))
        stats = consume(settings, incident)
    assert server.connections == [None]
    assert stats.skipped_replayed == 0
    assert set(stored_ids(es_client, index_names)) == expected_ids(events)


def test_a_failing_stance_pass_is_logged_and_the_next_one_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The stream's labeller: a pass that raises costs only that pass, and one last pass runs
    after the stream has finished."""
    calls: list[bool] = []

    async def scenario() -> Labeller:
        finished = asyncio.Event()

        def one_pass() -> LabelRun:
            calls.append(finished.is_set())
            if len(calls) == 1:
                raise RuntimeError("the head broke")
            return LabelRun(labelled=3)

        labeller = Labeller(one_pass)
        labelling = asyncio.create_task(labeller.every(0.05, finished))

        async def second_pass() -> None:
            while len(calls) < 2 and not labelling.done():
                await asyncio.sleep(0.01)

        await asyncio.wait_for(second_pass(), timeout=30)
        finished.set()
        await labelling
        return labeller

    labeller = asyncio.run(scenario())
    assert calls[:2] == [False, False] and calls[-1] is True
    assert labeller.labelled == 3 * (len(calls) - 1)
    assert "the stance head's pass failed" in caplog.text and "the head broke" in caplog.text
