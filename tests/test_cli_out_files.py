"""Every command that writes a file (`--out`) treats it one way: the name ends in the format's
extension and the folder exists, else a usage error (exit 2) before any work, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.connection import IndexNames
from spreadwatch.cli import cli
from spreadwatch.settings import Settings

INCIDENT = "bytedance-intern-2024"

#: Each command that writes a file, as a user writes it, with a name its format takes.
WRITERS = {
    "search csv": (["search", "*", "--format", "csv"], "posts.csv"),
    "search xlsx": (["search", "*", "--format", "xlsx"], "posts.xlsx"),
    "search json": (["search", "*", "--format", "json"], "posts.json"),
    "search table": (["search", "*"], "posts.txt"),
    "report html": (["report", INCIDENT], "report.html"),
    "report pdf": (["report", INCIDENT, "--format", "pdf"], "report.pdf"),
    "kibana export": (["kibana", "export"], "dashboards.ndjson"),
    "evidence export": (["evidence", "export", INCIDENT], "evidence.wacz"),
}


def invoke(names: IndexNames, settings: Settings, args: list[str]):  # type: ignore[no-untyped-def]
    env = {
        "SPREADWATCH_INDEX_PREFIX": names.prefix,
        "SPREADWATCH_DATA_DIR": str(settings.data_dir),
        "SPREADWATCH_ES_URL": settings.es_url or "",
    }
    return CliRunner().invoke(cli, args, env=env)


@pytest.mark.parametrize("writer", WRITERS)
def test_a_file_into_a_missing_folder_is_a_usage_error_and_creates_nothing(
    session_names: IndexNames, es_settings: Settings, tmp_path: Path, writer: str
) -> None:
    args, name = WRITERS[writer]
    out = tmp_path / "no" / "such" / name
    result = invoke(session_names, es_settings, [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"folder {out.parent} does not exist" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--format", "xlsx", "posts.csv"], ".xlsx"),
        (["--format", "csv", "posts.xlsx"], ".csv"),
        (["--format", "json", "posts.ndjson"], ".json"),
        (["--format", "ndjson", "posts.json"], ".ndjson or .jsonl"),
    ],
)
def test_a_search_file_named_for_another_format_is_a_usage_error(
    session_names: IndexNames, es_settings: Settings, tmp_path: Path, args: list[str], expected: str
) -> None:
    *options, name = args
    result = invoke(
        session_names, es_settings, ["search", "*", *options, "--out", str(tmp_path / name)]
    )
    assert result.exit_code == 2, result.output
    assert f"must end in {expected}" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("table", "posts.txt"),
        ("json", "posts.json"),
        ("ndjson", "posts.ndjson"),
        ("ndjson", "posts.jsonl"),
        ("csv", "posts.csv"),
        ("csv", "POSTS.CSV"),
        ("xlsx", "posts.xlsx"),
    ],
)
def test_a_search_file_named_for_its_format_is_written(
    session_names: IndexNames, es_settings: Settings, tmp_path: Path, fmt: str, name: str
) -> None:
    out = tmp_path / name
    result = invoke(session_names, es_settings, ["search", "*", "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()


@pytest.mark.parametrize(
    ("name", "first_bytes"),
    [
        ("posts.csv", b"\xef\xbb\xbftime (UTC),"),  # CSV for spreadsheets: a UTF-8 BOM, a header
        ("posts.json", b'{\n  "total": '),
        ("posts.xlsx", b"PK"),  # a workbook is a zip
    ],
)
def test_without_format_a_search_file_is_written_in_the_format_its_name_says(
    session_names: IndexNames, es_settings: Settings, tmp_path: Path, name: str, first_bytes: bytes
) -> None:
    out = tmp_path / name
    result = invoke(session_names, es_settings, ["search", "*", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(first_bytes)


def test_without_format_a_search_file_of_no_known_kind_is_a_usage_error(
    session_names: IndexNames, es_settings: Settings, tmp_path: Path
) -> None:
    result = invoke(
        session_names, es_settings, ["search", "*", "--out", str(tmp_path / "posts.dat")]
    )
    assert result.exit_code == 2, result.output
    assert "must end in .txt" in result.output


def test_a_kibana_file_must_end_in_lower_case_ndjson_as_kibana_takes_only_that(
    session_names: IndexNames, es_settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "DASHBOARDS.NDJSON"
    result = invoke(session_names, es_settings, ["kibana", "export", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "must end in .ndjson" in result.output
    assert list(tmp_path.iterdir()) == []
