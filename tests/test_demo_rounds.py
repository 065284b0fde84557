"""What a demo crawl process is given: the demo's cluster and replays, never the shell's tokens,
and the round's simulated moment, which is what its crawls stamp on what they see."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from github_fixture import CONFESSION, FAKE_CALL, T0, founding_world
from replay_helpers import SettableClock, write_incident

from evidence.recheck import prepare, read_targets, targets_path
from indexer.connection import IndexNames
from spreadwatch.demo.rounds import CrawlRounds, CrawlWorker, crawl_env, wait_readable
from spreadwatch.replay import ReplayServer
from spreadwatch.replay.github import GithubReplay
from spreadwatch.settings import Settings, load_settings

from child_support import children_take_ctrl_c  # isort: skip


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_real_token")
    monkeypatch.setenv("SPREADWATCH_GITHUB_TOKEN", "ghp_real_token")
    monkeypatch.setenv("SPREADWATCH_GITHUB_BASE_URL", "https://api.github.com")
    settings = load_settings(
        es_url="https://es.example:9200", es_api_key="cluster-key", es_verify_certs=False
    )
    replays = {"github": "http://127.0.0.1:1111", "reddit": "http://127.0.0.1:2222"}
    return crawl_env(settings, "spreadwatch-demo-abc", tmp_path, replays)


def test_the_shells_platform_tokens_do_not_reach_the_crawl(env: dict[str, str]) -> None:
    assert "ghp_real_token" not in env.values()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SPREADWATCH_ES_URL", "https://es.example:9200"),
        ("SPREADWATCH_ES_API_KEY", "cluster-key"),
        ("SPREADWATCH_ES_VERIFY_CERTS", "false"),
        ("SPREADWATCH_INDEX_PREFIX", "spreadwatch-demo-abc"),
        ("SPREADWATCH_GITHUB_BASE_URL", "http://127.0.0.1:1111"),
        ("SPREADWATCH_REDDIT_BASE_URL", "http://127.0.0.1:2222"),
        ("SPREADWATCH_REDDIT_AUTH_BASE_URL", "http://127.0.0.1:2222"),
    ],
)
def test_the_crawl_gets_the_demos_cluster_and_replays(
    env: dict[str, str], name: str, value: str
) -> None:
    assert env[name] == value


@pytest.mark.parametrize("chosen", [True, False])
def test_the_crawl_labels_stance_with_the_classifier_chosen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, chosen: bool
) -> None:
    env = crawl_env(load_settings(stance_model=chosen), "spreadwatch-demo-abc", tmp_path, {})
    for name in [k for k in os.environ if k.startswith("SPREADWATCH_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("SPREADWATCH_"):
            monkeypatch.setenv(name, value)
    assert load_settings().stance_model is chosen  # what the crawl process reads


#: A child process whose main thread waits 60 s for a pipe that stays silent, while another of
#: its threads takes a SIGINT (as the kernel may pick any thread for a process's signal).
_WAITING_CHILD = """
import os, signal, sys, threading, time
from spreadwatch.demo.rounds import wait_readable
read, _ = os.pipe()
def take_the_signal():
    time.sleep(0.3)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)
threading.Thread(target=take_the_signal, daemon=True).start()
began = time.monotonic()
try:
    wait_readable(os.fdopen(read), 60)
except KeyboardInterrupt:
    print(f"interrupted after {time.monotonic() - began:.1f} s")
