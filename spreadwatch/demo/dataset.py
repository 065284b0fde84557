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
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from crawlers.items import Post
from crawlers.parsers import bluesky, github, hackernews, mastodon, reddit, weibo

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


#: Where a weibo record's relative times ("5分钟前") are read from: after the demo's window.
PARSED_AT = datetime(2024, 10, 27, tzinfo=UTC)


def spider_posts(entry: Entry) -> list[Post]:
    """The posts the spiders' own parsers (`crawlers.parsers`) read from a record, the record's
    own post last (a weibo repost brings its original first). Records read by the pages and
    feeds spiders (V2EX, Toutiao, news feeds) and those that are not posts give none."""
    d = entry.data
    if entry.kind == "mblog":
        return weibo.parse_mblog(d, PARSED_AT)
    if entry.kind == "hit":
        return [hackernews.parse_hit(d)]
    if entry.kind == "thing":
        return [reddit.parse_thing(d)]
    if entry.kind == "status":
        return mastodon.parse_status(d, "https://mastodon.social")
    if entry.kind == "post":
        return [bluesky.parse_post_view(d)]
    if entry.kind == "repo":
        return [github.repo_post(d)]
    if entry.kind == "issue":
        return [github.issue_post(d, github.repo_of_api_url(d["repository_url"]))]
    if entry.kind == "comment":
        return [github.comment_post(d, github.repo_of_api_url(d["issue_url"]))]
    if entry.kind == "readme":
        repo = entry.id
        readme = github.readme_post(d, repo, github.author_of({"login": repo.split("/")[0]}))
        readme.timestamp = entry.at  # the spider's: the repository's push time
        return [readme]
    return []
