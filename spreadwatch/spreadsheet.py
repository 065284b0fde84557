"""Search rows for spreadsheets: CSV that Excel opens right, and a real XLSX workbook (openpyxl).

What Excel needs and a plain CSV does not give it: a UTF-8 byte-order mark (without it Excel
reads the file as the machine's code page and Chinese posts become mojibake), times it parses
(`2024-10-19 06:00:00`, not ISO strings with an offset; the zone is named in the header), and
no cell that starts a formula: post text is untrusted, and `=HYPERLINK(...)` in a post must stay
text (OWASP "CSV injection": such cells get a leading apostrophe in CSV, a string type in XLSX).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from indexer.search import COLUMNS, NUMERIC_COLUMNS, TIME_HEADER, Row
from spreadwatch.display import display_text

BOM = "\ufeff"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: What a spreadsheet would take as the start of a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Characters XML 1.0 (so XLSX) cannot hold that `display_text` leaves (it shows the controls
#: among them, bidi overrides and lone surrogates, as every output does); shown as escapes too.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: The most a cell holds (Excel's limit, in UTF-16 units as Excel counts; openpyxl would cut
#: longer text silently): longer text is cut to it with `_CUT_MARK` saying how much is hidden.
XLSX_MAX_CHARS = 32_767
_CUT_MARK = "… [truncated: {hidden:,} more characters]"
_COLUMN_WIDTHS = {"time": 20, "text": 80, "title": 40, "url": 40, "author": 20, "id": 24}


def _header(columns: Iterable[str]) -> list[str]:
    return [TIME_HEADER if c == "time" else c for c in columns]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value


def _inert(text: str) -> str:
    """Text a spreadsheet shows as text, never evaluates."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _visible(text: str) -> str:
    return _ILLEGAL_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def csv_text(rows: list[Row]) -> str:
    """Every column of every row as CSV, UTF-8 BOM first, UTC times Excel parses."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_header(COLUMNS))
    for row in rows:
        values = row.as_dict() | {"time": _utc(row.time).strftime(TIME_FORMAT)}
        cells = []
        for column in COLUMNS:
            value = values[column]
            text = "" if value is None else str(value)
            cells.append(_inert(display_text(text)) if isinstance(value, str) else text)
        writer.writerow(cells)
    return BOM + buffer.getvalue()


def write_xlsx(rows: list[Row], path: Path, title: str = "posts") -> int:
    """A workbook with one sheet: frozen bold header with filters, typed cells (times as
    Excel dates in UTC, counts as numbers), clickable http(s) links, untrusted text as text.
    Returns how many cells were cut to `XLSX_MAX_CHARS` (each ends in a `[truncated: …]` mark;
    the CSV and JSON formats carry the whole text)."""
    cut = 0
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = title[:31]
    sheet.append(_header(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=2):
        values: dict[str, Any] = row.as_dict()
        for index, column in enumerate(COLUMNS, start=1):
            cell = sheet.cell(row=number, column=index)
            cut += _fill(cell, column, values[column], row, NUMERIC_COLUMNS)
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _COLUMN_WIDTHS.get(column, 12)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(rows) + 1)}"
    workbook.save(path)
    return cut


def _units(text: str) -> int:
    """Length as Excel counts it (UTF-16 code units: a character past U+FFFF is two)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str) -> tuple[str, bool]:
    """`text` within `XLSX_MAX_CHARS`, cut visibly (the mark says how many characters are
    hidden), and whether it was cut."""
    if _units(text) <= XLSX_MAX_CHARS:
        return text, False
    budget = XLSX_MAX_CHARS - _units(_CUT_MARK.format(hidden=len(text)))
    kept = text[:budget]
    while (excess := _units(kept) - budget) > 0:  # a character is one or two units
        kept = kept[: -max(1, excess // 2)]
    return kept + _CUT_MARK.format(hidden=len(text) - len(kept)), True


def _fill(cell: Any, column: str, value: Any, row: Row, numeric: tuple[str, ...]) -> bool:
    """Set the cell; True when its text had to be cut to fit."""
    if column == "time":
        cell.value = _utc(row.time).replace(tzinfo=None)
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif column in numeric or column == "confidence":
        cell.value = value
        if column == "confidence":
            cell.number_format = "0.00"
    elif value in (None, ""):
        cell.value = None
    else:
        text, was_cut = _fit(_visible(display_text(str(value))))
        cell.value = text
        cell.data_type = "s"  # never a formula, whatever the text starts with
        if column == "url" and str(value).startswith(("https://", "http://")) and not was_cut:
            cell.hyperlink = str(value)
            cell.style = "Hyperlink"
        return was_cut
    return False
