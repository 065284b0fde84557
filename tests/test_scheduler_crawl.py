"""Crawl subprocesses: bounded in time, and always leaving a runs document behind."""

from __future__ import annotations

import os
import threading

import pytest
from scheduler_support import PY, wait_for

from scheduler.crawl import run_crawl

pytest_plugins = ["conftest_alerts", "conftest_scheduler"]


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


INCIDENT = "bytedance-intern-2024"


def run_doc(es_client, names, run_id):
    return es_client.get(index=names.runs, id=run_id)["_source"]


def hang_command(pid_file):
    """A crawl that records its pid, starts a grandchild, and never ends."""
    code = (
        "import os, subprocess, sys, time, pathlib;"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']);"
        f"pathlib.Path({str(pid_file)!r}).write_text(f'{{os.getpid()}} {{child.pid}}');"
        "time.sleep(600)"
    )
    return (PY, "-c", code)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child not yet reaped is a zombie: dead for our purposes.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def test_hanging_crawl_is_killed_at_timeout_and_recorded(make_runtime, index_names, tmp_path):
    pid_file = tmp_path / "pids"
    rt = make_runtime(hang_command(pid_file), names=index_names, crawl_timeout=2)
    outcome = run_crawl(rt, "incident.yml", INCIDENT, "github")
    doc = run_doc(rt.client, index_names, outcome["run_id"])
    assert (doc["status"], doc["finish_reason"], doc["source"]) == ("timeout", "timeout", "github")
    assert "stopped after its 2s timeout" in doc["errors"]
    assert not any(alive(int(pid)) for pid in pid_file.read_text().split())


def test_crash_without_run_record_is_recorded_as_failed_with_its_error(make_runtime, index_names):
    crash = (PY, "-c", "import sys; sys.exit('ImportError: spider exploded')")
    rt = make_runtime(crash, names=index_names)
    outcome = run_crawl(rt, "incident.yml", INCIDENT, "weibo")
    doc = run_doc(rt.client, index_names, outcome["run_id"])
    assert (doc["status"], doc["job"], doc["incident"]) == ("failed", "crawl", INCIDENT)
    assert "exited with code 1" in doc["errors"] and "spider exploded" in doc["errors"]


def test_run_record_written_by_the_crawl_itself_is_kept(
    make_runtime, index_names, monkeypatch, tmp_path
):
    """The real `crawlers.run`, asked for a spider that does not exist, records its own run."""
    monkeypatch.setenv("SPREADWATCH_INDEX_PREFIX", index_names.prefix)
    incident = tmp_path / "incident.yml"
    from scheduler_support import incident_yaml

    incident.write_text(incident_yaml(), encoding="utf-8")
    command = (PY, "-m", "crawlers.run", "--incident", "{incident}", "--source", "{source}",
               "--run-id", "{run_id}")  # fmt: skip
    rt = make_runtime(command, names=index_names)
    outcome = run_crawl(rt, str(incident), INCIDENT, "no-such-source")
    doc = run_doc(rt.client, index_names, outcome["run_id"])
    assert (outcome["exit_code"], outcome["summary"]["status"]) == (2, "failed")
    assert "no spider named 'no-such-source'" in doc["errors"]


def test_shutdown_kills_a_crawl_that_outlives_the_grace(make_runtime, index_names, tmp_path):
    pid_file = tmp_path / "pids"
    rt = make_runtime(hang_command(pid_file), names=index_names, shutdown_grace=0.5)
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(run_crawl(rt, "incident.yml", INCIDENT, "reddit"))
    )
    worker.start()
    wait_for(pid_file.exists)
    rt.stopping.set()
    worker.join(timeout=30)
    doc = run_doc(rt.client, index_names, result["run_id"])
    assert (doc["status"], doc["finish_reason"]) == ("failed", "shutdown")


def test_crawl_job_takes_no_new_run_once_stopping(make_runtime, index_names, tmp_path):
    from scheduler import jobs, runtime

    marker = tmp_path / "ran"
    rt = make_runtime((PY, "-c", f"open({str(marker)!r}, 'w')"), names=index_names)
    rt.stopping.set()
    runtime.install(rt)
    try:
        jobs.crawl(str(tmp_path / "incident.yml"), "github")
    finally:
        runtime.install(None)
    assert not marker.exists()
