"""The folder of recorded responses the check reads: one JSON record a line per platform file.

Each line is `{id, origin: {repo, path, commit, note}, kind, payload, meta}`; a feed record's
`payload.file` names its XML document beside the JSONL files. The folder is read, never written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The platform files the check knows, in the order the table lists them.
PLATFORMS = ("mastodon", "bluesky", "reddit", "hackernews", "weibo", "github", "feeds")


class CorpusError(ValueError):
    """The folder is not a recorded-responses folder (missing, or a line that is not a record)."""


@dataclass(frozen=True)
class Record:
    id: str
    platform: str
    kind: str
    payload: Any
    meta: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def platforms(folder: Path) -> list[str]:
    """The known platforms that have a file in `folder`."""
    if not folder.is_dir():
        raise CorpusError(f"{folder} is not a folder")
    found = [p for p in PLATFORMS if (folder / f"{p}.jsonl").is_file()]
    if not found:
        raise CorpusError(f"{folder} holds none of {', '.join(f'{p}.jsonl' for p in PLATFORMS)}")
    return found


def records(folder: Path, platform: str) -> Iterator[Record]:
    path = folder / f"{platform}.jsonl"
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as error:
                raise CorpusError(f"{path}:{number}: not JSON ({error})") from None
            if not isinstance(raw, dict) or "payload" not in raw or "kind" not in raw:
                raise CorpusError(f"{path}:{number}: not a record (id, kind, payload)")
            origin: dict[str, Any] = raw["origin"] if isinstance(raw.get("origin"), dict) else {}
            yield Record(
                id=str(raw.get("id") or f"{platform}:{number}"),
                platform=platform,
                kind=str(raw["kind"]),
                payload=raw["payload"],
                meta=raw["meta"] if isinstance(raw.get("meta"), dict) else {},
                note=str(origin.get("note") or ""),
            )


def feed_document(folder: Path, record: Record) -> bytes:
    """The XML document a feed record names (`payload.file`, relative to the folder)."""
    name = record.payload.get("file") if isinstance(record.payload, dict) else None
    if not isinstance(name, str):
        raise CorpusError(f"{record.id}: a feed record without payload.file")
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents:
        raise CorpusError(f"{record.id}: {name} is outside the folder")
    return path.read_bytes()
