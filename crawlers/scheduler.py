"""Scheduling by rate-limit bucket: a request whose (host, bucket) is held stays in the scheduler,
so the crawl's concurrency goes to the buckets that may go.

Scrapy counts a request inside the downloader middlewares as active (`Downloader.active`; the
engine backs out at `CONCURRENT_REQUESTS`): a request `crawlers.middlewares.RateLimitMiddleware`
held in `process_request` kept its place for the whole wait, so eight GitHub searches waiting
for their window's reset stopped every core request, whose separate budget was plenty.
`BucketScheduler` asks the middleware first (`held_until`): a request of a held bucket (waited
out after a 429 or a rate-limit 403, its budget spent until the reset, its first request after
a reset still out, or the whole host held by a secondary limit) is kept back and the next
request of another bucket is handed out instead.

- Kept-back requests go out as soon as their hold ends, before any request still queued, in
  the order they were taken from the queue; a bucket's requests never overtake each other.
- They are pending (`len`, `has_pending_requests`): the spider does not close while any is
  kept back. None is dropped.
- When every pending request is held, `next_request()` returns None; the engine asks again
  when a download ends, on its heartbeat (every 5 s), and when the soonest hold ends (the
  scheduler asks the engine for a call then: `_wake_engine`).
- Counted as `spreadwatch/ratelimit/kept_back` once per request kept back; a hold is logged
  once, with its length and the requests it keeps back (not the wait for a first request's
  reply, which the middleware does not log either).
- On close, kept-back requests go back to the disk queue when there is one (`JOBDIR`), as
  every pending request does; without one they end with the crawl as Scrapy's memory queue
  does (spreadwatch uses no `JOBDIR`: its crawl state says what is still to fetch).
- The middleware's own hold stays, for a request whose hold began after it was handed out.
- A spider without `RateLimitMiddleware` gets Scrapy's scheduler unchanged.

Every spreadwatch spider schedules with it (`crawlers.spiders.base.IncidentSpider`): they all
have the middleware, and on a spider of many hosts a held host's requests would take the
concurrency from the others just the same.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.core.scheduler import Scheduler
from scrapy.utils.asyncio import CallLaterResult, call_later

from crawlers.middlewares import Key, RateLimitMiddleware, hold_key

if TYPE_CHECKING:
    from scrapy import Spider
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

#: A hold this short is the wait for a bucket's first request's reply: not logged.
QUIET_HOLD = 0.5
#: A hold logged again only when it ends this much later than the one logged.
SAID_MARGIN = 1.0


class BucketScheduler(Scheduler):
    """Scrapy's scheduler, keeping back the requests of held (host, bucket)s in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ratelimit: RateLimitMiddleware | None = None
        #: Kept-back requests by (host, bucket), each with its place in the order taken.
        self._kept: dict[Key, deque[tuple[int, Request]]] = {}
        self._order = itertools.count()
        #: When (monotonic) each bucket's logged hold ends.
        self._said: dict[Key, float] = {}
        self._wake: CallLaterResult | None = None
        self._wake_at = 0.0

    def open(self, spider: Spider) -> Deferred[None] | None:
        if self.crawler is not None:
            self.ratelimit = self.crawler.get_downloader_middleware(RateLimitMiddleware)
        return super().open(spider)

    def close(self, reason: str) -> Deferred[None] | None:
        if self._wake is not None:
            self._wake.cancel()
        if self.dqs is not None:  # JOBDIR: kept back or queued, a pending request is kept
            for _, request in sorted(r for queue in self._kept.values() for r in queue):
                self._dqpush(request)
        return super().close(reason)

    def __len__(self) -> int:
        return super().__len__() + sum(len(queue) for queue in self._kept.values())

    def next_request(self) -> Request | None:
        """The next request that may go: a kept-back one whose hold has ended, else the next
        queued one whose bucket is not held (those before it are kept back); None when none
        may go now."""
        if self.ratelimit is None:
            return super().next_request()
        request, soonest = self._released()
        while request is None and (request := super().next_request()) is not None:
            if (seconds := self._held_for(request)) > 0:
                self._keep_back(request, seconds)
                soonest = min(soonest, seconds)
                request = None
        if request is None:
            if self._kept:
                self._wake_engine(soonest)
            return None
        self.ratelimit.handed_out(request)
        return request

    def _held_for(self, request: Request) -> float:
        """Seconds `request` is still held (0: it may go)."""
        assert self.ratelimit is not None
        return max(0.0, self.ratelimit.held_until(request) - time.monotonic())

    def _released(self) -> tuple[Request | None, float]:
        """The kept-back request first in order whose hold has ended, taken out (None if no
        hold has), and the seconds to the soonest end of the holds still on."""
        free: list[deque[tuple[int, Request]]] = []
        soonest = float("inf")
        for key, queue in self._kept.items():
            if (seconds := self._held_for(queue[0][1])) > 0:
                self._say(key, seconds)
                soonest = min(soonest, seconds)
            else:
                free.append(queue)
        if not free:
            return None, soonest
        queue = min(free, key=lambda q: q[0][0])
        _, request = queue.popleft()
        if not queue:
            del self._kept[hold_key(request)]
        return request, soonest

    def _keep_back(self, request: Request, seconds: float) -> None:
        key = hold_key(request)
        self._kept.setdefault(key, deque()).append((next(self._order), request))
        if self.stats is not None:
            self.stats.inc_value("spreadwatch/ratelimit/kept_back")
        self._say(key, seconds)

    def _say(self, key: Key, seconds: float) -> None:
        """Log a hold once: a new one, or one that ends later than the one logged."""
        ends = time.monotonic() + seconds
        if seconds <= QUIET_HOLD or ends <= self._said.get(key, 0.0) + SAID_MARGIN:
            return
        self._said[key] = ends
        logger.info(
            "%s bucket %s is held for %.1fs: %d of its requests kept back in the scheduler, "
            "the crawl's concurrency goes to other buckets",
            key[0], key[1] or "default", seconds, len(self._kept.get(key, ())),
        )  # fmt: skip

    def _wake_engine(self, seconds: float) -> None:
        """Have the engine ask for requests again when the soonest hold ends, if that is sooner
        than the call already arranged. Scrapy has no public call for it: the engine's
        `_slot.nextcall` (a `CallLaterOnce`, scrapy/core/engine.py) is what every finished
        download and the 5 s heartbeat call. Its `schedule(delay)` is not used with a delay:
        while one call waits it ignores every other, a download's too; so a timer here calls
        `schedule()` at the hold's end. Without a running engine (or a slot) the heartbeat
        does it."""
        if self.crawler is None or seconds == float("inf"):
            return
        engine = self.crawler.engine
        if not engine.running:
            return
        at = time.monotonic() + seconds
        if self._wake is not None:
            if self._wake_at <= at:
                return
            self._wake.cancel()
        self._wake_at = at

        def wake() -> None:
            self._wake = None
            slot = getattr(engine, "_slot", None)
            if slot is not None and slot.closing is None:
                slot.nextcall.schedule()

        self._wake = call_later(seconds, wake)
