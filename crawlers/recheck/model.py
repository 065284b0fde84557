"""What a re-check works with: a target, the request that fetches it, its verdict."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawlers.items import Post
from spreadwatch.settings import Settings


@dataclass(frozen=True)
class Target:
    """A stored post to re-check (from the posts index)."""

    platform: str
    native_id: str
    kind: str
    url: str | None = None
    repo: str | None = None
    timestamp: str | None = None

    @property
    def doc_id(self) -> str:
        return f"{self.platform}:{self.native_id}"


@dataclass(frozen=True)
class Fetch:
    """The request that shows one post as the platform has it now."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    #: When it came, on the crawl's clock (`spreadwatch.clock.crawl_clock`): what a platform's
    #: relative times (Weibo's `5分钟前`) are read against.
    received_at: datetime = field(kw_only=True)

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class Verdict:
    gone: str | None = None  # how the platform said the post is gone
    post: Post | None = None  # the post as it is now
    unverifiable: str | None = None  # why no answer could be had (refusal, login wall)


@dataclass
class CheckContext:
    """What a platform needs to build its request: settings and tokens got this run."""

    settings: Settings
    secrets: dict[str, str] = field(default_factory=dict)


#: Statuses that say "this is gone" on any web server.
GONE_STATUSES = {404: "not_found", 410: "gone", 451: "unavailable_for_legal_reasons"}


def http_verdict(platform: str, reply: Reply) -> Verdict | None:
    """A verdict from the status alone: gone on 404/410/451, unverifiable on a refusal."""
    if reply.status in GONE_STATUSES:
        return Verdict(gone=f"{platform}:{GONE_STATUSES[reply.status]}")
    if reply.status >= 400:
        return Verdict(unverifiable=f"http_{reply.status}")
    return None
