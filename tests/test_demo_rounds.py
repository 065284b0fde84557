"""What a demo crawl process is given: the demo's cluster and replays, never the shell's tokens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from spreadwatch.demo.rounds import crawl_env, wait_readable
from spreadwatch.settings import load_settings

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
