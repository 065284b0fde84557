"""The second complete scenario, run by the real monitor: `spreadwatch run` (APScheduler on wall
time, 10-second schedules) crawls replayed feeds and Mastodon with the real spiders, and alert
e-mails go to a real SMTP server. The story is in `airline_case.py`.

What is asserted: the exact e-mails, in order, none missing, none twice — the digest (the two
non-urgent alerts of the rumour's start), "incident file invalid" (a typo while running), the
official denial (raised while the file is broken: the last good version keeps running) and the
denial overtaking the rumour (after a SIGKILL and a restart) — and the phases the timeline
reports, with the newsroom's unrelated items dropped as `no_match` and never the denial.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from airline_case import (
    STAGE_C,
    STAGE_D,
    TITLE,
    TYPO,
    StageClock,
    feeds,
    guid_id,
    incident_yaml,
    mastodon,
    status_id,
)
from alerts_support import Inbox, SmtpServer, free_port
from elasticsearch import Elasticsearch
from scheduler_support import PY, wait_for

from indexer.connection import IndexNames, es_url
from indexer.templates import delete_all
from scheduler.status import collect
from spreadwatch.replay import REPLAY_NETWORKS, ReplayServer
from spreadwatch.replay.feeds import FeedsReplay
from spreadwatch.replay.mastodon import MastodonReplay
from spreadwatch.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
#: Long enough for the rumour's first crawls and alert run to finish before the first digest.
DIGEST_PERIOD = 20
STEP_TIMEOUT = 90  # a loaded 2-core machine takes ~20 s per crawl


@pytest.fixture
def t0() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def clock(t0: datetime) -> StageClock:
    return StageClock(t0)


@pytest.fixture
def replays(t0: datetime, clock: StageClock) -> Iterator[dict[str, str]]:
    with (
        ReplayServer(FeedsReplay(feeds(t0)), clock=clock) as news,
        ReplayServer(MastodonReplay(mastodon(t0)), clock=clock) as social,
    ):
        yield {"SPREADWATCH_FEEDS_BASE_URL": news.url, "SPREADWATCH_MASTODON_BASE_URL": social.url}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(Inbox(), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def names(es_client: Elasticsearch) -> Iterator[IndexNames]:
    created = IndexNames(f"swscenario-{uuid.uuid4().hex[:8]}")
    yield created
    delete_all(es_client, created)


class MonitorProcess:
    """`spreadwatch run` in its own process, and `spreadwatch` commands with the same settings."""

    def __init__(
        self, folder: Path, env: dict[str, str], logs: Path, client: Elasticsearch
    ) -> None:
        self.folder, self.env, self.logs, self.client = folder, env, logs, client
        self.settings = load_settings(**{
            k.removeprefix("SPREADWATCH_").lower(): v
            for k, v in env.items()
            if k.startswith("SPREADWATCH_") and not k.endswith("_BASE_URL")
        })  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.logs / f"monitor-{self.starts}.log").open("wb")
        command = [PY, "-m", "spreadwatch", "run", str(self.folder), "--watch-interval", "0.5",
                   "--shutdown-grace", "5", "--workers", "4"]  # fmt: skip
        self.process = subprocess.Popen(
            command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no goodbye, no clean shutdown
        self.process.wait(timeout=30)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PY, "-m", "spreadwatch", *args], env=self.env, cwd=ROOT,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    def status(self) -> dict[str, Any]:
        """What `spreadwatch status` reports, read in this process (a CLI run costs seconds)."""
        return collect(self.settings, self.client, datetime.now(UTC))

    def alert_runs_since(self, since: datetime) -> int:
        names = IndexNames(self.settings.index_prefix)
        self.client.indices.refresh(index=names.runs)
        query = {"bool": {"filter": [
            {"term": {"job": "alerts"}}, {"range": {"@timestamp": {"gt": since.isoformat()}}},
        ]}}  # fmt: skip
        return int(self.client.count(index=names.runs, query=query)["count"])

    def log_tail(self) -> str:
        """The monitor's log and its crawls' errors, for a failure message."""
        logs = [p.read_text(errors="replace")[-3000:] for p in sorted(self.logs.glob("*.log"))]
        runs = self.status()["last_runs"]
        return "\n".join(logs) + f"\nlast runs: {runs}"


@pytest.fixture
def monitor_env(tmp_path, es_settings: Settings, names, replays, smtp) -> dict[str, str]:
    """The monitor's settings: the session's node; its data, job store and indices its own."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("SPREADWATCH_")},
        "SPREADWATCH_ES_URL": es_url(es_settings),  # the session's node; all else in tmp
        "SPREADWATCH_DATA_DIR": str(tmp_path / "data"),
        "SPREADWATCH_INDEX_PREFIX": names.prefix,
        "SPREADWATCH_SCHEDULER_DB_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
        "SPREADWATCH_SMTP_URL": smtp.url,
        "SPREADWATCH_SMTP_FROM": "spreadwatch@aurora-air.example",
        "SPREADWATCH_HEARTBEAT_INTERVAL": "1",
        "SPREADWATCH_LEASE_TTL": "3",  # the restarted monitor takes over the lease quickly
        "SPREADWATCH_CRAWL_TIMEOUT": "90",
        "SPREADWATCH_ALLOW_PRIVATE_NETWORKS": REPLAY_NETWORKS,
        **replays,
    }


