"""`spreadwatch search --format csv|xlsx`: files a spreadsheet opens right, read back with the
csv module and openpyxl and compared with the indexed posts."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch, helpers
from openpyxl import load_workbook
from spread_case import INCIDENT, POSTS, at, post_doc

from indexer.connection import IndexNames
from indexer.search import COLUMNS
from indexer.templates import delete_all, init
from spreadwatch.cli import cli
from spreadwatch.settings import Settings

FORMULA = '=HYPERLINK("http://evil.example","click")'
EXTRA = {
    "weibo:1": {"title": "字节实习生", "matched": {"claims": ["gpus-8000", "losses"]}},
    "reddit:3": {
        "stance_confidence": 0.82,
        "engagement": {"likes": 12, "reposts": 3, "views": 900},
    },
}


@pytest.fixture(scope="module")
def names(es_client: Elasticsearch, es_settings: Settings) -> Iterator[IndexNames]:
    names = IndexNames(f"{es_settings.index_prefix}-export")
    init(es_client, names)
    actions = []
    for row in POSTS:
        doc = post_doc(row) | EXTRA.get(row[0], {})
        actions.append({"_index": names.posts, "_id": row[0], "_source": doc})
    hostile = ("reddit:66", at(18, 9), "reddit", "post", "rumour", "@evil", 5, 0, None, FORMULA)
    actions.append({"_index": names.posts, "_id": "reddit:66", "_source": post_doc(hostile)})
    helpers.bulk(es_client, actions, refresh="wait_for")
    yield names
    delete_all(es_client, names)


def search(names: IndexNames, es_settings: Settings, *args: str):  # type: ignore[no-untyped-def]
    env = {
        "SPREADWATCH_INDEX_PREFIX": names.prefix,
        "SPREADWATCH_DATA_DIR": str(es_settings.data_dir),
    }
    args = ("search", "*", "--incident", INCIDENT, "--sort", "oldest", "--limit", "100", *args)
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture(scope="module")
def csv_file(names: IndexNames, es_settings: Settings, tmp_path_factory) -> bytes:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("csv") / "posts.csv"
    result = search(names, es_settings, "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_starts_with_a_utf8_bom_and_keeps_chinese_text(csv_file: bytes) -> None:
    assert csv_file.startswith(b"\xef\xbb\xbf")
    text = {r["id"]: r["text"] for r in rows_of(csv_file)}
    assert text["weibo:1"] == POSTS[0][9]


def test_csv_times_are_utc_and_in_a_form_excel_parses(csv_file: bytes) -> None:
    rows = rows_of(csv_file)
    expected = {row[0]: row[1] for row in POSTS}
    for row in rows:
        if row["id"] in expected:
            parsed = datetime.strptime(row["time (UTC)"], "%Y-%m-%d %H:%M:%S")
            assert parsed.replace(tzinfo=UTC) == expected[row["id"]]


def test_csv_carries_every_column_with_lang_title_claims_and_engagement(csv_file: bytes) -> None:
    header = next(csv.reader(io.StringIO(csv_file.decode("utf-8-sig"))))
    assert header == ["time (UTC)", *COLUMNS[1:]]
    rows = {r["id"]: r for r in rows_of(csv_file)}
    weibo, reddit = rows["weibo:1"], rows["reddit:3"]
    assert (weibo["lang"], weibo["title"], weibo["claims"]) == (
        "zh",
        "字节实习生",
        "gpus-8000; losses",
    )
    assert (reddit["confidence"], reddit["likes"], reddit["reposts"], reddit["views"]) == (
        "0.82",
        "12",
        "3",
        "900",
    )


def test_a_post_that_looks_like_a_formula_stays_text(csv_file: bytes) -> None:
    row = next(r for r in rows_of(csv_file) if r["id"] == "reddit:66")
    assert row["text"] == "'" + FORMULA
    assert row["author"] == "'@evil"


def test_the_csv_on_stdout_is_the_same(
    names: IndexNames, es_settings: Settings, csv_file: bytes
) -> None:
    result = search(names, es_settings, "--format", "csv")
    assert result.stdout_bytes == csv_file


@pytest.fixture(scope="module")
def workbook_path(names: IndexNames, es_settings: Settings, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("xlsx") / "posts.xlsx"
    result = search(names, es_settings, "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_xlsx_has_a_frozen_header_and_typed_columns(workbook_path: Path) -> None:
    sheet = load_workbook(workbook_path).active
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header == ["time (UTC)", *COLUMNS[1:]]
    assert all(c.font.bold for c in sheet[1])
    by_id = {r[COLUMNS.index("id")].value: r for r in sheet.iter_rows(min_row=2)}
    assert len(by_id) == len(POSTS) + 1
    weibo = by_id["weibo:1"]
    assert weibo[0].value == at(18, 2).replace(tzinfo=None)  # a real date cell, in UTC
    assert weibo[0].is_date
    assert weibo[COLUMNS.index("reach")].value == 1000
    assert by_id["reddit:3"][COLUMNS.index("confidence")].value == pytest.approx(0.82)
    assert weibo[COLUMNS.index("claims")].value == "gpus-8000; losses"


def test_xlsx_urls_are_clickable_and_formulas_stay_text(workbook_path: Path) -> None:
    sheet = load_workbook(workbook_path).active
    by_id = {r[COLUMNS.index("id")].value: r for r in sheet.iter_rows(min_row=2)}
    url = by_id["weibo:1"][COLUMNS.index("url")]
    assert url.hyperlink is not None and url.hyperlink.target == "https://weibo.example/1"
    hostile = by_id["reddit:66"][COLUMNS.index("text")]
    assert (hostile.value, hostile.data_type) == (FORMULA, "s")


def test_xlsx_needs_a_file(names: IndexNames, es_settings: Settings) -> None:
    result = search(names, es_settings, "--format", "xlsx")
    assert result.exit_code == 2
    assert "--out FILE.xlsx" in result.output


#: Excel's most characters in a cell, counted in UTF-16 units (a character past U+FFFF is two).
EXCEL_MAX = 32_767
MARK = re.compile(r"… \[truncated: ([\d,]+) more characters\]\Z")


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    "text",
    [
        "a" * 40_000,
        "字" * 32_768,
        "😀" * 20_000,  # 40,000 UTF-16 units in 20,000 characters
        "b" * 32_767,  # at the limit: whole
        "x\x01" * 11_000,  # 22,000 characters shown as 55,000 (\x01 is written as an escape)
    ],
    ids=["ascii-40000", "cjk-32768", "emoji-20000", "at-the-limit", "escapes"],
)
def test_an_xlsx_cell_over_excels_limit_is_cut_visibly_and_counted(
    es_client: Elasticsearch,
    index_names: IndexNames,
    es_settings: Settings,
    tmp_path: Path,
    text: str,
) -> None:
    row = ("weibo:1", at(18, 2), "weibo", "post", "rumour", "u", 1, 0, None, text)
    helpers.bulk(
        es_client,
        [{"_index": index_names.posts, "_id": row[0], "_source": post_doc(row)}],
        refresh="wait_for",
    )
    out = tmp_path / "posts.xlsx"
    result = search(index_names, es_settings, "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    shown = text.replace("\x01", "\\x01")  # as every output shows a control character
    cell = load_workbook(out).active.cell(row=2, column=COLUMNS.index("text") + 1).value
    if utf16(shown) <= EXCEL_MAX:
        assert cell == shown
        assert "cut" not in result.output
        return
    mark = MARK.search(cell)
    assert mark is not None, cell[-80:]
    kept = cell[: mark.start()]
    assert utf16(cell) <= EXCEL_MAX
    assert shown.startswith(kept) and utf16(kept) > EXCEL_MAX - 60
    assert int(mark.group(1).replace(",", "")) == len(shown) - len(kept)
    assert "1 cell over Excel's 32,767 characters cut" in result.output


#: A column, what a post holds there, and what every output shows instead.
HOSTILE_CELLS = [
    ("author", "@admin\u202emoc.elgoog", "@admin\\u202emoc.elgoog"),
    ("text", "isolate \u2067x\u2069, C1 \x9bcontrol", "isolate \\u2067x\\u2069, C1 \\x9bcontrol"),
]


@pytest.mark.parametrize("case", HOSTILE_CELLS, ids=["override", "isolate-and-c1"])
def test_xlsx_shows_bidi_overrides_and_controls_as_escapes_like_the_csv(
    es_client: Elasticsearch,
    index_names: IndexNames,
    es_settings: Settings,
    tmp_path: Path,
    case: tuple[str, str, str],
) -> None:
    """`@admin` + U+202E + `moc.elgoog` reads "@admingoogle.com" reversed in a cell that obeys it."""
    column, raw, shown = case
    row = ("weibo:1", at(18, 2), "weibo", "post", "rumour", "u", 1, 0, None, "t")
    doc = post_doc(row)
    if column == "author":
        doc["author"]["handle"] = raw
    else:
        doc["text"] = raw
    helpers.bulk(
        es_client,
        [{"_index": index_names.posts, "_id": row[0], "_source": doc}],
        refresh="wait_for",
    )
    out = tmp_path / "posts.xlsx"
    result = search(index_names, es_settings, "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    cell = load_workbook(out).active.cell(row=2, column=COLUMNS.index(column) + 1).value
    assert cell == shown
