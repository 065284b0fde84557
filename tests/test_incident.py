"""Incident files: the founding case loads, and a bad file's error names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from spreadwatch.incident import ConfigFileError, load_incident, resolve_incident

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FOUNDING_CASE = PROJECT_ROOT / "incidents" / "bytedance-intern-2024.yml"


@pytest.fixture(scope="module")
def founding():
    return load_incident(FOUNDING_CASE)


def test_the_founding_case_loads_with_its_id(founding) -> None:
    assert founding.id == "bytedance-intern-2024"
    assert founding.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    "term",
    [
        "字节跳动 实习生",
        "实习生 投毒",
        "ByteDance intern",
        "ByteDance Praktikant",
        "JusticeFighter110",
    ],
)
def test_the_founding_case_searches_in_chinese_english_and_german(founding, term: str) -> None:
    assert term in founding.search_terms()


@pytest.mark.parametrize(
    ("claim", "pattern"),
    [
        ("gpus", "8000 H100"),
        ("gpus", "8,000 H100"),
        ("losses", "千万美元"),
        ("losses", "tens of millions"),
    ],
)
def test_the_founding_case_names_the_rumours_claims(founding, claim: str, pattern: str) -> None:
    patterns = next(c.patterns for c in founding.claims if c.name == claim)
    assert pattern in patterns


def test_bytedance_speaks_through_toutiao_and_its_newsroom(founding) -> None:
    assert founding.official.is_official("toutiao", "bytedance", None)
    assert founding.official.is_official_url("https://www.bytedance.com/zh/news/123")
    statements = [p for p in founding.sources.pages.pages if p.kind == "statement"]
    assert {p.name for p in statements} == {"toutiao-statement", "bytedance-newsroom"}


def test_google_news_is_searched_in_every_language(founding) -> None:
    assert {g.lang for g in founding.sources.feeds.google_news} == {"zh", "en", "de"}


def test_github_watches_the_confession_account(founding) -> None:
    github = founding.sources.github
    assert github.users == ["JusticeFighter110"]
    assert github.follow_found_repos is True
    assert github.token_env == "GITHUB_TOKEN"


def test_an_incident_is_found_by_its_id(founding) -> None:
    assert resolve_incident("bytedance-intern-2024", [PROJECT_ROOT / "incidents"]).id == founding.id


GOOD = """\
id: case
title: A case
window: {start: 2024-10-18T00:00:00Z}
queries:
  - name: en
    any: [ByteDance intern]
sources:
  github:
    repos: [JusticeFighter110/confession]