@pytest.fixture
def monitor(tmp_path, monitor_env, es_client) -> Iterator[MonitorProcess]:
    folder = tmp_path / "incidents"
    folder.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    process = MonitorProcess(folder, monitor_env, logs, es_client)
    yield process
    if process.process is not None and process.process.poll() is None:
        process.process.kill()
        process.process.wait(timeout=30)


def subjects(smtp: SmtpServer) -> list[str]:
    return [str(m["Subject"]) for m in smtp.inbox.messages]


@dataclass
class Scenario:
    """Everything the story needs: the monitor, the inbox, the replay clock, the cluster."""

    monitor: MonitorProcess
    smtp: SmtpServer
    clock: StageClock
    client: Elasticsearch
    names: IndexNames
    incident_id: str = field(default_factory=lambda: f"aurora-air-{uuid.uuid4().hex[:6]}")

    @property
    def path(self) -> Path:
        return self.monitor.folder / "aurora-air.yml"

    def mail(self, count: int) -> str:
        """Wait for the `count`-th e-mail; returns its subject."""
        try:
            wait_for(lambda: len(self.smtp.inbox.messages) >= count, timeout=STEP_TIMEOUT)
        except AssertionError:
            got = subjects(self.smtp)
            pytest.fail(f"expected {count} e-mails, got {got}\n{self.monitor.log_tail()}")
        return subjects(self.smtp)[count - 1]

    def indexed(self, doc_id: str) -> bool:
        self.client.indices.refresh(index=self.names.posts)
        return bool(self.client.exists(index=self.names.posts, id=doc_id))

    def stance(self, doc_id: str) -> str:
        return str(self.client.get(index=self.names.posts, id=doc_id)["_source"]["stance"])

    def drops(self) -> dict[str, int]:
        self.client.indices.refresh(index=self.names.runs)
        query = {"term": {"incident": self.incident_id}}
        found: dict[str, int] = {}
        for hit in self.client.search(index=self.names.runs, size=500, query=query)["hits"]["hits"]:
            for drop in hit["_source"].get("drops") or []:
                found[drop["key"]] = found.get(drop["key"], 0) + int(drop["count"])
        return found


@pytest.fixture
def scenario(monitor, smtp, clock, es_client, names) -> Scenario:
    return Scenario(monitor, smtp, clock, es_client, names)


def kill_and_check_status(monitor: MonitorProcess) -> None:
    """Killed, it never says goodbye: its heartbeat just stops, and status says so.

    Killed once the last e-mail's delivery is recorded: SMTP has no transactions, so a kill
    between the server's "250 OK" and the `sent` record means the alert goes out again after
    the restart (at least once, with the same Message-ID) — not what this story is about."""
    wait_for(lambda: not monitor.status()["open_alerts"], timeout=STEP_TIMEOUT, step=0.2)
    killed = monitor.process.pid if monitor.process else None
    monitor.kill()
    wait_for(lambda: not monitor.status()["monitor"]["running"], timeout=30, step=0.5)
    last_seen = monitor.status()["monitor"]["monitors"][0]["last_seen"]
    down = monitor.cli("status")
    assert (down.returncode, down.stdout.splitlines()[0]) == (
        2,
        f"monitor NOT running (last seen {last_seen} on {socket.gethostname()} "
        f"(pid {killed}, spreadwatch 0.1.0); heartbeat lost)",
    )


