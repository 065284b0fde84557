"""Jobs built from incident files, kept in step with edits, and persisted across restarts."""

from __future__ import annotations

import logging
import sys
import time
from datetime import timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from scheduler_support import wait_for, write_incident

from scheduler.plan import AtClockTrigger
from scheduler.service import Monitor

pytest_plugins = ["conftest_scheduler"]


@pytest.fixture
def incidents(tmp_path):
    folder = tmp_path / "incidents"
    folder.mkdir()
    return folder


@pytest.fixture
def monitor_for(make_runtime):
    started: list[Monitor] = []

    def build(folder, **options):
        monitor = Monitor(make_runtime(), [folder], watch_interval=60, **options)
        monitor.start(paused=True)
        started.append(monitor)
        return monitor

    yield build
    for monitor in started:
        monitor.stop()


def schedule(monitor):
    return {job.id: job.trigger.interval for job in monitor.jobs()}


def test_one_crawl_job_per_source_and_one_alert_recheck_and_stance_job_per_incident(
    incidents, monitor_for
):
    write_incident(incidents)
    assert schedule(monitor_for(incidents)) == {
        "crawl:bytedance-intern-2024:github": timedelta(minutes=30),
        "crawl:bytedance-intern-2024:feeds": timedelta(hours=1),
        "alerts:bytedance-intern-2024": timedelta(minutes=5),
        "recheck:bytedance-intern-2024": timedelta(hours=6),  # evidence: deleted? edited?
        "stance:bytedance-intern-2024": timedelta(seconds=2),  # the head, after indexing
    }


def test_jobs_reference_functions_by_module_path_with_explicit_options(incidents, monitor_for):
    write_incident(incidents)
    job = next(j for j in monitor_for(incidents).jobs() if j.id.endswith(":github"))
    assert (job.func_ref, job.args) == (
        "scheduler.jobs:crawl",
        (str(incidents / "bytedance.yml"), "github"),
    )
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 900)
    assert job.trigger.jitter == 10


def test_edited_interval_changes_the_schedule_without_restart(incidents, monitor_for):
    path = write_incident(incidents)
    monitor = monitor_for(incidents)
    write_incident(incidents, github_every="10m")
    monitor._watcher._last = {}  # as if the watcher saw the edit
    monitor._watcher.check()
    assert schedule(monitor)["crawl:bytedance-intern-2024:github"] == timedelta(minutes=10)
    assert path.exists()


def test_added_and_removed_files_add_and_remove_jobs(incidents, monitor_for):
    first = write_incident(incidents)
    monitor = monitor_for(incidents)
    write_incident(incidents, "other.yml", incident_id="other-rumour")
    first.unlink()
    monitor.reload()
    assert sorted(schedule(monitor)) == [
        "alerts:other-rumour",
        "crawl:other-rumour:feeds",
        "crawl:other-rumour:github",
        "recheck:other-rumour",
        "stance:other-rumour",
    ]


def test_the_stance_job_has_a_worker_of_its_own(incidents, monitor_for):
    """Crawls holding every default worker must not hold back the labels."""
    write_incident(incidents)
    job = monitor_for(incidents).scheduler.get_job("stance:bytedance-intern-2024")
    assert (job.func_ref, job.executor, job.max_instances) == ("scheduler.jobs:stance", "stance", 1)


@pytest.mark.parametrize(
    ("change", "why"),
    [({"stance_deferred": False}, "the head labels each writer batch"),
     ({"stance_model": False}, "the lexicon alone labels")],
)  # fmt: skip
def test_no_stance_job_when_nothing_waits_for_the_head(incidents, make_runtime, change, why):
    write_incident(incidents)
    rt = make_runtime()
    rt.settings = rt.settings.model_copy(update=change)
    monitor = Monitor(rt, [incidents], watch_interval=60)
    monitor.start(paused=True)
    try:
        assert [j for j in schedule(monitor) if j.startswith("stance:")] == [], why
    finally:
        monitor.stop()


def test_broken_edit_keeps_the_last_good_jobs(incidents, monitor_for, caplog):
    path = write_incident(incidents)
    monitor = monitor_for(incidents)
    path.write_text(path.read_text().replace("every: 30m", "every: often"), encoding="utf-8")
    monitor.reload()
    assert schedule(monitor)["crawl:bytedance-intern-2024:github"] == timedelta(minutes=30)
    assert "bytedance.yml" in caplog.text and "sources.github.every" in caplog.text


def test_restart_keeps_stored_next_run_times(incidents, make_runtime):
    write_incident(incidents)
    first = Monitor(make_runtime(), [incidents], watch_interval=60)
    first.start(paused=True)
    job = first.scheduler.get_job("crawl:bytedance-intern-2024:github")
    first.scheduler.modify_job(job.id, next_run_time=job.next_run_time + timedelta(hours=5))
    planned = first.scheduler.get_job(job.id).next_run_time
    first.stop()
    second = Monitor(make_runtime(), [incidents], watch_interval=60)
    second.start(paused=True)
    try:
        assert second.scheduler.get_job(job.id).next_run_time == planned
    finally:
        second.stop()


