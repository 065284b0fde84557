"""Reading the JSONL files people write by hand (labelled samples, labels to import).

One JSON object a line; blank lines are allowed; the first line may start with a byte-order
mark (Notepad, PowerShell save one). Every error names the file and the line, so a person can
open the file there: a line that is not UTF-8, not JSON, or not an object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class JsonlError(ValueError):
    """A line that is not a JSON object in UTF-8; the message names `file:line`."""


def json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of `path`."""
    for number, raw in enumerate(path.read_bytes().splitlines(), 1):
        where = f"{path}:{number}"
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise JsonlError(
                f"{where}: not UTF-8 (byte {raw[error.start]:#04x} at byte {error.start + 1}); "
                "save the file as UTF-8"
            ) from None
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise JsonlError(f"{where}: not JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise JsonlError(f"{where}: a line must be a JSON object")
        yield number, record
