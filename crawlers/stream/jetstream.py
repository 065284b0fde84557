"""The Bluesky Jetstream consumer: live posts matching an incident, into the index.

Jetstream (`/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.feed.repost
&cursor=<time_us>`) sends every new post and repost on the network as JSON. The consumer keeps
the posts matching the incident (a cheap match on the raw text first; the match stage decides)
and the reposts of posts it kept (kind `repost`, the spread's edges), sends them through the
ingest core (`crawlers.ingest`: the crawl's stages and bulk writer), and checkpoints: flush the
writer, then persist the cursor (`time_us` of the last event handled). After a dropped connection it reconnects from the last event it
handled; after a restart, from the last checkpoint. An event at or before that cursor that was
already handled is skipped, and posts are stored under their `at://` URI, so a replayed event can
neither be lost nor duplicated.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from crawlers.ingest import Ingest, IngestContext
from crawlers.items import Post
from crawlers.normalise import plausible
from crawlers.parsers import ParseError
from crawlers.parsers.bluesky import (
    POST_COLLECTION,
    REPOST_COLLECTION,
    jetstream_cursor,
    parse_jetstream_event,
)
from crawlers.parsers.common import flag_official
from crawlers.state import CrawlState
from crawlers.state_es import state_store
from spreadwatch.incident import Incident
from spreadwatch.netpolicy import AddressPolicy
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)

SOURCE = "jetstream"
CURSOR_KEY = "time_us"
MAX_BACKOFF = 30.0


@dataclass
class StreamStats:
    """What a stream did: events read, posts kept and indexed, drops, reconnects."""

    events: int = 0
    posts_seen: int = 0
    matched: int = 0
    indexed: int = 0
    skipped_replayed: int = 0
    bad_events: int = 0
    reconnects: int = 0
    deleted: int = 0  # posts this stream indexed, deleted since (deletion notices)
    reposts: int = 0  # reposts of posts this stream indexed (kept as repost edges)
    cursor: int | None = None
    drops: dict[str, int] = field(default_factory=dict)


class JetstreamConsumer:
    """Consume until `stop()` is called, `max_events` were read or the stream is idle.

    `idle_timeout` (seconds without a message) ends a bounded run such as a test, a benchmark or
    a replayed burst; a monitor leaves it unset and runs until stopped.
    """

    def __init__(
        self,
        settings: Settings,
        incident: Incident,
        *,
        checkpoint_seconds: float = 5.0,
        idle_timeout: float | None = None,
        max_events: int | None = None,
    ) -> None:
        self.settings = settings
        self.incident = incident
        self.checkpoint_seconds = checkpoint_seconds
        self.idle_timeout = idle_timeout
        self.max_events = max_events
        self.store = state_store(settings)
        self.state = self.store.load(incident.id, SOURCE)
        self.stats = StreamStats(cursor=_stored_cursor(self.state))
        self.context = IngestContext.build(settings, incident, spider_name=SOURCE)
        self._seen_at_cursor: set[str] = set()
        self._stop = asyncio.Event()
        self._kept: set[str] = set()  # posts indexed by this stream, for their deletions
        self._last_checkpoint = time.monotonic()
        self._ingest: Ingest | None = None

    def stop(self) -> None:
        self._stop.set()

    def url(self) -> str:
        query: dict[str, Any] = {"wantedCollections": [POST_COLLECTION, REPOST_COLLECTION]}
        if self.stats.cursor is not None:
            query["cursor"] = self.stats.cursor
        return f"{self.settings.base_url('jetstream')}/subscribe?{urlencode(query, doseq=True)}"

    async def run(self) -> StreamStats:
        """Read the stream until done; always checkpoint and close the writer at the end."""
        self._ingest = Ingest(self.context)
        try:
            await self._loop()
        finally:
            self._checkpoint()
            self._ingest.close()
            self.stats.drops = _drops(self._ingest.stats())
        logger.info("jetstream stopped: %s", self.stats)
        return self.stats

    async def _loop(self) -> None:
        backoff = 0.2
        while not self._done():
            try:
                idle = await self._session()
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidURI, TimeoutError) as error:
                if isinstance(error, InvalidURI):
                    raise ValueError(f"bad Jetstream URL {self.url()}: {error}") from None
                self.stats.reconnects += 1
                logger.warning("jetstream connection lost (%s); resuming from cursor %s in %.1fs", error, self.stats.cursor, backoff)  # fmt: skip
                await asyncio.sleep(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)
                continue
            if idle:
                return
            backoff = 0.2

    async def _session(self) -> bool:
        """One connection; True when it ended because the stream went idle.

        The private-network rule is applied to the stream's address before each connection
        (`PrivateAddressError`, not retried); websockets resolves the name again, so this
        narrows rather than closes the door the crawls' guarded resolver closes.
        """
        await asyncio.to_thread(AddressPolicy.from_settings(self.settings).check_url, self.url())
        async with websockets.connect(self.url(), max_size=2**22, open_timeout=10) as socket:
            logger.info("jetstream connected: %s", self.url())
            while not self._done():
                try:
                    message = await asyncio.wait_for(socket.recv(), timeout=self._wait())
                except TimeoutError:
                    if self.idle_timeout is not None:
                        return True
                    self._checkpoint_if_due()
                    continue
                self.handle(message)
                self._checkpoint_if_due()
        return False

    def handle(self, message: str | bytes) -> None:
        """One event: skip what was handled before, keep a matching post, advance the cursor."""
        self.stats.events += 1
        try:
            event = json.loads(message)
        except ValueError:
            self.stats.bad_events += 1
            logger.warning("jetstream sent a non-JSON message: %.80r", message)
            return
        cursor = jetstream_cursor(event)
        if cursor is None:
            self.stats.bad_events += 1
            return
        if not plausible_cursor(cursor):
            # Taken as the cursor, a time past now would mark every true event after it as
            # already handled, and the checkpoint would keep the stream blind after restarts.
            self.stats.bad_events += 1
            logger.warning("jetstream event dropped: time_us %s is not a plausible time", cursor)
            return
        key = _event_key(event)
        if self._already_handled(cursor, key):
            self.stats.skipped_replayed += 1
            return
        try:
            post = parse_jetstream_event(event)
        except ParseError as error:
            self.stats.bad_events += 1
            logger.warning("jetstream event dropped: %s", error)
            post = None
        # A failing ingest stage propagates before the cursor moves: the stream stops, and the
        # next start replays this event instead of skipping it.
        if post is None:
            pass
        elif post.repost_of is None:
            self._keep(post)
        elif post.repost_of.removeprefix("bluesky:") in self._kept:
            self._keep_repost(post)
        self._advance(cursor, key)

    def _keep(self, post: Post) -> None:
        if post.deleted_how:
            self._deleted(post)
            return
        self.stats.posts_seen += 1
        if not self.context.matcher.match(post.title, post.text).matched:
            return
        self.stats.matched += 1
        assert self._ingest is not None
        if self._ingest.process(flag_official(post, self.incident.official)):
            self.stats.indexed += 1
            self._kept.add(post.native_id)

    def _keep_repost(self, post: Post) -> None:
        """A repost of a post this stream kept: the spread's edge (a repost has no words of
        its own to match)."""
        post.always_keep = True
        assert self._ingest is not None
        if self._ingest.process(flag_official(post, self.incident.official)):
            self.stats.reposts += 1

    def _deleted(self, post: Post) -> None:
        """A deleted post this stream indexed becomes a deletion notice (the firehose deletes
        far more than the incident's posts; older ones are caught by the re-check job)."""
        if post.native_id not in self._kept:
            return
        assert self._ingest is not None
        self._ingest.process(post)
        self.stats.deleted += 1

    def _already_handled(self, cursor: int, key: str) -> bool:
        last = self.stats.cursor
        if last is None or cursor > last:
            return False
        return cursor < last or key in self._seen_at_cursor

    def _advance(self, cursor: int, key: str) -> None:
        if cursor != self.stats.cursor:
            self._seen_at_cursor.clear()
        self._seen_at_cursor.add(key)
        self.stats.cursor = cursor

    def _checkpoint_if_due(self) -> None:
        if time.monotonic() - self._last_checkpoint >= self.checkpoint_seconds:
            self._checkpoint()

    def _checkpoint(self) -> None:
        """Commit the cursor once every post before it is durable: a crash never skips unwritten
        posts, and a spool that cannot be written keeps the cursor where it was."""
        self._last_checkpoint = time.monotonic()
        if self.stats.cursor is not None:
            self.state.set_cursor(CURSOR_KEY, self.stats.cursor)
        delta = self.state.take_loose()
        commit = partial(self.store.commit, self.incident.id, SOURCE, delta)
        if self._ingest is None:
            return
        if delta:
            self._ingest.writer.after_durable(commit)
        self._ingest.writer.flush()

    def _done(self) -> bool:
        if self._stop.is_set():
            return True
        return self.max_events is not None and self.stats.events >= self.max_events

    def _wait(self) -> float:
        return self.idle_timeout if self.idle_timeout is not None else self.checkpoint_seconds


def _stored_cursor(state: CrawlState) -> int | None:
    """The checkpointed cursor; one no true event can pass (saved by a version that took any
    `time_us`) is dropped, and the stream starts live rather than skip everything after it."""
    value = state.cursors.get(CURSOR_KEY)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if not plausible_cursor(value):
        logger.warning("jetstream: the stored cursor %s is not a plausible time; starting live", value)  # fmt: skip
        return None
    return value


def plausible_cursor(time_us: int) -> bool:
    """Whether a `time_us` can be a real event's time (the ingest's rule for publication times)."""
    try:
        moment = datetime.fromtimestamp(time_us / 1_000_000, UTC)
    except (OverflowError, OSError, ValueError):
        return False
    return plausible(moment)


def _event_key(event: dict[str, Any]) -> str:
    commit: dict[str, Any] = event["commit"] if isinstance(event.get("commit"), dict) else {}
    return f"{event.get('did')}/{commit.get('collection')}/{commit.get('rkey')}/{event.get('kind')}"


def _drops(stats: dict[str, Any]) -> dict[str, int]:
    prefix = "spreadwatch/dropped/"
    return {k[len(prefix) :]: int(v) for k, v in stats.items() if k.startswith(prefix)}