def test_a_stored_report_job_of_an_older_trigger_is_replaced(incidents, make_runtime):
    """A job store written before `AtClockTrigger` holds APScheduler's own cron trigger (which
    runs a 02:30 report twice when the clocks go back): the same signature does not keep it."""
    path = write_incident(incidents)
    path.write_text(
        path.read_text() + 'reports:\n  - {every: daily, at: "02:30", to: [a@example.org]}\n',
        encoding="utf-8",
    )
    first = Monitor(make_runtime(), [incidents], watch_interval=60)
    first.start(paused=True)
    old = CronTrigger(hour=2, minute=30, timezone="UTC")
    first.scheduler.get_job("report:bytedance-intern-2024:0").modify(trigger=old)
    first.stop()
    second = Monitor(make_runtime(), [incidents], watch_interval=60)
    second.start(paused=True)
    try:
        job = second.scheduler.get_job("report:bytedance-intern-2024:0")
        assert type(job.trigger) is AtClockTrigger
    finally:
        second.stop()


def test_digest_option_adds_a_digest_job(incidents, monitor_for):
    path = write_incident(incidents)
    path.write_text(
        path.read_text().replace("every: 5m", "every: 5m\n  digest: hourly"), encoding="utf-8"
    )
    job = monitor_for(incidents).scheduler.get_job("digest:bytedance-intern-2024")
    assert str(job.trigger.fields[6]) == "0"  # minute 0 of every hour


def test_streamed_source_is_supervised_not_polled(incidents, monitor_for, tmp_path):
    stream = "  bluesky:\n    stream: true\n"
    path = write_incident(incidents)
    path.write_text(path.read_text().replace("  feeds:\n", stream + "  feeds:\n"), encoding="utf-8")
    marker = tmp_path / "streamed"
    command = (
        sys.executable,
        "-c",
        f"import pathlib,time; pathlib.Path('{marker}').write_text('{{source}}'); time.sleep(60)",
    )
    monitor = monitor_for(incidents, stream_command=command)
    assert "crawl:bytedance-intern-2024:bluesky" not in schedule(monitor)
    assert list(monitor.supervisors) == ["stream:bytedance-intern-2024:bluesky"]
    assert wait_for(lambda: marker.exists() and marker.read_text()) == "bluesky"


def test_failing_job_is_logged_by_the_error_listener(tmp_path, make_runtime, caplog):
    empty = tmp_path / "none"
    empty.mkdir()
    monitor = Monitor(make_runtime(), [empty], watch_interval=60)
    monitor.start()
    try:
        monitor.scheduler.add_job("json:loads", args=("{",), id="crawl:broken:json")
        wait_for(lambda: "job crawl:broken:json failed" in caplog.text)
    finally:
        monitor.stop()
    assert "JSONDecodeError" in caplog.text


def test_watcher_picks_up_an_edit_on_its_own(incidents, make_runtime):
    write_incident(incidents)
    monitor = Monitor(make_runtime(), [incidents], watch_interval=0.2)
    monitor.start(paused=True)
    try:
        time.sleep(0.05)  # a different mtime than the first write, on coarse clocks too
        write_incident(incidents, github_every="15m")
        github = "crawl:bytedance-intern-2024:github"
        wait_for(lambda: schedule(monitor)[github] == timedelta(minutes=15))
    finally:
        monitor.stop()


def test_a_source_without_its_credential_is_logged_once_when_the_file_is_loaded(
    incidents, monitor_for, caplog, monkeypatch
):
    path = write_incident(incidents)  # github, with `token_env: GITHUB_TOKEN` by default
    with caplog.at_level(logging.WARNING, logger="scheduler.service"):
        monitor = monitor_for(incidents)
        monitor.reload()  # nothing changed: nothing more to say
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_set-since")
        write_incident(incidents, github_every="10m")
        monitor.reload()  # edited, and the token is there now
    github = [r.getMessage() for r in caplog.records if ": github: " in r.getMessage()]
    assert github == [
        f"incident bytedance-intern-2024 ({path.resolve()}): github: SPREADWATCH_GITHUB_TOKEN "
        "(or GITHUB_TOKEN) is not set: GitHub is read at 60 requests an hour and 10 searches a "
        "minute, and stars past the 40,000 GitHub lists are not read"
    ]
    assert "ghp_set-since" not in caplog.text


def test_a_file_named_itself_and_through_its_folder_is_one_incident(incidents, make_runtime):
    path = write_incident(incidents)
    monitor = Monitor(make_runtime(), [incidents, path], watch_interval=60)
    monitor.start(paused=True)
    try:
        assert list(monitor.incidents) == [path.resolve()]
        assert monitor.rt.incidents.problems() == []
    finally:
        monitor.stop()
