"""`spreadwatch alerts check|silence|list` and `spreadwatch status` at the command line."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from alerts_support import NOW, index_docs, index_posts, run_doc, spread
from click.testing import CliRunner
from scheduler_support import PY, write_incident

from indexer.spool import Spool, SpoolEntry
from scheduler.status import collect
from spreadwatch.cli import cli

pytest_plugins = ["conftest_alerts"]


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


H = timedelta(hours=1)


@pytest.fixture
def invoke(index_names, tmp_path, monkeypatch):
    monkeypatch.setenv("SPREADWATCH_INDEX_PREFIX", index_names.prefix)
    monkeypatch.setenv("SPREADWATCH_SCHEDULER_DB_URL", f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def incident_file(tmp_path):
    folder = tmp_path / "incidents"
    folder.mkdir()
    return write_incident(folder)


def test_check_prints_what_would_fire_and_stores_nothing(
    invoke, incident_file, es_client, index_names
):
    index_posts(es_client, index_names, spread(10, NOW - H, NOW, "w"))
    result = invoke("alerts", "check", str(incident_file), "--at", NOW.isoformat())
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip() == (
        "FIRE  spike[all]  Spike: new in the last hour — ByteDance intern rumour"
    )
    es_client.indices.refresh(index=index_names.alerts)
    assert es_client.count(index=index_names.alerts)["count"] == 0


def test_silenced_rule_shows_as_skipped_in_check(invoke, incident_file, es_client, index_names):
    index_posts(es_client, index_names, spread(10, NOW - H, NOW, "w"))
    folder = str(incident_file.parent)
    silenced = invoke("alerts", "silence", "spike", "--for", "4h", "--incidents-dir", folder)
    # A silence runs from now; check at the real clock, with posts in its window.
    now = datetime.now(UTC)
    index_posts(es_client, index_names, spread(10, now - H, now, "n"))
    checked = invoke("alerts", "check", str(incident_file), "--format", "json")
    [row] = json.loads(checked.stdout)
    assert silenced.stdout.startswith("spike silenced for every incident until ")
    assert (row["would_send"], row["suppressed"].startswith("silenced until")) == (False, True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["big-acount", "--for", "10m"], "unknown rule 'big-acount'"),
        (["spkie", "--for", "10m"], "unknown rule 'spkie'; did you mean 'spike'?"),
        (["spike", "--for", "ten"], "'ten' is not a duration"),
        (["spike", "--for", "10m", "--incident", "nope"], "no incident file with id 'nope'"),
    ],
)
def test_silencing_a_name_that_does_not_exist_is_a_usage_error(
    invoke, incident_file, args, message
):
    result = invoke("alerts", "silence", *args, "--incidents-dir", str(incident_file.parent))
    assert (result.exit_code, message in result.output) == (2, True), result.output


@pytest.mark.parametrize(
    ("given", "seconds"), [("10", 10), ("10s", 10), ("4h", 14400), ("2d", 172800)]
)
def test_silence_durations_are_seconds_or_any_unit(invoke, incident_file, given, seconds):
    result = invoke(
        "alerts", "silence", "spike", "--for", given, "--incidents-dir", str(incident_file.parent)
    )
    assert result.exit_code == 0, result.output
    until = datetime.fromisoformat(result.output.strip().rsplit(" ", 1)[1])
    assert abs((until - datetime.now(UTC)).total_seconds() - seconds) < 60


def test_list_shows_alerts_with_state(invoke, es_client, index_names):
    invoke("alerts", "silence", "*", "--for", "30m", "--incident", "bytedance-intern-2024")
    result = invoke("alerts", "list", "--format", "json")
    [alert] = json.loads(result.stdout)
    assert (alert["rule"], alert["state"], alert["incident"]) == (
        "*",
        "silenced",
        "bytedance-intern-2024",
    )


@pytest.mark.parametrize("bad", [["--for", "soon"], []])
def test_silence_needs_a_valid_duration(invoke, bad):
    result = CliRunner().invoke(cli, ["alerts", "silence", "spike", *bad])
    assert result.exit_code == 2


def test_check_of_a_broken_incident_file_is_a_one_line_error(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("id: x\ntitle: t\nwindow: {start: 2024-10-17}\nqueries: []\n")
    command = [PY, "-m", "spreadwatch", "alerts", "check", str(broken)]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "broken.yml:4: queries" in result.stderr


def test_status_json_lists_last_runs_and_open_alerts(invoke, es_client, index_names):
    index_docs(
        es_client,
        index_names.runs,
        [
            run_doc("github", NOW - 2 * H, "ok", 12),
            run_doc("github", NOW - H, "failed", 0),
            run_doc("weibo", NOW - H, "ok", 4),
        ],
    )
    result = invoke("status", "--format", "json")
    state = json.loads(result.stdout)
    last = {r["source"]: (r["status"], r["runs"]) for r in state["last_runs"]}
    assert last == {"github": ("failed", 2), "weibo": ("ok", 1)}
    assert (state["jobs"], state["open_alerts"]) == ([], [])


def test_status_counts_documents_waiting_in_the_spool(
    es_client, index_names, settings_for, tmp_path
):
    spool = Spool(tmp_path / "spool", index_names.prefix)
    spool.append(SpoolEntry("post", {"platform": "weibo"}, "unreachable: down") for _ in range(3))
    (tmp_path / "spool" / "other-prefix.lock").write_text("")  # locks are not waiting data
    settings = settings_for(index_prefix=index_names.prefix)
    settings = settings.model_copy(update={"data_dir": tmp_path})
    state = collect(settings, es_client, NOW)
    assert state["spool"]["documents"] == 3
    assert state["spool"]["by_prefix"][index_names.prefix]["by_reason"] == {"unreachable": 3}


def test_status_table_is_readable(invoke):
    result = invoke("status")
    assert result.exit_code == 2  # no monitor has ever run with this job store: it is down
    assert result.stdout.startswith("monitor NOT running (never seen with this job store)")
    assert "jobs (0)" in result.stdout and "spool:" in result.stdout


def test_status_lists_only_the_evidence_archives_holding_warc_files(
    invoke, tmp_path, monkeypatch, es_node_url
):
    evidence = tmp_path / "data" / "evidence"
    (evidence / "kept").mkdir(parents=True)
    (evidence / "kept" / "2024-10-18.warc.gz").write_bytes(b"x" * 3072)
    (evidence / "no-capture").mkdir()
    (evidence / "no-capture" / "ledger.sqlite").write_bytes(b"")
    monkeypatch.setenv("SPREADWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPREADWATCH_ES_URL", es_node_url)
    line = next(x for x in invoke("status").stdout.splitlines() if x.startswith("evidence"))
    assert line == "evidence archive: 3 KiB for 1 incident (kept 3 KiB in 1 file)"
    shutil.rmtree(evidence / "kept")
    line = next(x for x in invoke("status").stdout.splitlines() if x.startswith("evidence"))
    assert line == "evidence archive: empty"
