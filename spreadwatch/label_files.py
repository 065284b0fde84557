"""Files of stance labels a person set: what `spreadwatch stance import` reads.

A comms team reviews posts where it already works: a `spreadwatch search --format csv` or
`--format xlsx` export opened in a spreadsheet, its `stance` column corrected (a `note` column
may say why), or a JSONL file (`{"id": …, "label": …, "note": …}` a line; `stance` is read as
`label`). The whole file is read and checked before anything is written: a row without an id,
or with a label that is no stance, is an error naming its row.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from spreadwatch.jsonl import JsonlError, json_objects
from spreadwatch.names import STANCES

SUFFIXES = (".csv", ".xlsx", ".jsonl", ".ndjson")


class LabelFileError(ValueError):
    """A file of labels that cannot be read as one (names the file and the row)."""


@dataclass(frozen=True)
class LabelRow:
    where: str  # "labels.csv row 4", for messages
    post_id: str
    label: str
    note: str | None = None


def read_labels(path: Path) -> list[LabelRow]:
    """Every row of `path` with an id and a label, checked; rows with neither are skipped
    (a spreadsheet's blank lines), a row with one but not the other is an error."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise LabelFileError(f"{path}: a file of labels is one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise LabelFileError(f"{path}: no such file")
    records = {".csv": _csv, ".xlsx": _xlsx}.get(suffix, _jsonl)(path)
    rows = [row for number, record in records if (row := _row(path, number, record))]
    if not rows:
        raise LabelFileError(f"{path}: no row with an id and a label")
    return rows


def _row(path: Path, number: int, record: dict[str, Any]) -> LabelRow | None:
    where = f"{path.name} row {number}"
    post_id = _text(record.get("id"))
    label = _text(record.get("label", record.get("stance"))).lower()
    if not post_id and not label:
        return None
    if not post_id:
        raise LabelFileError(f"{where}: a label without a post id")
    if label not in STANCES:
        shown = label or "(empty)"
        raise LabelFileError(f"{where}: {shown!r} is no stance; one of {', '.join(STANCES)}")
    return LabelRow(where, post_id, label, _text(record.get("note")) or None)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


#: What a spreadsheet separates CSV columns with: a comma, or a semicolon where the comma is
#: the decimal mark (Excel in German, among others), or a tab.
_DELIMITERS = ",;\t"


def _csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
            handle.seek(0)
            if first.startswith("\ufeff"):
                handle.read(1)
            try:
                dialect: Any = csv.Sniffer().sniff(first, delimiters=_DELIMITERS)
            except csv.Error:  # one column: nothing to tell the delimiter by
                dialect = csv.excel
            reader = csv.DictReader(handle, dialect=dialect)
            _check_header(path, reader.fieldnames or [])
            for record in reader:  # the line it ends on: the row a spreadsheet shows
                yield reader.line_num, record
    except UnicodeDecodeError as error:
        raise LabelFileError(f"{path}: not UTF-8 text ({error.reason})") from None


def _xlsx(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several kinds for a file that is no workbook
        raise LabelFileError(f"{path}: not a workbook ({type(error).__name__})") from None
    try:
        lines = workbook.worksheets[0].iter_rows(values_only=True)
        header = [_text(cell) for cell in next(lines, ())]
        _check_header(path, header)
        for number, values in enumerate(lines, start=2):
            yield number, dict(zip(header, values, strict=False))
    finally:
        workbook.close()


def _check_header(path: Path, header: Sequence[str]) -> None:
    """A table without an `id` column, or without `stance`/`label`, says which it lacks."""
    wanted = [("id",), ("stance", "label")]
    missing = [" or ".join(names) for names in wanted if not set(names) & set(header)]
    if missing:
        shown = ", ".join(repr(h) for h in header[:8]) or "none"
        raise LabelFileError(
            f"{path}: no {' and no '.join(missing)} column (its columns: {shown}); "
            "export one with `spreadwatch search … --format csv` or `--format xlsx`"
        )


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        yield from json_objects(path)
    except JsonlError as error:
        raise LabelFileError(str(error)) from None
