"""`spreadwatch check`: incident files read as the monitor reads them, with no cluster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from spreadwatch.cli import cli

HEAD = """\
id: {id}
title: A case
window: {{start: 2024-10-15T00:00:00Z}}
queries:
  - {{name: zh, lang: zh, any: ["字节 实习生"]}}
  - {{name: en, lang: en, any: ["ByteDance intern"]}}
claims:
  - {{name: gpus, patterns: ["8000 H100"]}}
"""

ALERTS = """\
alerts:
  recipients: [comms@example.org]
  rules:
    - {name: spike, type: spike}
    - {name: denial, type: official_denial}
"""

FEEDS = """\
sources:
  feeds: {feeds: [{url: "https://news.example.org/rss"}]}
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["check", *args], env=env or {}, catch_exceptions=False)


def notes(result: Result) -> list[str]:
    return [line.strip() for line in result.stdout.splitlines() if line.startswith("  note: ")]


def test_a_valid_file_is_summarised_in_one_line_and_exits_0(tmp_path: Path) -> None:
    path = write(tmp_path, "case.yml", HEAD.format(id="case") + FEEDS + ALERTS)
    result = run(str(path), env={"SPREADWATCH_SMTP_URL": "smtp://mail.example.org:25"})
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"ok       {path}  case: 2 queries (en, zh), 1 claim, sources feeds, 2 alert rules for "
        "1 recipient, 0 scheduled reports",
        "1 file: 1 valid, 0 invalid",
    ]


def test_an_invalid_file_is_named_with_its_line_and_the_others_are_still_read(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "incidents"
    write(folder, "a-good.yml", HEAD.format(id="good") + FEEDS)
    bad = write(folder, "b-bad.yml", HEAD.format(id="bad").replace("2024-10-15", "2024-13-45"))
    result = run(str(folder))
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"ok       {folder / 'a-good.yml'}  good: ")
    assert lines[1].startswith(f"INVALID  {bad}:3: window.start: ")
    assert lines[-1] == "2 files: 1 valid, 1 invalid"


def test_an_id_given_by_two_files_is_invalid_and_a_file_named_twice_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(tmp_path, "a.yml", HEAD.format(id="same") + FEEDS)
    second = write(tmp_path, "b.yml", HEAD.format(id="same") + FEEDS)
    monkeypatch.chdir(tmp_path)
    result = run(str(tmp_path), "a.yml")  # a.yml again, by another name
    assert result.exit_code == 2
    assert f"INVALID  {second}: id 'same' is also the id of {first}" in result.stdout
    assert result.stdout.splitlines()[-1] == "2 files: 1 valid, 1 invalid"


def test_a_folder_with_no_incident_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "no incident file" in result.stderr


REDDIT = "sources:\n  reddit: {subreddits: [china]}\n"
REDDIT_OWN = "sources:\n  reddit: {client_id_env: ACME_ID, client_secret_env: ACME_SECRET}\n"
TWO_INSTANCES = (
    "sources:\n  mastodon:\n    instances:\n"
    "      - {url: 'https://a.example', token_env: A_TOKEN}\n"
    "      - {url: 'https://b.example'}\n"
)
REDDIT_BOTH = (
    "reddit: SPREADWATCH_REDDIT_CLIENT_ID (or REDDIT_CLIENT_ID) and "
    "SPREADWATCH_REDDIT_CLIENT_SECRET (or REDDIT_CLIENT_SECRET) are not set: "
)