"""


def test_a_ctrl_c_taken_by_another_thread_ends_the_wait_for_a_round() -> None:
    with children_take_ctrl_c():
        done = subprocess.run(
            [sys.executable, "-c", _WAITING_CHILD], capture_output=True, text=True, timeout=120,
            check=False,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )  # fmt: skip
    assert done.stdout.startswith("interrupted after"), done.stderr
    assert float(done.stdout.split()[2]) < 30  # not the 60 s the pipe would have taken


def test_a_pipe_with_an_answer_is_readable_and_a_silent_one_times_out() -> None:
    read, write = os.pipe()
    with os.fdopen(read) as stream, os.fdopen(write, "w") as writer:
        assert not wait_readable(stream, 0.2)
        writer.write("{}\n")
        writer.flush()
        assert wait_readable(stream, 5)


#: Two rounds of a simulated story, a day apart; the fake-call repo is deleted between them.
ROUND_1, ROUND_2 = T0 + timedelta(hours=16), T0 + timedelta(hours=40)
DELETED = T0 + timedelta(hours=30)


@pytest.fixture
def story() -> Iterator[tuple[ReplayServer, SettableClock]]:
    world = founding_world(stars=3, mirrors=1)
    world.deleted_repos = {FAKE_CALL: DELETED.isoformat()}
    clock = SettableClock(ROUND_1)
    with ReplayServer(GithubReplay(world), clock=clock) as server:
        yield server, clock


def _posts(client: Elasticsearch, names: IndexNames) -> dict[str, dict[str, Any]]:
    client.indices.refresh(index=names.posts)
    hits = client.search(index=names.posts, size=500)["hits"]["hits"]
    return {h["_id"]: h["_source"] for h in hits}


def _at(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@pytest.mark.parametrize("runner", ["worker", "process per crawl"])
def test_a_rounds_crawls_stamp_the_rounds_simulated_moment(
    *,
    runner: str,
    story: tuple[ReplayServer, SettableClock],
    es_settings: Settings,
    es_client: Elasticsearch,
    index_names: IndexNames,
    tmp_path: Path,
) -> None:
    """As the demo plays: round 1 finds the repos, the re-check of round 2 finds one deleted.
    Every time the crawls stamp is a round's moment, never the wall clock's."""
    server, clock = story
    sources = {"github": {"repos": [CONFESSION], "users": ["JusticeFighter110"], "terms": ["ByteDance intern"]}}  # fmt: skip
    incident = write_incident(tmp_path, sources)
    data_dir = tmp_path / "data"
    env = crawl_env(es_settings, index_names.prefix, data_dir, {"github": server.url})
    rounds: CrawlWorker | CrawlRounds
    if runner == "worker":
        rounds = CrawlWorker(incident, env, tmp_path / "crawl.log", timeout=240)
    else:
        settings = es_settings.model_copy(update={"index_prefix": index_names.prefix})
        rounds = CrawlRounds(incident, env, settings, timeout=240)
    try:
        assert [o.ok for o in rounds.run_round(["github"], "t-001", ROUND_1)] == [True]
        first = _posts(es_client, index_names)
        # The re-check reads the evidence found in round 1 (repos, commit, README), the issue
        # thread (no reach, not evidence) is not re-checked; the fake-call repo is among them.
        evidence = {k for k, p in first.items() if p["kind"] in ("repo", "commit") or k.endswith(":readme")}  # fmt: skip
        assert f"github:{FAKE_CALL}" in evidence and len(evidence) == 5
        assert prepare(es_client, index_names, data_dir, "test-case", min_reach=0) == 5
        written = read_targets(targets_path(data_dir, "test-case"))
        assert {f"github:{t['native_id']}" for t in written} == evidence
        clock.now = ROUND_2
        outcomes = rounds.run_round(["github", "recheck"], "t-002", ROUND_2)
        assert [o.ok for o in outcomes] == [True, True], [o.error for o in outcomes]
    finally:
        rounds.stop()
    posts = _posts(es_client, index_names)
    gone = posts[f"github:{FAKE_CALL}"]
    assert _at(gone["deleted_at"]) == ROUND_2
    assert _at(gone["deleted_evidence"]["captured_at"]) == ROUND_2
    assert {_at(p["first_seen"]) for p in first.values()} == {ROUND_1}
    for doc_id, post in posts.items():
        seen = ROUND_1 if doc_id in first else ROUND_2
        assert _at(post["first_seen"]) == seen, doc_id
        assert _at(post["last_seen"]) in (ROUND_1, ROUND_2), doc_id
        if post.get("evidence"):
            assert _at(post["evidence"]["captured_at"]) in (ROUND_1, ROUND_2), doc_id
