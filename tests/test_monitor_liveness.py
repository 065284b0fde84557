"""`spreadwatch status` tells a running monitor from a stopped or killed one, by its heartbeat."""

from __future__ import annotations

import json
import os
import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from alerts_support import index_posts, post
from click.testing import CliRunner
from scheduler_support import write_incident

from indexer.monitors import heartbeats
from scheduler.heartbeat import Heartbeat, Identity
from scheduler.service import Monitor, job_store_label
from scheduler.status import collect
from spreadwatch.cli import cli

pytest_plugins = ["conftest_alerts", "conftest_scheduler"]


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


@pytest.fixture
def incidents(tmp_path):
    folder = tmp_path / "incidents"
    folder.mkdir()
    write_incident(folder)
    return folder


@pytest.fixture
def rt(make_runtime, index_names):
    return make_runtime(names=index_names)


@pytest.fixture
def monitor(rt, incidents):
    started = Monitor(rt, [incidents], watch_interval=60)
    started.start(paused=True)
    yield started
    if started.scheduler.running:
        started.stop()


#: The exit code of an otherwise healthy status, by the cluster status that status saw: other
#: tests' indices (in other workers, at any moment) may leave the shared node yellow, which
#: status rightly reports as a warning — so the expectation is read from the same look.
OK_UNLESS_THE_CLUSTER_IS_NOT = {"green": 0, "yellow": 1, "red": 2}


def ok_unless_the_cluster_is_not(state: dict) -> int:
    return OK_UNLESS_THE_CLUSTER_IS_NOT[state["cluster"]["status"]]


def monitor_problems(state):
    return [p for p in state["health"]["problems"] if not p.startswith("Elasticsearch is")]


def test_a_running_monitor_says_where_since_when_and_what_it_holds(rt, monitor, es_client):
    state = collect(rt.settings, es_client, datetime.now(UTC))
    [me] = state["monitor"]["monitors"]
    assert state["monitor"]["running"] is True
    assert (me["host"], me["pid"], me["state"]) == (socket.gethostname(), os.getpid(), "running")
    assert me["jobs_held"] == 5  # two crawls, alerts, the evidence re-check, the stance head
    assert monitor_problems(state) == []
    assert state["health"]["exit_code"] == ok_unless_the_cluster_is_not(state)


def test_the_heartbeat_record_names_host_pid_version_jobs_and_last_tick(rt, monitor, es_client):
    [doc] = heartbeats(es_client, rt.names, job_store_label(rt.settings))
    assert (doc["kind"], doc["version"], doc["interval_s"]) == ("heartbeat", "0.1.0", 5.0)
    assert sorted(job["id"] for job in doc["jobs"]) == [
        "alerts:bytedance-intern-2024",
        "crawl:bytedance-intern-2024:feeds",
        "crawl:bytedance-intern-2024:github",
        "recheck:bytedance-intern-2024",
        "stance:bytedance-intern-2024",
    ]
    assert datetime.now(UTC) - datetime.fromisoformat(doc["@timestamp"]) < timedelta(minutes=1)


def test_a_cleanly_stopped_monitor_is_not_running(rt, monitor, es_client):
    monitor.stop()
    state = collect(rt.settings, es_client, datetime.now(UTC))
    [last] = state["monitor"]["monitors"]
    assert (state["monitor"]["running"], last["state"]) == (False, "stopped")
    assert state["health"]["exit_code"] == 2


def test_a_monitor_that_stopped_ticking_is_not_running(rt, es_client):
    """A killed process writes nothing more: its last tick just ages."""
    then = datetime.now(UTC) - timedelta(minutes=6)
    identity = Identity("crashed-host", 4242, "0.1.0", job_store_label(rt.settings))
    Heartbeat(es_client, rt.names, identity, lambda: {"jobs": []}, clock=lambda: then).tick()
    state = collect(rt.settings, es_client, datetime.now(UTC))
    [last] = state["monitor"]["monitors"]
    assert (state["monitor"]["running"], last["host"], last["state"]) == (
        False,
        "crashed-host",
        "gone",  # it never said goodbye: its record still says running
    )
    assert last["last_seen"] == then.isoformat()


def test_jobs_past_their_next_run_are_overdue_and_a_warning(rt, monitor, es_client):
    job = monitor.scheduler.get_job("crawl:bytedance-intern-2024:github")
    job.modify(next_run_time=datetime.now(UTC) - timedelta(minutes=10))
    state = collect(rt.settings, es_client, datetime.now(UTC))
    overdue = [j["id"] for j in state["jobs"] if j["overdue"]]
    assert overdue == ["crawl:bytedance-intern-2024:github"]
    assert (state["health"]["status"], state["health"]["exit_code"]) == ("warning", 1)
    assert monitor_problems(state) == ["1 job(s) overdue: crawl:bytedance-intern-2024:github"]


