"""Per-platform source sections of an incident file, each with its own schedule.

Every section shares `every` (crawl interval), `jitter`, `enabled`, `refresh` (how far back posts
are re-fetched to update engagement) and an optional `terms` list that replaces the incident's
query terms for that platform's search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from spreadwatch.fields import Duration, Strict

_REPO = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"


class SourceBase(Strict):
    enabled: bool = True
    every: Duration = timedelta(minutes=30)
    jitter: Duration = timedelta(seconds=30)
    refresh: Duration = timedelta(hours=24)
    terms: list[str] | None = None
    max_pages: int = Field(default=10, ge=1, le=100)

    @field_validator("every")
    @classmethod
    def _not_too_often(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=10):
            raise ValueError("crawling more often than every 10s is abuse of the source")
        return value


GithubSearchType = Literal["repositories", "issues", "commits"]


def _all_search_types() -> list[GithubSearchType]:
    return ["repositories", "issues", "commits"]


class GithubSearch(Strict):
    query: str = Field(min_length=1, max_length=256)
    types: list[GithubSearchType] = Field(default_factory=_all_search_types)


class WatchedRepo(Strict):
    """A repository the incident names; `keep_all` keeps every item of it, matching or not."""

    repo: str
    keep_all: bool = True

    @field_validator("repo")
    @classmethod
    def _owner_name(cls, repo: str) -> str:
        import re  # noqa: PLC0415

        if not re.match(_REPO, repo):
            raise ValueError(f"repos must be owner/name; not: {repo}")
        return repo


class GithubSource(SourceBase):
    searches: list[GithubSearch] = Field(default_factory=list)
    #: `owner/name`, or `{repo: owner/name, keep_all: false}` to keep only matching items.
    repos: list[str | WatchedRepo] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)
    follow_found_repos: bool = True
    #: A followed repo (found, or owned by a watched user) is dropped after this long without
    #: a matching item; the incident's own `repos` are followed for good.
    follow_expiry: Duration = timedelta(days=14)
    #: Keep items from before the window, marked `before_window` (default: left out).
    history: bool = False
    token_env: str = "GITHUB_TOKEN"

    @field_validator("repos")
    @classmethod
    def _owner_name(cls, repos: list[str | WatchedRepo]) -> list[str | WatchedRepo]:
        import re  # noqa: PLC0415

        bad = [r for r in repos if isinstance(r, str) and not re.match(_REPO, r)]
        if bad:
            raise ValueError(f"repos must be owner/name; not: {', '.join(bad)}")
        return repos

    def watched_repos(self) -> list[WatchedRepo]:
        """The incident's repos (duplicates in other spellings once), keep_all by default."""
        seen: dict[str, WatchedRepo] = {}
        for entry in self.repos:
            watched = WatchedRepo(repo=entry) if isinstance(entry, str) else entry
            seen.setdefault(watched.repo.lower(), watched)
        return list(seen.values())


class Feed(Strict):
    url: str
    name: str | None = None
    lang: str | None = None
    official: bool = False


class GoogleNewsSearch(Strict):
    query: str
    lang: Literal["zh", "en", "de", "fr", "ja"] = "en"


class FeedsSource(SourceBase):
    every: Duration = timedelta(hours=1)
    feeds: list[Feed] = Field(default_factory=list)
    google_news: list[GoogleNewsSearch] = Field(default_factory=list)


class Selectors(Strict):
    """CSS selectors (or `xpath:` expressions) that find posts in a page."""

    item: str
    text: str
    title: str | None = None
    time: str | None = None
    time_attr: str | None = None
    author: str | None = None
    link: str | None = None
    id_attr: str | None = None
    replies: str | None = None
    views: str | None = None


class Page(Strict):
    name: str
    url: str
    platform: str = "web"
    kind: Literal["post", "comment", "article", "statement"] = "post"
    lang: str | None = None
    official: bool = False
    selectors: Selectors
    next_page: str | None = None
    follow: str | None = None
    follow_selectors: Selectors | None = None
    max_pages: int = Field(default=3, ge=1, le=50)


class PagesSource(SourceBase):
    every: Duration = timedelta(hours=1)
    pages: list[Page] = Field(default_factory=list)
    obey_robots: bool = True


class HackerNewsSource(SourceBase):
    comment_trees: bool = True


class RedditSource(SourceBase):
    subreddits: list[str] = Field(default_factory=list)
    global_search: bool = True
    #: Read the comments of every matched link (search finds links only, never comments).
    comment_trees: bool = True
    #: A matched link's comments are read again each run for this long after it was posted.
    comment_window: Duration = timedelta(days=3)
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"


class MastodonInstance(Strict):
    url: str
    hashtags: list[str] = Field(default_factory=list)
    token_env: str | None = None


class MastodonSource(SourceBase):
    instances: list[MastodonInstance] = Field(default_factory=list)


class BlueskySource(SourceBase):
    stream: bool = False
    handle_env: str = "BLUESKY_HANDLE"
    app_password_env: str = "BLUESKY_APP_PASSWORD"
    languages: list[str] | None = None


class WeiboSource(SourceBase):
    users: list[str] = Field(default_factory=list)
    search: bool = True
    cookie_env: str = "WEIBO_COOKIE"


class TelegramSource(SourceBase):
    channels: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Credential:
    """A secret one source reads: the setting (`SPREADWATCH_<SETTING>`), else the environment
    variable the incident file names (`variable`); `instance` for a Mastodon server's own."""

    source: str
    setting: str
    variable: str | None
    instance: str | None = None


#: What a source does when a credential it reads is missing (`spreadwatch check` says it).
WITHOUT_CREDENTIAL = {
    "github": "GitHub is read at 60 requests an hour and 10 searches a minute, and stars past "
    "the 40,000 GitHub lists are not read",
    "reddit": "Reddit mostly refuses its public JSON: searching needs an approved app's id and "
    "secret",
    "bluesky": "Bluesky's post search works only logged in",
    "mastodon": "only hashtag timelines are read (status search needs a user token)",
    "weibo": "Weibo answers nothing useful without a valid SUB cookie",
}


class SourcesConfig(Strict):
    github: GithubSource | None = None
    feeds: FeedsSource | None = None
    pages: PagesSource | None = None
    hackernews: HackerNewsSource | None = None
    reddit: RedditSource | None = None
    mastodon: MastodonSource | None = None
    bluesky: BlueskySource | None = None
    weibo: WeiboSource | None = None
    telegram: TelegramSource | None = None

    def secret_env_names(self) -> list[str]:
        """Names of the environment variables this file takes secrets from (`*_env` fields)."""
        return [c.variable for c in self.credentials(enabled_only=False) if c.variable]

    def credentials(self, *, enabled_only: bool = True) -> list[Credential]:
        """The secrets the sources read: each `*_env` field names the variable, and the setting
        of the same name (`reddit.client_id_env` → `reddit_client_id`) comes first."""
        found: list[Credential] = []
        for name in type(self).model_fields:
            section = getattr(self, name)
            if section is None or (enabled_only and not section.enabled):
                continue
            for key, value in section:
                if key.endswith("_env") and isinstance(value, str):
                    found.append(Credential(name, f"{name}_{key.removesuffix('_env')}", value))
            for instance in getattr(section, "instances", []):
                found.append(Credential(name, f"{name}_token", instance.token_env, instance.url))
        return found

    def enabled(self) -> dict[str, SourceBase]:
        """Configured and enabled sources by name, in file order."""
        found: dict[str, SourceBase] = {}
        for name in type(self).model_fields:
            section = getattr(self, name)
            if section is not None and section.enabled:
                found[name] = section
        return found
