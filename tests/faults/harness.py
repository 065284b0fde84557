"""Fault injection against the replayed founding case: crawls killed at chosen moments.

The world is the demo's reconstructed dataset (`spreadwatch/demo/data/`), served by the replay
servers at a clock; the truth is the dataset itself: every record the generator marked as
matching the incident must be stored once, under its own id, whatever happened to the crawls.
Used by `tests/faults/` (a bounded number of faults, in CI) and `bench/bench_faults.py` (the
long form).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, helpers

from indexer.connection import IndexNames
from spreadwatch.demo import replays
from spreadwatch.demo.clock import SimClock
from spreadwatch.demo.dataset import INCIDENT_FILE, Entry, entries
from spreadwatch.demo.rounds import crawl_env
from spreadwatch.replay import ReplayServer
from spreadwatch.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The dataset's platforms each source stores posts for.
PLATFORMS = {
    "github": ("github",),
    "feeds": ("news",),
    "pages": ("toutiao", "v2ex"),
    "hackernews": ("hackernews",),
    "reddit": ("reddit",),
    "mastodon": ("mastodon",),
    "bluesky": ("bluesky",),
    "weibo": ("weibo",),
}
#: Record kinds that become posts (the rest are activity or profiles).
POST_KINDS = {"mblog", "repo", "readme", "issue", "comment", "hit", "thing", "status", "post",
              "item", "topic", "reply", "article"}  # fmt: skip
_DATASET_PLATFORM = {"news": "feeds"}


@dataclass
class World:
    """The replay servers of every source, at one clock, and the environment crawls need."""

    servers: dict[str, ReplayServer]
    clock: SimClock
    env: dict[str, str]

    def requests(self, source: str) -> int:
        return len(self.servers[source].requests)


@contextmanager
def world(settings: Settings, prefix: str, data_dir: Path, at: datetime) -> Iterator[World]:
    """Every replay server up at `at`; crawls write to `prefix` and keep state in `data_dir`."""
    clock = SimClock(at)
    servers = replays.start_servers(clock)
    try:
        env = crawl_env(settings, prefix, data_dir, {s: v.url for s, v in servers.items()})
        env["PYTHONPATH"] = str(PROJECT_ROOT)
        # Small batches: commits happen mid-crawl, so a kill lands between checkpoints.
        env["SPREADWATCH_BULK_BATCH_SIZE"] = "25"
        env["SPREADWATCH_BULK_FLUSH_SECONDS"] = "0.5"
        yield World(servers, clock, env)
    finally:
        replays.stop_servers(servers)


@dataclass
class CrawlResult:
    source: str
    killed: bool
    returncode: int
    summary: dict[str, Any] = field(default_factory=dict)
    stderr: str = ""


def crawl(
    place: World,
    source: str,
    run_id: str,
    *,
    kill_after: int | None = None,
    timeout: float = 180,
    env: dict[str, str] | None = None,
) -> CrawlResult:
    """One `crawlers.run` process; SIGKILLed once its source's server answered `kill_after`
    more requests (never, when None or when the crawl ends first). `env` adds variables."""
    start = place.requests(source)
    command = [sys.executable, "-m", "crawlers.run", "--incident", str(INCIDENT_FILE),
               "--source", source, "--run-id", run_id]  # fmt: skip
    full_env = {**place.env, "SPREADWATCH_LOG_LEVEL": "warning", **(env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=full_env, stdout=out, stderr=err, text=True,
            start_new_session=True,
        )  # fmt: skip
        killed = _watch(
            process,
            lambda: place.requests(source) - start >= (kill_after or 0),
            kill_after is not None,
            timeout,
        )
        out.seek(0)
        err.seek(0)
        lines = [line for line in out.read().splitlines() if line.startswith("{")]
        summary = json.loads(lines[-1]) if lines else {}
        return CrawlResult(source, killed, process.returncode, summary, err.read()[-3000:])


def _watch(
    process: subprocess.Popen[str], due: Callable[[], bool], kill: bool, timeout: float
) -> bool:
    """Wait for the process; SIGKILL its group once `due()` (when `kill`). True if killed."""
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if kill and due():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(f"crawl {process.args} did not end within {timeout:.0f}s")
        time.sleep(0.005)
    return False


def expected_posts(source: str, until: datetime) -> dict[str, set[str]]:
    """What the dataset says `source` must store by `until`: record → the keys that find it.

    A record is found by its id (as the platform's own id, or as the last part of the stored
    native id: `…#1/comment-2420052655`, `r_332662`, `…/statuses/113…`), else by its URL when
    no other record shares it (feed articles are stored under a hash of their guid).
    """
    records = [
        (platform, entry)
        for platform in PLATFORMS[source]
        for entry in entries(_DATASET_PLATFORM.get(platform, platform))
        if entry.kind in POST_KINDS
        and entry.matches
        and entry.at <= until
        and not _deleted_by(entry, until)
    ]
    urls = Counter(entry.url for _, entry in records)
    wanted: dict[str, set[str]] = {}
    for platform, entry in records:
        # A README shares its repository's record id; its document is `owner/name:readme`.
        native = f"{entry.id}:readme" if entry.kind == "readme" else entry.id
        keys = {f"{platform}:id:{native.lower()}"}
        if entry.url and urls[entry.url] == 1:
            keys.add(f"{platform}:url:{entry.url}")
        wanted[f"{platform}:{native}"] = keys
    return wanted


def _deleted_by(entry: Entry, until: datetime) -> bool:
    """The dataset deletes some records (a mirror repo its owner removed): a crawl after that
    moment is served nothing of them, so no crawl at `until` can be expected to store them."""
    deleted = entry.meta.get("deleted_at")
    return bool(deleted) and datetime.fromisoformat(str(deleted).replace("Z", "+00:00")) <= until


def _doc_keys(doc: dict[str, Any]) -> set[str]:
    platform, native = doc.get("platform"), str(doc.get("native_id") or "").lower()
    keys = {f"{platform}:id:{native}"}
    last = _TOKENS.split(native)[-1]
    if len(last) >= 6:
        keys.add(f"{platform}:id:{last}")
    for field_name in ("url", "via"):  # `via`: the aggregator's link (a Google News item)
        if doc.get(field_name):
            keys.add(f"{platform}:url:{doc[field_name]}")
    return keys


_TOKENS = re.compile(r"[/#_:-]")


@dataclass
class Tally:
    """Lost and doubled posts of one source against the dataset."""

    source: str
    expected: int
    stored: int
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)


def tally(client: Elasticsearch, names: IndexNames, source: str, until: datetime) -> Tally:
    """Compare what is stored for `source` with the dataset: a record no document carries is
    lost; a record two documents carry (one post stored under two ids) is doubled."""
    client.indices.refresh(index=names.posts)
    query = {"terms": {"platform": list(PLATFORMS[source])}}
    docs = [h["_source"] for h in _scan(client, names.posts, query)]
    carriers: Counter[str] = Counter()
    for doc in docs:
        carriers.update(_doc_keys(doc))
    wanted = expected_posts(source, until)
    lost, doubled = [], []
    for record, keys in wanted.items():
        by_id = [carriers[k] for k in keys if ":id:" in k]
        found = max(by_id) or max(carriers[k] for k in keys)  # the URL only when no id matched
        if found == 0:
            lost.append(record)
        elif found > 1:
            doubled.append(record)
    return Tally(source, len(wanted), len(docs), sorted(lost), sorted(doubled))


def _scan(client: Elasticsearch, index: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    fields = ["platform", "native_id", "url", "via"]
    return list(helpers.scan(client, index=index, query={"query": query}, _source=fields))
