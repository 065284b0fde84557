"""Which repositories a GitHub crawl follows, why, and until when.

A repository is followed when the incident names it (`repos`: for good, `keep_all` by default),
when its owner is a watched user (`owner`), or when it matched the incident itself — its name,
description or README (`matched`). Never because a search hit lived there: an issue hit in an
unrelated project is kept if it matches, and its project is checked, not followed.

Repositories followed for a reason other than `watched` expire after `follow_expiry` without a
matching item. The registry lives in the crawl state's `extra` under `github:follow:<repo>`
(canonical name) as `{name, reason, keep_all, since, last_match}` (times are crawl times).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from crawlers.parsers.github import canonical

PREFIX = "github:follow:"
#: A repo found by a match is followed with at most this many others at once.
MAX_FOUND = 50


class ExtraStore(Protocol):
    """The part of `CrawlState` the registry writes through (every write is a recorded op)."""

    extra: dict[str, Any]

    def set_extra(self, key: str, value: Any) -> None: ...

    def delete_extra(self, key: str) -> None: ...


@dataclass
class Followed:
    name: str  # as GitHub spells it
    reason: str  # watched | owner | matched
    keep_all: bool
    since: str  # ISO crawl time it was first followed
    last_match: str | None = None  # ISO crawl time a matching item was last seen

    @classmethod
    def from_dict(cls, data: Any) -> Followed | None:
        try:
            return cls(**data)
        except TypeError:
            return None

    def expired(self, now: datetime, expiry: timedelta) -> bool:
        if self.reason == "watched":
            return False
        return now - datetime.fromisoformat(self.last_match or self.since) > expiry


class FollowRegistry:
    """The followed repos of one crawl: watched ones from the incident, the rest from state."""

    def __init__(self, state: ExtraStore, now: datetime, expiry: timedelta) -> None:
        self.state = state
        self.now = now
        self.expiry = expiry
        self.repos: dict[str, Followed] = {}
        #: Registry keys to delete (expired or unreadable): done by `prune`, from a callback,
        #: where a state change is recorded with the response it belongs to.
        self.expired: list[str] = []
        self._new: set[str] = set()
        self._matched_this_run: set[str] = set()
        for key, value in state.extra.items():
            if not key.startswith(PREFIX):
                continue
            followed = Followed.from_dict(value)
            if followed is None or followed.expired(now, expiry):
                self.expired.append(key)
            else:
                self.repos[key.removeprefix(PREFIX)] = followed

    def prune(self) -> list[str]:
        """Forget the expired repos (once a run); their canonical names."""
        gone, self.expired = self.expired, []
        for key in gone:
            self.state.delete_extra(key)
        return [key.removeprefix(PREFIX) for key in gone]

    def is_new(self, name: str) -> bool:
        """Followed for the first time in this run."""
        return canonical(name) in self._new

    def watch(self, name: str, keep_all: bool) -> Followed:
        """A repo the incident names: followed for good, not stored."""
        followed = Followed(name, "watched", keep_all, self.now.isoformat())
        self.repos[canonical(name)] = followed
        return followed

    def follow(self, name: str, reason: str) -> Followed | None:
        """Follow a repo found this run (None when it is already followed or too many are)."""
        key = canonical(name)
        if key in self.repos:
            return None
        found = sum(1 for f in self.repos.values() if f.reason != "watched")
        if found >= MAX_FOUND:
            return None
        when = self.now.isoformat()
        followed = Followed(name, reason, False, when, when if reason == "matched" else None)
        self.repos[key] = followed
        self.state.set_extra(PREFIX + key, asdict(followed))
        self._matched_this_run.add(key)
        self._new.add(key)
        return followed

    def get(self, name: str) -> Followed | None:
        return self.repos.get(canonical(name))

    def keeps_all(self, name: str | None) -> bool:
        followed = self.repos.get(canonical(name)) if name else None
        return followed is not None and followed.keep_all

    def matched(self, name: str) -> None:
        """A matching item of a followed repo was seen: its expiry starts again (once a run)."""
        key = canonical(name)
        followed = self.repos.get(key)
        if followed is None or followed.reason == "watched" or key in self._matched_this_run:
            return
        self._matched_this_run.add(key)
        followed.last_match = self.now.isoformat()
        self.state.set_extra(PREFIX + key, asdict(followed))