def restart_while_broken(monitor: MonitorProcess) -> None:
    """Restarted with the file still broken: it runs the last good copy and says what is wrong."""
    monitor.start()
    wait_for(lambda: monitor.status()["monitor"]["running"], timeout=60, step=0.5)
    up = monitor.status()
    [error] = up["monitor"]["incident_errors"]
    assert (up["health"]["exit_code"], error["running_last_good"]) == (1, True)
    assert "alerts.rules.3.type" in error["error"]


def check_what_was_indexed(story: Scenario, t0: datetime) -> None:
    """The newsroom's unrelated items were dropped as no_match; stances as the story has them."""
    assert not story.indexed(guid_id("aa-winter-routes"))
    assert not story.indexed(guid_id("aa-lounge"))
    assert story.drops().get("no_match", 0) >= 2
    assert story.stance(status_id(t0, "planespotter")) == "rumour"  # the hedged rumour
    assert story.stance(guid_id("aa-statement")) == "denial"
    assert story.stance(status_id(t0, "auroraair")) == "denial"


def check_phases(story: Scenario, t0: datetime) -> None:
    done = story.monitor.cli("timeline", str(story.path), "--format", "json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)["phases"]
    names = [p["name"] for p in found["phases"]]
    assert names[:2] == ["rumour", "denial"] and set(names[2:]) <= {"coverage", "decay"}
    assert found["onset"]["id"] == status_id(t0, "planespotter")
    assert found["denial"]["id"] == guid_id("aa-statement")
    assert found["measures"]["time_to_denial"] == timedelta(minutes=30).total_seconds()


def test_airline_rumour_under_the_real_monitor(scenario: Scenario, t0: datetime) -> None:
    story, monitor = scenario, scenario.monitor
    story.path.write_text(incident_yaml(story.incident_id, t0, f"{DIGEST_PERIOD}s"), "utf-8")

    # Stage A — the rumour starts on Mastodon; the newsroom posts unrelated news.
    monitor.start()
    assert story.mail(1) == f"Digest: 2 alerts — {TITLE}"

    # A typo while running: reported at once; the last good version keeps running.
    good = story.path.read_text()
    line = next(n for n, row in enumerate(good.splitlines(), 1) if TYPO[0] in row)
    story.path.write_text(good.replace(*TYPO), encoding="utf-8")
    assert story.mail(2) == (
        f"Incident file invalid: aurora-air.yml (line {line}, alerts.rules.3.type) — {TITLE}"
    )

    # Stage C — the official denial in the newsroom feed, crawled while the file is broken.
    story.clock.stage(STAGE_C)
    assert story.mail(3) == f"Official denial: @newsroom.aurora-air.example on news sites — {TITLE}"

    kill_and_check_status(monitor)
    restart_while_broken(monitor)

    # The file is fixed; stage D — the airline's own account repeats the denial (a second
    # channel: no second "official denial"), and with it the denial's reach passes the rumour's.
    story.path.write_text(good, encoding="utf-8")
    story.clock.stage(STAGE_D)
    assert story.mail(4) == f"Denial overtakes rumour: reach 45.0k vs 5.0k — {TITLE}"
    wait_for(lambda: story.indexed(guid_id("tn-aurora")), timeout=STEP_TIMEOUT)
    everything = datetime.now(UTC)  # every post is in: two more alert runs must send nothing
    wait_for(lambda: monitor.alert_runs_since(everything) >= 2, timeout=STEP_TIMEOUT, step=0.5)
    assert monitor.terminate() == 0

    assert len(subjects(story.smtp)) == 4  # none repeated after the restart, none extra
    digest = story.smtp.inbox.messages[0].get_body(("plain",)).get_content()
    assert "First post on Mastodon" in digest and "Threshold: " in digest
    check_what_was_indexed(story, t0)
    check_phases(story, t0)
