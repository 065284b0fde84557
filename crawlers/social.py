"""What the social spiders share on top of `IncidentSpider`: crawl windows, flags, requests.

Every social spider asks the same questions: from when to search (the stored since-value minus
the `refresh` span, so recent posts are fetched again and their engagement snapshotted; or the
incident's start on a first run), which terms, and whether an author speaks for the
organisation. They live here so each platform module holds only its platform.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import scrapy

from crawlers.items import Post
from crawlers.normalise import plausible
from crawlers.parsers.common import flag_official
from crawlers.spiders.base import HANDLED_STATUSES, IncidentSpider

logger = logging.getLogger(__name__)


#: For JSON APIs: their own rate-limit headers pace them (`crawlers.middlewares`, for every
#: spider), not the politeness delay meant for HTML sites; robots.txt governs pages, not APIs.
API_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    "ROBOTSTXT_OBEY": False,
}


#: Where a walk stopped by `max_pages` is saved (the crawl state's `extra`), by its key.
WALK_PREFIX = "walk:"


@dataclass
class _KeyWalks:
    """The walks of one since-value key in this run: how many are open, the newest and oldest
    post times they read, and whether one was stopped by `max_pages` (and where it would go on,
    with what its pages served so far)."""

    open: int = 0
    newest: datetime | None = None
    oldest: datetime | None = None
    capped: bool = False
    resume: Any = None
    served: int = 0


@dataclass(frozen=True)
class SavedWalk:
    """A walk stopped by `max_pages`: the start it reads down to, the newest post it read
    (the since-value once it is complete), the platform's point to go on from, and the things
    its pages served over the runs so far, for a platform that counts them (Reddit tells a
    listing it cut by them; 0, and not written, for the others and for a walk saved before)."""

    floor: datetime
    newest: datetime | None
    resume: Any
    served: int = 0

    def to_state(self) -> dict[str, Any]:
        newest = self.newest.isoformat() if self.newest else None
        state = {"floor": self.floor.isoformat(), "newest": newest, "resume": self.resume}
        return {**state, "served": self.served} if self.served else state

    @classmethod
    def from_state(cls, raw: Any) -> SavedWalk | None:
        """None for nothing saved, or for what no version of this code wrote (a fresh walk)."""
        if not isinstance(raw, dict) or raw.get("resume") is None:
            return None
        try:
            floor = datetime.fromisoformat(raw["floor"]).astimezone(UTC)
            newest = raw.get("newest")
            newest = datetime.fromisoformat(newest).astimezone(UTC) if newest else None
        except (KeyError, TypeError, ValueError):
            return None
        served = raw.get("served")
        if not (type(served) is int and served > 0):  # none saved before Reddit counted them
            served = 0
        return cls(floor, newest, raw["resume"], served)


class SocialSpider(IncidentSpider):
    """An `IncidentSpider` for a platform searched by terms within a time window."""

    #: Statuses this platform's callbacks handle beyond the base's list.
    extra_statuses: tuple[int, ...] = ()
    #: This run's records, by since-value key: where each search begins (`window_start`), the
    #: walk an earlier run saved (`saved_walk`), and the walks open now (`walk_started`).
    _window_starts: dict[str, datetime]
    _saved_walks: dict[str, SavedWalk | None]
    _key_walks: dict[str, _KeyWalks]

    def configure(self, crawler: Any) -> None:
        super().configure(crawler)
        self._window_starts, self._saved_walks, self._key_walks = {}, {}, {}

    def terms(self) -> list[str]:
        """The section's own `terms`, else every search string of the incident's queries."""
        if self.section is not None and self.section.terms:
            return list(self.section.terms)
        return self.incident.search_terms()

    def window_start(self, key: str) -> datetime:
        """Where this run's search begins for `key`: since-value minus refresh, or the start;
        for a walk an earlier run stopped at `max_pages`, where that walk began.

        Fixed at the first call of a run: the since-value advances as pages come in, and a
        later page must still reach back as far as the first one did.
        """
        starts = self._window_starts
        saved = self.saved_walk(key)
        if key not in starts and saved is not None:
            starts[key] = max(saved.floor, self.incident.window.start.astimezone(UTC))
        if key not in starts:
            start = self.incident.window.start.astimezone(UTC)
            since = self.state.since_time(key)
            if since is not None and self.section is not None:
                start = max(start, since - self.section.refresh)
            starts[key] = start
        return starts[key]

    def window_end(self) -> datetime:
        """Where this run's search ends: the crawl's now (`self.clock`), or the window's end."""
        now = self.clock()
        end = self.incident.window.end
        return min(now, end.astimezone(UTC)) if end else now

    # Newest-first walks: a since-value moves only past what was read.

    def saved_walk(self, key: str) -> SavedWalk | None:
        """The walk of `key` an earlier run stopped at `max_pages`: this run goes on with it
        (from its `resume` point, down to the same start) before anything newer is read."""
        if key not in self._saved_walks:
            raw = self.state.extra.get(WALK_PREFIX + key)
            self._saved_walks[key] = SavedWalk.from_state(raw)
        return self._saved_walks[key]

    def resume_point(self, key: str, kind: type | tuple[type, ...]) -> Any | None:
        """Where this run goes on with `key`'s saved walk: its resume point when it is of the
        `kind` the platform saved (a state no version wrote reads as no walk to go on with)."""
        saved = self.saved_walk(key)
        return saved.resume if saved is not None and isinstance(saved.resume, kind) else None

    def walk_started(self, key: str) -> None:
        """A newest-first walk of `key` begins (one per key, or one per time slice of it)."""
        self._key_walks.setdefault(key, _KeyWalks()).open += 1

    def walk_page(self, key: str, posts: list[Post]) -> None:
        """Note the newest and oldest post times of a page of `key`'s walk.

        Only plausible times count: one post dated 2100 (a typo, a hostile record) is dropped
        by the ingest as `bad_timestamp`, and must not move every later run's window past it.
        """
        now = self.clock()
        times = [
            p.timestamp
            for p in posts
            if isinstance(p.timestamp, datetime) and plausible(p.timestamp, now)
        ]
        walks = self._key_walks.setdefault(key, _KeyWalks())
        if times:
            walks.newest = max(times) if walks.newest is None else max(walks.newest, *times)
            walks.oldest = min(times) if walks.oldest is None else min(walks.oldest, *times)

    def walk_oldest(self, key: str) -> datetime | None:
        """The oldest post time this run's walk of `key` has read (a time-bounded resume)."""
        walks = self._key_walks.get(key)
        return walks.oldest if walks else None

    def walk_ended(self, key: str, complete: bool, resume: Any = None, served: int = 0) -> None:
        """A walk of `key` ended: `complete` when it reached the window's start or the end of
        the results, not when `max_pages` stopped it first.

        Complete, the since-value moves to the newest post the walk read (over every run it
        took; committed once durable). A capped walk with a `resume` point (the platform's
        way to ask for the page after: a cursor, an id, a time) is saved, and the next run
        goes on from there down to the same start: posts below the cap are read then, however
        many new ones arrive meanwhile; `served`, the things the walk's pages served in all
        (its earlier runs' included), is saved with it (`SavedWalk.served`). Without one
        (Weibo's search pages shift as posts arrive), the since-value stays and the next run
        reads down to it again. Moved to the newest post, the next run would begin above the
        unread ones, skipped for good. A walk that never ends (a page refused or unreadable)
        moves nothing.
        """
        walks = self._close(key)
        if not complete:
            walks.capped = True
            walks.resume = resume
            walks.served = served
            self.count(f"{self.name}/capped")
            goes_on = "goes on from there" if resume is not None else "reads down to it again"
            logger.warning(
                "%s %s: stopped at max_pages (%s) before the window's start; the next run %s",
                self.name, key, getattr(self.section, "max_pages", "?"), goes_on,
            )  # fmt: skip
        if walks.open == 0:
            self._settle(key, walks)

    def walk_lost(self, key: str) -> None:
        """The point a saved walk of `key` was to go on from leads nowhere: the walk is
        dropped and the since-value stays, so the next run reads from the top down to it."""
        self.count(f"{self.name}/resume_lost")
        logger.warning("%s %s: the saved walk's resume point answers nothing; the next run reads from the top", self.name, key)  # fmt: skip
        self.state.delete_extra(WALK_PREFIX + key)
        self._saved_walks[key] = None
        self._close(key)

    def _close(self, key: str) -> _KeyWalks:
        """One walk of `key` fewer open; the last one takes the key's record with it."""
        walks = self._key_walks.setdefault(key, _KeyWalks())
        walks.open = max(walks.open - 1, 0)
        if walks.open == 0:
            del self._key_walks[key]
        return walks

    def _settle(self, key: str, walks: _KeyWalks) -> None:
        saved = self.saved_walk(key)
        newest = max((t for t in (walks.newest, saved and saved.newest) if t), default=None)
        if walks.capped and walks.resume is not None:
            floor = self.window_start(key)
            self.state.set_extra(WALK_PREFIX + key, SavedWalk(floor, newest, walks.resume, walks.served).to_state())  # fmt: skip
            return
        if walks.capped:
            return
        if saved is not None:
            self.state.delete_extra(WALK_PREFIX + key)
        if newest is not None:
            self.state.advance_since(key, newest)

    def finish(self, post: Post, query: str | None = None) -> Post:
        """Flag official authors and note which query found the post."""
        post.source_query = post.source_query or query
        return flag_official(post, self.incident.official)

    def request(self, url: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """A request whose refusals (4xx) reach the callback, to be counted there."""
        meta = kwargs.pop("meta", {})
        meta.setdefault("handle_httpstatus_list", [*HANDLED_STATUSES, *self.extra_statuses])
        headers = {"User-Agent": self.settings_obj.user_agent, **kwargs.pop("headers", {})}
        return scrapy.Request(url, callback=callback, meta=meta, headers=headers, **kwargs)

    def env_secret(self, setting: str, env_name: str | None) -> str | None:
        """A secret from the settings, else from the variable the incident file names."""
        return self.settings_obj.credential(setting, env_name)

    def refused(self, response: Any, reason: str, message: str) -> None:
        """A refusal the user must act on: counted under its reason and logged once, clearly."""
        self.count(f"refused/{reason}")
        logger.error("%s: %s (%s answered %d)", self.name, message, response.url, response.status)
