"""Configs that would hurt are refused at once, with the reason: a regex that backtracks, a
window that is a number, a negative timeout, an unknown incident, a report into nowhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from indexer.matching import Matcher
from spreadwatch.incident import Incident
from spreadwatch.settings import SettingsError, load_settings

CLI = [sys.executable, "-m", "spreadwatch"]


def incident(**changes: object) -> Incident:
    data: dict[str, object] = {
        "id": "case",
        "title": "t",
        "window": {"start": "2024-10-15T00:00:00Z"},
        "queries": [{"name": "q", "any": ["bytedance intern"]}],
    }
    data.update(changes)
    return Incident.model_validate(data)


@pytest.mark.timeout(60)
def test_a_nested_quantifier_runs_in_linear_time_on_a_hostile_post() -> None:
    """`(a+)+$` on 'aaa…ab' backtracks 2^n steps in Python's engine: this would hang."""
    matcher = Matcher(incident(claims=[{"name": "evil", "patterns": ["re:(a+)+$"]}]))
    hostile = "bytedance intern " + "a" * 64 + "b"
    assert matcher.match(None, hostile).claims == []
    assert matcher.match(None, "bytedance intern aaaa").claims == ["evil"]


@pytest.mark.parametrize("pattern", [r"re:(a)\1", r"re:(?<=8000)\s*H100", r"re:foo(?!bar)"])
def test_patterns_that_need_backtracking_are_refused_when_the_file_loads(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"refused.*linear time"):
        incident(claims=[{"name": "c", "patterns": [pattern]}])


@pytest.mark.parametrize("start", [12, "12", 1729000000, "1970-01-01T00:00:12Z"])
def test_a_window_that_is_a_number_or_1970_is_refused(start: object) -> None:
    with pytest.raises(ValueError, match=r"window\.start"):
        incident(window={"start": start})


@pytest.mark.parametrize("variable", ["SPREADWATCH_CRAWL_TIMEOUT", "SPREADWATCH_SMTP_TIMEOUT"])
@pytest.mark.parametrize("value", ["-5", "0"])
def test_timeouts_must_be_positive(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=120,
        check=False,
    )  # fmt: skip


def test_a_report_into_a_missing_folder_is_an_error_and_creates_nothing(
    es_settings, tmp_path: Path
) -> None:
    from indexer.connection import es_url

    target = tmp_path / "no" / "such" / "dir" / "report.html"
    done = run_cli("report", "bytedance-intern-2024", "--out", str(target),
                   env={"SPREADWATCH_ES_URL": es_url(es_settings)})  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "does not exist" in done.stderr and not (tmp_path / "no").exists()


@pytest.mark.parametrize("command", ["timeline", "report"])
def test_an_unknown_incident_is_a_usage_error(
    command: str, es_settings, session_names, tmp_path: Path
) -> None:
    from indexer.connection import es_url

    extra = ["--out", str(tmp_path / "r.html")] if command == "report" else []
    done = run_cli(command, "no-such-incident", *extra, "--incidents-dir", str(tmp_path),
                   env={"SPREADWATCH_ES_URL": es_url(es_settings),
                        "SPREADWATCH_INDEX_PREFIX": session_names.prefix})  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "no-such-incident" in done.stderr and not (tmp_path / "r.html").exists()
