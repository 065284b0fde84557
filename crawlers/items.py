"""The two items every spider yields: `Post` and `Activity`.

`Post` is one model for posts, comments, repos, issues, commits, articles and statements; its
fields are those of the posts index (`indexer/documents.py`). Spiders fill what the platform
gives; the pipelines fill the rest (language, matches, stance, fingerprint, crawl times).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Author:
    id: str | None = None
    handle: str | None = None
    name: str | None = None
    url: str | None = None
    followers: int | None = None
    official: bool = False
    verified: bool | None = None


@dataclass
class Engagement:
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    views: int | None = None
    stars: int | None = None
    forks: int | None = None
    score: int | None = None

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Post:
    """One published thing. `platform` + `native_id` make the document id."""

    platform: str
    native_id: str
    timestamp: Any  # datetime, epoch seconds or a platform date string; normalised to UTC
    kind: str = "post"
    url: str | None = None
    #: The address the platform gave when `url` is the publisher's own (a Google News redirect).
    via: str | None = None
    author: Author = field(default_factory=Author)
    title: str | None = None
    text: str = ""
    text_is_html: bool = False
    lang: str | None = None
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    #: Addresses of attached images and videos (their alt texts belong in `text`).
    media: list[str] = field(default_factory=list)
    domain: str | None = None
    repo: str | None = None
    reply_to: str | None = None
    quote_of: str | None = None
    repost_of: str | None = None
    thread: str | None = None
    engagement: Engagement = field(default_factory=Engagement)
    official: bool = False  # set by a spider that knows the source is official (e.g. a page)
    always_keep: bool = (
        False  # keep even without a query match (official statements, watched repos)
    )
    source_query: str | None = None
    #: A platform's in-band sign that the post is gone (e.g. Reddit's `[removed]` body): the
    #: stored text is kept and the document marked deleted (`deleted_how`), see docs/evidence.md.
    deleted_how: str | None = None
    #: Published before the incident's window, kept because the incident asks for history.
    before_window: bool = False
    #: A commit's own facts (sha, author/committer with dates, parents, stats, files touched).
    commit: dict[str, Any] | None = None

    @property
    def doc_id(self) -> str:
        return f"{self.platform}:{self.native_id}"


@dataclass
class Activity:
    """A time-series point: a GitHub star, fork, watch, issue or comment event with its own time."""

    platform: str
    event: str
    timestamp: Any
    native_id: str
    repo: str | None = None
    actor: str | None = None
    post_id: str | None = None
    engagement: Engagement = field(default_factory=Engagement)
    before_window: bool = False
