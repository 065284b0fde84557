"""Reading the committed dataset: records per platform, their visible text, and the truth.

The replay adapters (`replays.py`), the demo runner and the tests read the data through here,
never by opening the files themselves.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).with_name("data")
INCIDENT_FILE = Path(__file__).with_name("incident.yml")
PLATFORMS = (
    "weibo",
    "v2ex",
    "github",
    "toutiao",
    "hackernews",
    "reddit",
    "mastodon",
    "bluesky",
    "feeds",
)
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Entry:
    """One record of a data file (see data/README.md)."""

    at: datetime
    platform: str
    kind: str
    id: str
    data: dict[str, Any]
    meta: dict[str, Any]

    @property
    def matches(self) -> bool:
        return bool(self.meta.get("matches"))

    @property
    def url(self) -> str | None:
        return self.meta.get("url")


def _parse(line: str) -> Entry:
    raw = json.loads(line)
    at = datetime.fromisoformat(raw.pop("at").replace("Z", "+00:00"))
    data = raw.pop("data")
    return Entry(at, raw["platform"], raw["kind"], raw["id"], data, raw)


@cache
def entries(platform: str, folder: Path = DATA_DIR) -> tuple[Entry, ...]:
    """Every record of one platform, oldest first."""
    path = folder / f"{platform}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(
            f"demo data file {path} is missing; run python -m spreadwatch.demo.generate"
        )
    with path.open(encoding="utf-8") as lines:
        return tuple(_parse(line) for line in lines if line.strip())


def all_entries(folder: Path = DATA_DIR) -> list[Entry]:
    return [e for p in PLATFORMS for e in entries(p, folder)]


@cache
def truth(folder: Path = DATA_DIR) -> dict[str, Any]:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def _plain(text: str | None) -> str:
    return html.unescape(_TAGS.sub(" ", text or ""))


def visible_text(entry: Entry) -> tuple[str | None, str]:
    """The title and text a reader (and a spider) sees in the record."""
    d = entry.data
    kind = entry.kind
    if kind == "mblog":
        return None, _plain(d["text"])
    if kind in ("repo", "fork"):
        return d["full_name"], d.get("description") or ""
    if kind == "readme":
        return None, base64.b64decode(d["content"]).decode("utf-8")
    if kind == "issue":
        return d["title"], d.get("body") or ""
    if kind == "comment":
        return None, d["body"]
    if kind == "hit":
        return d.get("title"), _plain(d.get("comment_text") or d.get("story_text"))
    if kind == "thing":
        inner = d["data"]
        return inner.get("title"), inner.get("selftext") or inner.get("body") or ""
    if kind == "status":
        return None, _plain(d["content"])
    if kind == "post":
        return None, d["record"]["text"]
    if kind == "item":
        return d["title"], _plain(d.get("description"))
    if kind in ("topic", "article"):
        return d.get("title"), d.get("content") or d.get("text") or ""
    if kind == "reply":
        return None, d["content"]
    return None, ""
