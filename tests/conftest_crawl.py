"""Fixtures for crawl-level tests: a local JSON server, an incident pointing at it, and a runner
for `python -m crawlers.run` in a subprocess (the reactor cannot restart inside pytest).

Use with `pytest_plugins = ["conftest_crawl"]` in the test module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent

RECORDS = [
    {
        "id": "1",
        "time": "2024-10-18T08:00:00Z",
        "text": "ByteDance intern sabotage rumour",
        "likes": 3,
    },
    {"id": "2", "time": 1729241000, "text": "网传字节跳动实习生投毒", "likes": 10},
    {"id": "3", "time": "2024-10-18T09:00:00Z", "text": "cat pictures, nothing else"},
    {"id": "4", "time": "not a date", "text": "ByteDance intern, undated"},
]

INCIDENT_YAML = """\
id: tiny-case
title: A tiny case for crawl tests
window: {{start: "2024-10-01T00:00:00Z"}}
languages: [en, zh]
queries:
  - {{name: en, lang: en, any: ["ByteDance intern"]}}
  - {{name: zh, lang: zh, any: ["字节跳动 实习生"]}}
sources:
  feeds:
    feeds:
      - {{url: "{url}"}}
"""


@dataclass
class JsonServer:
    """Serves `records` as JSON at /posts.json; everything else is a 404 (robots.txt too)."""

    records: list[dict[str, Any]] = field(default_factory=lambda: [dict(r) for r in RECORDS])
    requests: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/posts.json"


def _handler(server: JsonServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append(self.path)
            if self.path != "/posts.json":
                self.send_error(404)
                return
            body = json.dumps(server.records).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def json_server() -> Iterator[JsonServer]:
    state = JsonServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def tiny_incident(tmp_path: Path, json_server: JsonServer) -> Path:
    path = tmp_path / "tiny-case.yml"
    path.write_text(INCIDENT_YAML.format(url=json_server.url), encoding="utf-8")
    return path


@dataclass
class RunResult:
    code: int
    summary: dict[str, Any]
    stdout: str
    stderr: str


@pytest.fixture
def crawl_env(es_client: Elasticsearch, index_names: Any, tmp_path: Path) -> dict[str, str]:
    """Environment of a crawl subprocess: this test's indices and data folder, the session node."""
    url = es_client.transport.node_pool.get().base_url
    return {
        "SPREADWATCH_ES_URL": url,
        "SPREADWATCH_INDEX_PREFIX": index_names.prefix,
        "SPREADWATCH_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(TESTS)]),
    }


@pytest.fixture
def stored_posts(es_client: Elasticsearch, index_names: Any):  # type: ignore[no-untyped-def]
    """A function returning this test's posts index as {id: source}, after a refresh."""

    def read() -> dict[str, dict[str, Any]]:
        es_client.indices.refresh(index=index_names.posts)
        hits = es_client.search(index=index_names.posts, size=500)["hits"]["hits"]
        return {h["_id"]: h["_source"] for h in hits}

    return read


@pytest.fixture
def stored_runs(es_client: Elasticsearch, index_names: Any):  # type: ignore[no-untyped-def]
    """A function returning this test's run documents, after a refresh."""

    def read() -> list[dict[str, Any]]:
        es_client.indices.refresh(index=index_names.runs)
        return [h["_source"] for h in es_client.search(index=index_names.runs)["hits"]["hits"]]

    return read


@pytest.fixture
def crawl_runner():  # type: ignore[no-untyped-def]
    """`run_crawl` as a fixture, so test modules need not import this plugin."""
    return run_crawl


def run_crawl(env: dict[str, str], *args: str, timeout: float = 120) -> RunResult:
    """`python -m crawlers.run ARGS` with the test spiders available; parses the last line."""
    proc = subprocess.run(
        [sys.executable, "-m", "crawlers.run", "--spider-module", "crawl_spiders", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {}
    return RunResult(proc.returncode, summary, proc.stdout, proc.stderr)