"""


@pytest.mark.parametrize(
    ("replace", "by", "line", "field"),
    [
        (
            "    repos: [JusticeFighter110/confession]",
            "    repoz: [a/b]",
            9,
            "sources.github.repoz",
        ),
        ("[JusticeFighter110/confession]", "[not-a-repo]", 9, "sources.github.repos"),
        ("  github:\n", "  github:\n    every: often\n", 9, "sources.github.every"),
        ("  github:\n", "  github:\n    every: 1s\n", 9, "sources.github.every"),
        ("  github:\n", "  github:\n    every: 99999999999w\n", 9, "sources.github.every"),
        ("    any: [ByteDance intern]", "    any: []", 6, "queries.0.any"),
        ("  - name: en\n", "  - name: en\n    lang: klingon\n", 6, "queries.0.lang"),
        (
            "window: {start: 2024-10-18T00:00:00Z}",
            "window: {start: 2024-10-18T00:00:00Z, end: 2024-10-01T00:00:00Z}",
            3,
            "window",
        ),
        ("id: case", "id: Not A Slug", 1, "id"),
        (
            "sources:\n",
            "claims:\n  - name: gpus\n    patterns: ['re:(unclosed']\nsources:\n",
            9,
            "claims.0.patterns",
        ),
        (
            "  github:\n    repos: [JusticeFighter110/confession]\n",
            "  pages:\n    pages:\n      - {name: p, url: 'https://x', selectors: {text: p}}\n",
            10,
            "sources.pages.pages.0.selectors.item",
        ),
    ],
    ids=[
        "unknown-key",
        "bad-repo",
        "bad-duration",
        "too-often",
        "too-long",
        "empty-any",
        "bad-language",
        "window-backwards",
        "bad-id",
        "bad-regex",
        "selector-missing",
    ],
)
def test_a_bad_field_is_named_with_file_and_line(
    tmp_path: Path, replace: str, by: str, line: int, field: str
) -> None:
    path = tmp_path / "bad.yml"
    assert replace in GOOD
    path.write_text(GOOD.replace(replace, by), encoding="utf-8")
    with pytest.raises(ConfigFileError) as error:
        load_incident(path)
    assert f"{path}:{line}: {field}" in str(error.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id: case\ntitle: [unclosed\n", ":3: invalid YAML"),  # YAML reports the end of the stream
        ("id: case\nid: again\n", ":2: key 'id' appears twice"),
        ("- just\n- a list\n", "expected a mapping at the top level, got a list"),
        ("# nothing yet\n", "expected a mapping at the top level, got nothing (the file is empty"),
        ("bytedance\n", "expected a mapping at the top level, got the text 'bytedance'"),
        ("42\n", "expected a mapping at the top level, got the number 42"),
    ],
    ids=["invalid-yaml", "duplicate-key", "a-list", "empty", "text", "number"],
)
def test_a_file_that_is_not_an_incident_says_where(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigFileError) as error:
        load_incident(path)
    assert str(path) in str(error.value) and expected in str(error.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="no such file"):
        load_incident(tmp_path / "nope.yml")


def test_the_secret_variables_an_incident_names_are_listed() -> None:
    """`crawlers.run` scrubs these variables' values from its logs."""
    incident = load_incident(
        Path(__file__).parent.parent / "incidents" / "bytedance-intern-2024.yml"
    )
    names = incident.sources.secret_env_names()
    assert {"GITHUB_TOKEN", "WEIBO_COOKIE", "REDDIT_CLIENT_SECRET", "BLUESKY_APP_PASSWORD"} <= set(
        names
    )


@pytest.mark.parametrize(
    ("replace", "by", "field", "message"),
    [
        ("2024-10-18T00:00:00Z", "2024-02-30T00:00:00Z", "window.start", "day is out of range"),
        ("2024-10-18T00:00:00Z", "2024-13-01", "window.start", "month must be in 1..12"),
        ("2024-10-18T00:00:00Z", "2024-10-18T25:00:00Z", "window.start", "hour must be in"),
        ("2024-10-18T00:00:00Z", "2024-10-18T00:00:00+99:00", "window.start", "offset"),
        ("title: A case", "title: A case\ntimezone: Asia", "timezone", "unknown time zone"),
        ("title: A case", f"title: A case\ntimezone: {'x' * 300}", "timezone", "unknown time zone"),
        ("  github:\n", "  github:\n    every: 99999999999d\n", "sources.github.every", "duration"),
        ("  github:\n", "  github:\n    every: .inf\n", "sources.github.every", "duration"),
        ("  github:\n", "  github:\n    every: .nan\n", "sources.github.every", "duration"),
        ("queries:\n", "[a, b]: 1\nqueries:\n", "(top level)", "key"),
        ("  github:\n", "  github:\n    {every: 1h}: 1\n", "sources.github", "key"),
    ],
    ids=[
        "february-30",
        "month-13",
        "hour-25",
        "offset-99h",
        "zone-is-a-region",
        "zone-name-too-long",
        "duration-overflows",
        "duration-infinite",
        "duration-not-a-number",
        "list-as-key",
        "mapping-as-key",
    ],
)
def test_a_value_that_cannot_be_read_is_an_error_naming_file_line_and_field(
    tmp_path: Path, replace: str, by: str, field: str, message: str
) -> None:
    """Odd dates, keys, zones and durations are typos like any other: a `ConfigFileError`
    naming where (not a bare ValueError, TypeError, OSError or OverflowError, which the monitor
    does not take for a broken file: it would neither alert on it nor run the last good
    version)."""
    path = tmp_path / "bad.yml"
    assert replace in GOOD
    text = GOOD.replace(replace, by, 1)
    path.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row not in GOOD.splitlines())
    with pytest.raises(ConfigFileError) as error:
        load_incident(path)
    assert f"{path}:{line}: {field}: " in str(error.value)
    assert message in str(error.value)