@pytest.mark.parametrize(
    ("sources", "env", "expected"),
    [
        (REDDIT, {}, [REDDIT_BOTH]),
        (REDDIT, {"REDDIT_CLIENT_ID": "id", "REDDIT_CLIENT_SECRET": "s"}, []),
        (
            REDDIT,
            {"SPREADWATCH_REDDIT_CLIENT_ID": "id", "SPREADWATCH_REDDIT_CLIENT_SECRET": "s"},
            [],
        ),
        (
            REDDIT_OWN,
            {"ACME_ID": "id", "REDDIT_CLIENT_SECRET": "not the one named"},
            ["reddit: SPREADWATCH_REDDIT_CLIENT_SECRET (or ACME_SECRET) is not set: "],
        ),
        (
            TWO_INSTANCES,
            {"A_TOKEN": "t"},
            ["mastodon: SPREADWATCH_MASTODON_TOKEN is not set for https://b.example: "],
        ),
        (TWO_INSTANCES, {"SPREADWATCH_MASTODON_TOKEN": "t"}, []),
        (
            "sources:\n  github: {enabled: false}\n",
            {},
            ["sources: none is enabled: the monitor crawls nothing"],
        ),
        (FEEDS, {}, []),
        (
            "sources:\n  github: {users: [someone]}\n",
            {},
            ["github: SPREADWATCH_GITHUB_TOKEN (or GITHUB_TOKEN) is not set: "],
        ),
    ],
    ids=[
        "reddit-none",
        "reddit-variables",
        "reddit-settings",
        "reddit-own-variable-names",
        "mastodon-per-instance",
        "mastodon-setting",
        "github-disabled",
        "feeds-need-none",
        "github-none",
    ],
)
def test_a_source_missing_a_credential_is_noted_with_where_to_set_it(
    tmp_path: Path, sources: str, env: dict[str, str], expected: list[str]
) -> None:
    path = write(tmp_path, "case.yml", HEAD.format(id="case") + sources)
    result = run(str(path), env=env)
    assert result.exit_code == 0
    found = notes(result)
    assert len(found) == len(expected)
    for note, start in zip(found, expected, strict=True):
        assert note.startswith(f"note: {start}")


@pytest.mark.parametrize(
    ("alerts", "env", "expected"),
    [
        ("alerts: {rules: [{name: s, type: spike}]}\n", {}, "alerts: no recipients: "),
        (ALERTS, {}, "alerts: SPREADWATCH_SMTP_URL is not set: "),
        (ALERTS, {"SPREADWATCH_SMTP_URL": "smtp://mail.example.org:25"}, None),
    ],
    ids=["no-recipient", "no-smtp", "both"],
)
def test_alerts_that_would_reach_nobody_are_noted(
    tmp_path: Path, alerts: str, env: dict[str, str], expected: str | None
) -> None:
    path = write(tmp_path, "case.yml", HEAD.format(id="case") + FEEDS + alerts)
    found = notes(run(str(path), env=env))
    assert found == [] if expected is None else (len(found) == 1 and expected in found[0])


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_credential_is_looked_for_and_never_shown(tmp_path: Path, fmt: str) -> None:
    secret = "ghp_0123456789abcdefSECRET"
    path = write(tmp_path, "case.yml", HEAD.format(id="case") + "sources:\n  github: {}\n")
    result = run(str(path), "--format", fmt, env={"GITHUB_TOKEN": secret})
    assert result.exit_code == 0 and notes(result) == []
    assert secret not in result.stdout + result.stderr


def test_json_gives_each_files_verdict(tmp_path: Path) -> None:
    good = write(tmp_path, "a.yml", HEAD.format(id="good") + REDDIT)
    bad = write(tmp_path, "b.yml", "- not\n- a mapping\n")
    result = run(str(tmp_path), "--format", "json")
    assert result.exit_code == 2
    verdicts: list[dict[str, Any]] = json.loads(result.stdout)
    assert [(v["file"], v["id"], v["error"] is None) for v in verdicts] == [
        (str(good), "good", True),
        (str(bad), None, False),
    ]
    assert verdicts[0]["summary"] == {
        "queries": 2,
        "languages": ["en", "zh"],
        "claims": 1,
        "sources": ["reddit"],
        "alert_rules": 0,
        "recipients": 0,
        "reports": 0,
    }
    assert [n.split(":")[0] for n in verdicts[0]["notes"]] == ["reddit"]
    assert "got a list" in verdicts[1]["error"]


def test_control_characters_of_a_file_reach_the_terminal_as_escapes(tmp_path: Path) -> None:
    path = write(tmp_path, "case.yml", HEAD.format(id="case") + '"\\e[2Jgone": 1\n')
    result = run(str(path))
    assert result.exit_code == 2
    assert "\x1b" not in result.stdout and "\\x1b[2Jgone" in result.stdout


def test_every_source_that_reads_a_credential_says_what_it_does_without_it() -> None:
    from spreadwatch.sources import WITHOUT_CREDENTIAL, SourcesConfig

    reading = {
        name
        for name, info in SourcesConfig.model_fields.items()
        for model in getattr(info.annotation, "__args__", ())
        if hasattr(model, "model_fields")
        and any(f.endswith("_env") or f == "instances" for f in model.model_fields)
    }
    assert reading == set(WITHOUT_CREDENTIAL)
