"""The `alerts:` section of an incident file: mistakes are errors naming file, line and field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scheduler_support import incident_yaml

from spreadwatch.incident import ConfigFileError, load_incident


def with_rule(tmp_path, rule_yaml: str):
    path = tmp_path / "incident.yml"
    text = incident_yaml().replace("    - name: spike\n      type: spike\n", rule_yaml)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path, field: str) -> int:
    """The line a field's key is on (a whole-rule error points at the rule's line)."""
    key = field.split(".", maxsplit=1)[0]
    lines = path.read_text().splitlines()
    wanted = f"      {key}:" if key else "    - name: s"
    return next(n for n, line in enumerate(lines, 1) if line.startswith(wanted))


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        ("    - name: s\n      type: spiky\n", "type", "Input should be 'spike'"),
        ("    - name: s\n      type: spike\n      ratio: 0\n", "ratio", "greater than 0"),
        ("    - name: s\n      type: spike\n      window: soon\n", "window", "expected a duration"),
        ("    - name: s\n      type: spike\n      windw: 1h\n", "windw", "Extra inputs"),
        (
            "    - name: s\n      type: spike\n      recipients: [nobody]\n",
            "recipients.0",
            "pattern",
        ),
        (
            "    - name: s\n      type: spike\n      window: 2h\n      baseline: 1h\n",
            "",
            "baseline",
        ),
    ],
)
def test_bad_rule_is_an_error_with_file_line_and_field(tmp_path, rule, field, message):
    path = with_rule(tmp_path, rule)
    with pytest.raises(ConfigFileError) as error:
        load_incident(path)
    text = str(error.value)
    assert f"{path}:{line_of(path, field)}: alerts.rules.0.{field}".rstrip(".") in text
    assert message in text


def test_repeated_rule_names_are_an_error(tmp_path):
    rules = "    - name: s\n      type: spike\n    - name: s\n      type: threshold\n"
    with pytest.raises(ConfigFileError, match="repeated: s"):
        load_incident(with_rule(tmp_path, rules))


def test_resolved_must_close_an_existing_spike_rule(tmp_path):
    rules = "    - name: calm\n      type: resolved\n      closes: nothing\n"
    with pytest.raises(ConfigFileError, match="closes 'nothing', which is no spike rule"):
        load_incident(with_rule(tmp_path, rules))


def test_rule_recipients_and_realert_override_the_incident_defaults(tmp_path):
    rule = "    - name: s\n      type: spike\n      realert: 15m\n      recipients: [press@example.org]\n"
    alerts = load_incident(with_rule(tmp_path, rule)).alerts
    [parsed] = alerts.rules
    assert alerts.recipients_for(parsed) == ["press@example.org"]
    assert alerts.realert_for(parsed) == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("written", "parsed"),
    [
        ("off", "off"),  # YAML reads an unquoted off as false
        ("'off'", "off"),
        ("hourly", "hourly"),
        ("Daily", "daily"),
        ("4h", timedelta(hours=4)),
    ],
)
def test_digest_schedule_as_written(tmp_path, written, parsed):
    path = tmp_path / "incident.yml"
    path.write_text(incident_yaml().replace("  every: 5m\n", f"  every: 5m\n  digest: {written}\n"))
    assert load_incident(path).alerts.digest == parsed


@pytest.mark.parametrize(("written", "message"), [("on", "not on/true"), ("5s", "at least 10s")])
def test_bad_digest_schedule_is_an_error(tmp_path, written, message):
    path = tmp_path / "incident.yml"
    path.write_text(incident_yaml().replace("  every: 5m\n", f"  every: 5m\n  digest: {written}\n"))
    with pytest.raises(ConfigFileError, match=message):
        load_incident(path)
