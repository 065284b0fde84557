"""The job store keeps what it cannot reload, and `status` only ever reads it."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest
from scheduler_support import write_incident

from scheduler.service import Monitor
from scheduler.status import list_jobs

pytest_plugins = ["conftest_scheduler"]

JOBS = [
    "alerts:bytedance-intern-2024",
    "crawl:bytedance-intern-2024:feeds",
    "crawl:bytedance-intern-2024:github",
    "recheck:bytedance-intern-2024",
    "stance:bytedance-intern-2024",
]


@pytest.fixture
def incidents(tmp_path):
    folder = tmp_path / "incidents"
    folder.mkdir()
    return folder


def start(runtime, folder) -> Monitor:
    monitor = Monitor(runtime, [folder], watch_interval=60)
    monitor.start(paused=True)
    return monitor


def break_file(path) -> None:
    path.write_text(path.read_text().replace("every: 30m", "every: often"), encoding="utf-8")


def test_a_restart_with_a_file_that_never_loads_keeps_its_jobs(incidents, make_runtime, tmp_path):
    path = write_incident(incidents)
    write_incident(incidents, "other.yml", incident_id="other-rumour")
    runtime = make_runtime()
    start(runtime, incidents).stop()
    shutil.rmtree(runtime.incidents.folder)  # no last good copy to fall back on
    break_file(path)
    monitor = start(make_runtime(), incidents)
    try:
        ids = sorted(job.id for job in monitor.jobs())
    finally:
        monitor.stop()
    assert [i for i in ids if "bytedance" in i] == JOBS


def test_start_refuses_with_one_line_when_every_incident_file_is_invalid(
    incidents, make_runtime, tmp_path
):
    import subprocess

    from scheduler_support import PY

    from indexer.connection import es_url

    break_file(write_incident(incidents))
    settings = make_runtime().settings
    env = {**os.environ, "SPREADWATCH_INDEX_PREFIX": settings.index_prefix,
           "SPREADWATCH_SCHEDULER_DB_URL": str(settings.scheduler_db_url),
           "SPREADWATCH_ES_URL": es_url(settings), "SPREADWATCH_DATA_DIR": str(settings.data_dir)}  # fmt: skip
    env.pop("SPREADWATCH_SMTP_URL", None)
    done = subprocess.run(
        [PY, "-m", "spreadwatch", "run", str(incidents)], env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip().splitlines()[-1]  # after the log lines
    assert line.startswith("error: no incident file is valid") and "bytedance.yml" in line


def test_two_files_with_one_incident_id_are_an_error_naming_both(incidents, make_runtime):
    first = write_incident(incidents, "a.yml")
    second = write_incident(incidents, "b.yml")
    monitor = start(make_runtime(), incidents)
    try:
        [problem] = monitor.rt.incidents.problems()
        running = list(monitor.incidents)
    finally:
        monitor.stop()
    assert problem.file == second.resolve() and running == [first.resolve()]
    assert str(first.resolve()) in problem.error and str(second.resolve()) in problem.error


def test_status_reads_the_job_store_without_changing_it(incidents, make_runtime):
    write_incident(incidents)
    runtime = make_runtime()
    start(runtime, incidents).stop()
    url = runtime.settings.scheduler_db_url
    database = url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:  # a job this version can no longer unpickle
        db.execute(
            "UPDATE apscheduler_jobs SET job_state = ? WHERE id = ?",
            (b"\\x80\\x04not a pickle", "crawl:bytedance-intern-2024:feeds"),
        )
    before = sqlite3.connect(database).execute("SELECT count(*) FROM apscheduler_jobs").fetchone()
    listed = {j["id"]: j["schedule"] for j in list_jobs(url)}
    after = sqlite3.connect(database).execute("SELECT count(*) FROM apscheduler_jobs").fetchone()
    assert sorted(listed) == JOBS and before == after == (len(JOBS),)
    assert listed["crawl:bytedance-intern-2024:feeds"] == "(unreadable job state)"
    assert listed["crawl:bytedance-intern-2024:github"].startswith("crawl ")
