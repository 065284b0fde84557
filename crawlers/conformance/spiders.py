"""A record read as its spider reads it: the same parser functions, the same counted drops.

Each reader returns the items the spider would yield for the record's response and the drops it
would count (`bad_record` for a record of the wrong shape, a feed entry's `no_guid`, ...).
Anything else a parser raises is a crash: it propagates to the check, which counts it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser

from crawlers.conformance.corpus import Record, feed_document
from crawlers.items import Activity, Author, Post
from crawlers.parsers import bluesky, github, hackernews, mastodon, reddit, weibo
from crawlers.parsers.common import ParseError
from crawlers.parsers.feeds import Feed, FeedEntryError, parse_entry

#: A README's time comes from the commit that last changed it (another request the spider
#: makes); a README record alone has none, so the check gives it this one.
README_TIME = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class Parsed:
    items: list[Post | Activity] = field(default_factory=list)
    drops: Counter[str] = field(default_factory=Counter)
    #: Answers that hold no posts by design (a like, a follow, profiles, Reddit's "more").
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, parse: Callable[..., Any], *args: Any) -> None:
        """One record through a parser, as the spiders do: a `ParseError` is a counted drop."""
        try:
            found = parse(*args)
        except ParseError:
            self.drops["bad_record"] += 1
            return
        if found is None:
            return
        self.items.extend(found if isinstance(found, list) else [found])


def read(record: Record, folder: Path) -> Parsed:
    reader = _READERS.get(record.platform)
    if reader is None:
        raise ValueError(f"no reader for platform {record.platform!r}")
    parsed = Parsed()
    reader(record, folder, parsed)
    return parsed


def _mastodon(record: Record, folder: Path, parsed: Parsed) -> None:
    instance = str(record.meta.get("instance") or "https://mastodon.social")
    payload = record.payload
    if record.kind == "status":
        parsed.add(mastodon.parse_status, payload, instance)
        return
    if record.kind == "search":
        statuses = payload.get("statuses") if isinstance(payload, dict) else None
        if not isinstance(statuses, list):
            parsed.drops["bad_shape"] += 1  # the spider: "expected a list of statuses"
            return
        payload = statuses
    if not isinstance(payload, list):
        parsed.drops["bad_shape"] += 1
        return
    for status in payload:
        parsed.add(mastodon.parse_status, status, instance)


def _bluesky(record: Record, folder: Path, parsed: Parsed) -> None:
    if record.kind == "postview":
        parsed.add(bluesky.parse_post_views, record.payload)
    elif record.kind == "jetstream":
        before = len(parsed.items) + parsed.drops.total()
        parsed.add(bluesky.parse_jetstream_event, record.payload)
        if len(parsed.items) + parsed.drops.total() == before:
            parsed.skipped["not a post (other collection or event)"] += 1
    elif record.kind == "profiles":
        try:
            bluesky.parse_profiles(record.payload)
        except ParseError:
            parsed.drops["bad_shape"] += 1
        parsed.skipped["profiles (follower counts)"] += 1
    else:
        parsed.skipped[f"kind {record.kind}"] += 1


def _reddit(record: Record, folder: Path, parsed: Parsed) -> None:
    if record.kind == "more":
        parsed.skipped["more (ids of unloaded comments)"] += 1
        return
    children = [record.payload]
    if record.kind == "listing":
        data = record.payload.get("data") if isinstance(record.payload, dict) else None
        found = data.get("children") if isinstance(data, dict) else None
        if not isinstance(found, list):
            parsed.drops["bad_shape"] += 1
            return
        children = found
    for child in children:
        if isinstance(child, dict) and child.get("kind") == "more":
            parsed.skipped["more (ids of unloaded comments)"] += 1
            continue
        parsed.add(reddit.parse_things, child)


def _hackernews(record: Record, folder: Path, parsed: Parsed) -> None:
    payload = record.payload
    if record.kind == "search":
        hits = payload.get("hits") if isinstance(payload, dict) else None
        if not isinstance(hits, list):
            parsed.drops["bad_shape"] += 1
            return
        for hit in hits:
            parsed.add(hackernews.parse_hit, hit)
    elif record.kind == "hit":
        parsed.add(hackernews.parse_hit, payload)
    elif record.kind == "item_tree":
        try:
            comments, errors = hackernews.parse_item_tree(payload)
        except ParseError:
            parsed.drops["bad_record"] += 1
            return
        parsed.items.extend(comments)
        parsed.drops["bad_record"] += len(errors)


def _weibo(record: Record, folder: Path, parsed: Parsed) -> None:
    now = _committed(record)
    if record.kind == "container":
        try:
            posts, errors = weibo.parse_cards(record.payload, now)
        except ParseError:
            parsed.drops["bad_shape"] += 1
            return
        parsed.items.extend(posts)
        parsed.drops["bad_record"] += len(errors)
    elif record.kind == "mblog":
        parsed.add(weibo.parse_mblog, record.payload, now)


def _committed(record: Record) -> datetime:
    """When a Weibo page was saved: relative times ("3分钟前") are read against it."""
    saved = record.meta.get("committed")
    try:
        return datetime.fromisoformat(str(saved)).astimezone(UTC)
    except ValueError:
        return datetime.now(UTC)


def _github(record: Record, folder: Path, parsed: Parsed) -> None:
    payload, repo = record.payload, record.meta.get("repo")
    kind = record.kind
    if kind in ("issue", "comment", "star", "star_plain", "fork", "readme") and not isinstance(repo, str):  # fmt: skip
        parsed.drops["bad_record"] += 1
        return
    if kind == "issue":
        parsed.add(github.issue_post, payload, repo)
    elif kind == "search_issues":
        try:
            where = github.repo_of_api_url(github.search_issue_repo_url(payload))
        except ParseError:
            parsed.drops["bad_record"] += 1
            return
        parsed.add(github.issue_post, payload, where)
    elif kind == "comment":
        parsed.add(github.comment_post, payload, repo)
    elif kind in ("repo", "search_repos"):
        parsed.add(github.repo_post, payload)
    elif kind == "search_commits":
        parsed.add(github.commit_post, payload)
    elif kind == "readme":
        before = len(parsed.items)
        parsed.add(github.readme_post, payload, repo, Author())
        for item in parsed.items[before:]:
            item.timestamp = README_TIME
    elif kind in ("star", "star_plain"):
        parsed.add(github.star_activity, payload, repo)
    elif kind == "fork":
        parsed.add(github.fork_activity, payload, repo)
    elif kind == "event":
        parsed.add(github.event_activity, payload)
    else:
        parsed.skipped[f"kind {kind}"] += 1


def _feeds(record: Record, folder: Path, parsed: Parsed) -> None:
    document = feedparser.parse(feed_document(folder, record))
    if not document.entries:
        if document.get("bozo") or not document.get("version"):
            parsed.drops["bad_feed"] += 1
        return
    for entry in document.entries:
        try:
            parsed.items.append(parse_entry(entry, Feed(), document.feed))
        except FeedEntryError as error:
            parsed.drops[error.reason] += 1


_READERS: dict[str, Callable[[Record, Path, Parsed], None]] = {
    "mastodon": _mastodon,
    "bluesky": _bluesky,
    "reddit": _reddit,
    "hackernews": _hackernews,
    "weibo": _weibo,
    "github": _github,
    "feeds": _feeds,
}
