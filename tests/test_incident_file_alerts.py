"""A broken incident file is an alert, not silence: the last good version keeps running, one
urgent "incident file invalid" e-mail goes out (again per realert while broken), status shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alerts_support import index_posts, spread
from scheduler_support import incident_yaml, write_incident

from alerts.mailer import SmtpConfig, SmtpSender
from scheduler import jobs, runtime
from scheduler.service import Monitor
from scheduler.status import collect
from spreadwatch.incident import load_incident

pytest_plugins = ["conftest_alerts", "conftest_scheduler"]

H = timedelta(hours=1)
TYPO = ("type: spike", "type: spik")


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


@pytest.fixture
def rt(make_runtime, index_names, smtp_server, tmp_path):
    built = make_runtime(names=index_names)
    built.settings = built.settings.model_copy(update={"data_dir": tmp_path / "data"})
    built.__post_init__()  # the registry's folder follows the data folder
    built.sender = SmtpSender(SmtpConfig.from_url(smtp_server.url), timeout=5)
    runtime.install(built)
    yield built
    runtime.install(None)


def subjects(smtp_server) -> list[str]:
    return [m["Subject"] for m in smtp_server.inbox.messages]


def break_file(path: Path) -> int:
    """Introduce the typo; returns its line."""
    text = path.read_text()
    path.write_text(text.replace(*TYPO))
    return next(n for n, line in enumerate(text.splitlines(), 1) if TYPO[0] in line)


def test_broken_edit_runs_the_last_good_version_and_alerts_once(rt, smtp_server, tmp_path):
    path = write_incident(tmp_path)
    assert rt.incidents.load(path) is not None  # the monitor saw it valid once
    line = break_file(path)
    index_posts(rt.client, rt.names, spread(8, datetime.now(UTC) - H / 2, datetime.now(UTC), "w"))
    jobs.alerts(str(path))
    jobs.alerts(str(path))  # the next run, within the realert window
    assert subjects(smtp_server) == [
        f"Incident file invalid: bytedance.yml (line {line}, alerts.rules.0.type) "
        "— ByteDance intern rumour",
        "Spike: new in the last hour — ByteDance intern rumour",  # the last good rules still run
    ]
    body = smtp_server.inbox.messages[0].get_body(("plain",)).get_content()
    assert "keeps running the last good version" in body and "Input should be" in body


def test_crawls_read_the_last_good_copy_while_the_file_is_broken(rt, tmp_path):
    path = write_incident(tmp_path)
    rt.incidents.load(path)
    break_file(path)
    rt.incidents.load(path)
    copy = rt.incidents.crawl_path(path)
    assert copy != path.resolve() and load_incident(copy).alerts.rules[0].type == "spike"
    path.write_text(incident_yaml(github_every="15m"))
    rt.incidents.load(path)  # valid again: the copy follows the file
    fixed = load_incident(rt.incidents.crawl_path(path))
    assert fixed.sources.github.every == timedelta(minutes=15)


def test_fixed_then_broken_again_is_a_new_alert(rt, smtp_server, tmp_path):
    path = write_incident(tmp_path)
    rt.incidents.load(path)
    break_file(path)
    jobs.alerts(str(path))
    path.write_text(incident_yaml())
    jobs.alerts(str(path))
    break_file(path)
    jobs.alerts(str(path))
    assert [s.split(" (")[0] for s in subjects(smtp_server)] == [
        "Incident file invalid: bytedance.yml"
    ] * 2


def test_a_restart_while_broken_runs_the_copy_and_does_not_realert(
    rt, make_runtime, smtp_server, tmp_path
):
    path = write_incident(tmp_path)
    rt.incidents.load(path)
    break_file(path)
    jobs.alerts(str(path))
    rt.__post_init__()  # a new monitor process: nothing in memory, the copy on disk
    assert rt.incidents.load(path).id == "bytedance-intern-2024"
    jobs.alerts(str(path))
    assert len(subjects(smtp_server)) == 1


def test_a_new_file_invalid_from_the_start_is_reported_and_shown_by_status(
    rt, smtp_server, tmp_path, es_client
):
    folder = tmp_path / "incidents"
    folder.mkdir()
    path = folder / "airline.yml"
    path.write_text(incident_yaml("airline-grounding").replace(*TYPO))
    monitor = Monitor(rt, [folder], watch_interval=60)
    monitor.start(paused=True)
    try:
        state = collect(rt.settings, es_client, datetime.now(UTC))
    finally:
        monitor.stop()
    [message] = smtp_server.inbox.messages
    assert message["Subject"].startswith("Incident file invalid: airline.yml (line ")
    assert message["To"] == "analyst@example.org"  # read from the broken file itself
    assert "not monitored until the file is fixed" in message.get_body(("plain",)).get_content()
    [error] = state["monitor"]["incident_errors"]
    assert (error["incident"], error["running_last_good"]) == ("airline-grounding", False)
    assert "alerts.rules.0.type" in error["error"]
    assert "1 incident file(s) invalid" in state["health"]["problems"]
