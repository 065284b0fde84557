"""What a demo crawl process is given: the demo's cluster and replays, never the shell's tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from spreadwatch.demo.rounds import crawl_env
from spreadwatch.settings import load_settings


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
