"""Two `spreadwatch run` processes on one cluster: one runs the jobs, the other stands by.

SIGKILL the active monitor: the standby takes the lease within 30 s (the product's defaults:
heartbeat every 5 s, lease TTL 15 s) and runs the jobs from then on — an alert the dead monitor
sent is not sent again, and an alert that becomes due after the kill is sent by the standby.
Real processes: three Elasticsearch nodes, two monitors, a real SMTP server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from alerts_support import SmtpServer, index_posts, post
from elasticsearch import Elasticsearch
from scheduler_support import wait_for

from indexer.connection import IndexNames
from indexer.versioned import read
from scheduler.lease import LEASE_ID
from spreadwatch.settings import Settings

pytest_plugins = ["conftest_cluster", "conftest_alerts"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TAKEOVER_LIMIT = 30.0  # seconds, the promise with the default heartbeat and TTL


def write_incident(folder: Path, ident: str) -> None:
    incident = {
        "id": ident,
        "title": f"Standby test {ident}",
        "window": {"start": (datetime.now(UTC) - timedelta(days=1)).isoformat()},
        "queries": [{"name": "en", "lang": "en", "any": ["ByteDance intern"]}],
        "alerts": {
            "every": "10s",
            "recipients": ["analyst@example.org"],
            "rules": [{"name": "first-seen", "type": "first_platform"}],
        },
    }
    (folder / f"{ident}.yml").write_text(yaml.safe_dump(incident), encoding="utf-8")


@pytest.fixture
def start_monitor(
    cluster_settings: Settings, smtp_server: SmtpServer, tmp_path: Path
) -> Iterator[Callable[[str, Path], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, incidents: Path) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "SPREADWATCH_ES_URL": cluster_settings.es_url or "",
            "SPREADWATCH_INDEX_PREFIX": cluster_settings.index_prefix,
            "SPREADWATCH_DATA_DIR": str(tmp_path / name),  # its own job store, as on its own host
            "SPREADWATCH_SMTP_URL": smtp_server.url,
        }
        command = [sys.executable, "-m", "spreadwatch", "run", str(incidents)]
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def lease_pid(client: Elasticsearch, names: IndexNames) -> int | None:
    found = read(client, names.monitors, LEASE_ID)
    return int(found.source["holder"].split(":")[1]) if found else None


def role_of(client: Elasticsearch, names: IndexNames, pid: int) -> str | None:
    client.indices.refresh(index=names.monitors)
    hits = client.search(
        index=names.monitors,
        query={"bool": {"filter": [{"term": {"kind": "heartbeat"}}, {"term": {"pid": pid}}]}},
    )["hits"]["hits"]
    return hits[0]["_source"].get("role") if hits else None


def subjects(server: SmtpServer) -> list[str]:
    return sorted(str(message["Subject"]) for message in server.inbox.messages)


@pytest.mark.timeout(900)  # a safety net: the cluster starts within the first test using it
def test_the_standby_takes_over_within_30s_without_a_duplicate_or_a_lost_alert(
    cluster_client: Elasticsearch,
    cluster_names: IndexNames,
    smtp_server: SmtpServer,
    start_monitor: Callable[[str, Path], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    incidents = tmp_path / "incidents"
    incidents.mkdir()
    for ident in ("standby-one", "standby-two"):
        write_incident(incidents, ident)
    now = datetime.now(UTC)
    index_posts(cluster_client, cluster_names, [post("a1", now, "news", "standby-one")])

    active = start_monitor("host-a", incidents)
    wait_for(lambda: lease_pid(cluster_client, cluster_names) == active.pid, 90, "A's lease")
    standby = start_monitor("host-b", incidents)
    wait_for(lambda: len(smtp_server.inbox.messages) == 1, 90, "A's first alert")
    wait_for(lambda: role_of(cluster_client, cluster_names, standby.pid) == "standby", 90, "B")

    active.send_signal(signal.SIGKILL)
    active.wait()
    killed = time.monotonic()
    # Due only after the kill: the standby must send it.
    index_posts(cluster_client, cluster_names, [post("b1", now, "news", "standby-two")])
    wait_for(lambda: lease_pid(cluster_client, cluster_names) == standby.pid, 60, "B's lease")
    takeover = time.monotonic() - killed
    wait_for(lambda: len(smtp_server.inbox.messages) >= 2, 60, "the alert due after the kill")
    # Another full alert round on the new active: nothing is sent twice.
    time.sleep(12)

    assert takeover < TAKEOVER_LIMIT, f"standby took {takeover:.1f}s to take over"
    assert role_of(cluster_client, cluster_names, standby.pid) == "active"
    sent = subjects(smtp_server)
    assert len(sent) == 2, sent
    assert any("standby-one" in s for s in sent), sent
    assert any("standby-two" in s for s in sent), sent
    cluster_client.indices.refresh(index=cluster_names.alerts)
    stored = cluster_client.search(index=cluster_names.alerts, size=20)["hits"]["hits"]
    assert sorted(h["_source"]["incident"] for h in stored) == ["standby-one", "standby-two"]
    assert {h["_source"]["state"] for h in stored} == {"sent"}
