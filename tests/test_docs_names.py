"""The names the docs give exist: settings, modules run with `python -m`, incident-file sections,
alert rule types. A reader types them as written; a renamed one must fail here, not for them."""

from __future__ import annotations

import importlib.util
import re
import typing
from pathlib import Path

import pytest

from spreadwatch.alert_rules import RuleType
from spreadwatch.incident import Incident
from spreadwatch.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted(
    [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "incidents" / "README.md"]
    + [
        p for p in (ROOT / "docs").glob("*.md") if p.name != "stance.md"
    ]  # rendered from its template
)


def doc_ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


WITH_ENV = [*DOCS, ROOT / "env.example"]


@pytest.mark.parametrize("doc", WITH_ENV, ids=doc_ids(WITH_ENV))
def test_every_variable_a_doc_names_is_a_setting(doc: Path) -> None:
    known = {f"SPREADWATCH_{name.upper()}" for name in Settings.model_fields}
    known.add("SPREADWATCH_SETTINGS_FILE")
    named = set(re.findall(r"\bSPREADWATCH_[A-Z0-9_]*[A-Z0-9]\b", doc.read_text()))
    assert named - known == set()


def runnable(module: str) -> bool:
    """What `python -m` finds when run from the project's folder, as the docs do: a module or
    package in it (`bench` is not installed), or an installed one."""
    path = ROOT.joinpath(*module.split("."))
    if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is not there either
        return False


@pytest.mark.parametrize("doc", DOCS, ids=doc_ids(DOCS))
def test_every_module_a_doc_runs_exists(doc: Path) -> None:
    modules = set(re.findall(r"python -m ([a-z_]+(?:\.[a-z_]+)*)\b", doc.read_text()))
    assert [m for m in sorted(modules) if not runnable(m)] == []


def test_the_incident_files_readme_lists_every_top_level_field() -> None:
    text = (ROOT / "incidents" / "README.md").read_text()
    table = text.split("## Top level", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_]+)", table, re.MULTILINE))
    fields = {name for name, info in Incident.model_fields.items() if not info.exclude}
    assert listed == fields


def test_the_monitor_doc_describes_every_alert_rule_type() -> None:
    text = (ROOT / "docs" / "monitor.md").read_text()
    table = text.split("## Rules", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))
    assert listed == set(typing.get_args(RuleType))
