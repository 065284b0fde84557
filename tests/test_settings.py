"""Settings: validated once, errors name the variable, secrets stay out of reprs and logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from spreadwatch.logs import RedactSecrets
from spreadwatch.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SPREADWATCH_ES_URL", "localhost:9200"),
        ("SPREADWATCH_ES_URL", "ftp://127.0.0.1:9200"),
        ("SPREADWATCH_ES_URL", "http://127.0.0.1:notaport"),
        ("SPREADWATCH_ES_PORT", "70000"),
        ("SPREADWATCH_ES_HEAP", "lots"),
        ("SPREADWATCH_INDEX_PREFIX", "Bad Prefix"),
        ("SPREADWATCH_KIBANA_URL", "kibana"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_no_es_url_means_the_embedded_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPREADWATCH_ES_URL", raising=False)
    assert load_settings().embedded


def test_a_settings_file_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    file = tmp_path / "spreadwatch.env"
    file.write_text("SPREADWATCH_INDEX_PREFIX=fromfile\nSPREADWATCH_ES_HEAP=1g\n")
    monkeypatch.setenv("SPREADWATCH_ES_HEAP", "768m")
    settings = load_settings(file)
    assert settings.index_prefix == "fromfile"
    assert settings.es_heap == "768m"


def test_a_missing_settings_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.env")


def test_base_urls_are_overridable_per_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPREADWATCH_GITHUB_BASE_URL", "http://127.0.0.1:8765/")
    settings = load_settings()
    assert settings.base_url("github") == "http://127.0.0.1:8765"
    assert settings.base_url("weibo") == "https://m.weibo.cn"


def test_secrets_never_show_in_repr_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SPREADWATCH_GITHUB_TOKEN", "ghp_supersecretvalue")
    monkeypatch.setenv("SPREADWATCH_SMTP_URL", "smtps://alerts:hunter2pass@127.0.0.1:465")
    settings = load_settings()
    assert "ghp_supersecretvalue" not in repr(settings)
    logger = logging.getLogger("spreadwatch.test")
    handler_filter = RedactSecrets(settings.secret_values())
    logger.addFilter(handler_filter)
    with caplog.at_level(logging.INFO):
        logger.info("token is %s and smtp password %s", "ghp_supersecretvalue", "hunter2pass")
    logger.removeFilter(handler_filter)
    assert "ghp_supersecretvalue" not in caplog.text
    assert "hunter2pass" not in caplog.text
    assert "***" in caplog.text


@pytest.mark.parametrize(("written", "clear"), [("pw-in-url", "pw-in-url"), ("p%40ss", "p@ss")])
def test_the_password_of_an_es_url_is_a_secret_logs_never_show(
    monkeypatch: pytest.MonkeyPatch, written: str, clear: str
) -> None:
    monkeypatch.setenv("SPREADWATCH_ES_URL", f"https://elastic:{written}@es.example.org:9243")
    assert {written, clear} <= set(load_settings().secret_values())