@pytest.fixture
def invoke(rt, monkeypatch):
    monkeypatch.setenv("SPREADWATCH_INDEX_PREFIX", rt.names.prefix)
    monkeypatch.setenv("SPREADWATCH_SCHEDULER_DB_URL", rt.settings.scheduler_db_url)
    return lambda *args: CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize(("written_ago", "warned"), [(timedelta(minutes=10), True),
                                                     (timedelta(seconds=30), False)])  # fmt: skip
def test_posts_waiting_minutes_for_the_stance_head_are_a_warning(
    rt, monitor, es_client, written_ago, warned
):
    now = datetime.now(UTC)
    written = now - written_ago
    index_posts(es_client, rt.names, [
        post("p1", written, stance_source="lexicon", stance_pending=True, last_seen=written.isoformat()),
        post("p2", now, stance_source="model", stance_pending=False, last_seen=written.isoformat()),
    ])  # fmt: skip
    state = collect(rt.settings, es_client, now)
    assert (state["stance"]["posts"], state["stance"]["by_incident"]) == (
        1, {"bytedance-intern-2024": 1}
    )  # fmt: skip
    waiting = [p for p in monitor_problems(state) if "provisional stance" in p]
    assert bool(waiting) is warned
    assert state["health"]["exit_code"] == (1 if warned else ok_unless_the_cluster_is_not(state))


def test_status_command_running_exits_zero(monitor, invoke):
    result = invoke("status")
    cluster = re.search(r"Elasticsearch is (\w+)", result.stdout)
    expected = OK_UNLESS_THE_CLUSTER_IS_NOT[cluster.group(1) if cluster else "green"]
    assert result.exit_code == expected, result.stdout
    assert result.stdout.startswith(f"monitor running on {socket.gethostname()} (pid {os.getpid()}")


def test_status_command_stopped_exits_two_and_says_when_it_was_last_seen(monitor, invoke):
    monitor.stop()
    result = invoke("status")
    assert result.exit_code == 2
    assert result.stdout.startswith("monitor NOT running (last seen ")
    assert "health: CRITICAL\n  no monitor is running" in result.stdout


def test_status_json_has_the_monitor_and_the_health(monitor, invoke):
    state = json.loads(invoke("status", "--format", "json").stdout)
    assert state["monitor"]["running"] is True
    assert state["health"]["exit_code"] == ok_unless_the_cluster_is_not(state)


def test_status_says_why_each_alert_is_still_open(rt, make_runtime, tmp_path, es_client):
    from alerts.model import Finding
    from alerts.store import AlertStore
    from spreadwatch.incident import load_incident

    folder = tmp_path / "digesting"
    folder.mkdir()
    path = write_incident(folder)
    path.write_text(path.read_text().replace("  every: 5m\n", "  every: 5m\n  digest: hourly\n"))
    monitor = Monitor(rt, [folder], watch_interval=60)
    monitor.start(paused=True)
    try:
        incident, now = load_incident(path), datetime.now(UTC)
        store = AlertStore(es_client, rt.names)

        def raise_(key, **extra):
            finding = Finding(
                "r", "threshold", key, f"Alert {key}", "", now - timedelta(hours=1), now
            )
            return store.record(incident, finding, ["a@example.org"], now, **extra)

        raise_("held", digest=True)
        refused = {"a@example.org": (451, "try later")}
        store.record_attempt(raise_("retry", digest=False), ["a@example.org"], refused, now)
        raise_("due", digest=False)
        state = collect(rt.settings, es_client, now)
    finally:
        monitor.stop()
    jobs = {job["id"]: job["next_run"] for job in state["jobs"]}
    why = {a["subject"].split(" — ")[0]: a["why"] for a in state["open_alerts"]}
    digest_at = jobs["digest:bytedance-intern-2024"]
    alerts_at = jobs["alerts:bytedance-intern-2024"]
    assert why == {
        "Alert held": f"held for the digest, sent at {digest_at}",
        "Alert retry": "1 delivery attempt(s) failed (a@example.org: try later); next attempt at "
        f"{(now + timedelta(seconds=30)).isoformat()}",
        "Alert due": f"due; goes out with the next alert run at {alerts_at}",
    }
