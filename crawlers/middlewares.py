"""Pacing requests by the budget each platform announces, and waiting out rate limits per bucket:
`Retry-After` and the reset headers (Scrapy ignores both, scrapy#3849).

APIs budget requests per *resource*: GitHub's search and core limits are separate (its
`X-RateLimit-Resource` header names the one a reply counted against). A spider names a request's
bucket in `request.meta["ratelimit_bucket"]` (else the host is one bucket); a wait holds every
request of its bucket on that host and none other — a search limit never pauses core requests.
Held requests wait in the scheduler, not here (`crawlers.scheduler.BucketScheduler` asks
`held_until` before it hands a request out, and says `handed_out`): a request waiting in
`process_request` is active for Scrapy's engine and takes a place of `CONCURRENT_REQUESTS`, so
searches waiting for their reset kept core requests from going. A budget is kept under the
bucket its reply names, and requests are paced under the one their spider named: the two agree
(GitHub's spider names `search`, `core` and `graphql`).

- Pacing: every reply's budget (requests left, seconds to the reset, read by
  `crawlers.ratelimit_headers` for GitHub, Reddit, Mastodon, Bluesky and the IETF draft) is
  kept per (host, bucket), the lowest `remaining` of one window (replies arrive out of order;
  a later reset starts a new window). The requests of the bucket handed out and not yet
  answered are counted (`outstanding`: from the scheduler's hand-out or this middleware on, in
  transfer, or queued in Scrapy's downloader slot behind it): a request is held while
  `remaining - outstanding <= 0` until the window's reset (plus `RESET_MARGIN`: resets are
  announced in whole seconds; at most `SPREADWATCH_RATELIMIT_MAX_WAIT`), counted once per hold
  as `spreadwatch/ratelimit/paced_seconds` and logged. At the reset the budget is forgotten; one
  request goes first and the others wait for its reply to tell the new one. So does a bucket's
  very first request: a crawl's opening burst (a dozen GitHub searches at once, on a budget of
  30 a minute) would otherwise go out before any reply said what is left. The scheduler keeps
  the others back from the first one's hand-out; `process_request` makes them wait only once it
  has passed there: until then it may be waiting in a middleware in front of this one for a
  request that must pass here (a page in Scrapy's RobotsTxtMiddleware for its host's
  robots.txt, same host and bucket), and a wait for its reply would never end.
  The spiders do no pacing of their own: a pause in a callback held only that callback's next
  requests, never those already scheduled.
- A 429, or a 403/503 that says it is a rate limit (a `Retry-After`, no requests left, or
  GitHub's "secondary rate limit" message), is retried after the wait: `Retry-After` (seconds
  or an HTTP date), else the announced reset, else an exponential backoff from
  `SPREADWATCH_RATELIMIT_BACKOFF` — capped by `SPREADWATCH_RATELIMIT_MAX_WAIT` (as every hold
  is), at most `SPREADWATCH_RATELIMIT_MAX_RETRIES` times.
- A secondary limit (GitHub: too many requests at once, or too fast, across the API) holds every
  request to the host, per GitHub's guidance: `Retry-After` when given, else at least
  `SPREADWATCH_RATELIMIT_SECONDARY_MIN` (a minute), doubling on each repeat.
- GitHub's GraphQL API answers a rate limit with a 200 whose `errors` hold one of type
  `RATE_LIMITED` (github/docs#22607), with `x-ratelimit-resource: graphql`: waited out and
  retried the same way, in the `graphql` bucket.
- A request that reaches `process_request` held all the same (its hold began after the
  scheduler handed it out; a spider scheduled otherwise) waits there in a loop (a wait that
  grows while one sleeps holds it on), so none slips through. A wait that would outlast the
  crawl's timeout (`crawl_timeout` of the settings, less a margin for the final flush) is not
  taken (the scheduler lets such a request go): the request is skipped, counted as
  `spreadwatch/refused/rate_limited` and logged with its URL, and the crawl ends in time.

A plain 403 passes through to the spider as a refusal, counted in stats. Sits before Scrapy's
RetryMiddleware (priority 560), which keeps handling 5xx without `Retry-After`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from dataclasses import dataclass
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawlers.ratelimit_headers import budget, header, remaining, reset_seconds, retry_after
from spreadwatch.settings import Settings, load_settings

logger = logging.getLogger(__name__)

PRIORITY = 560
_RATE_STATUSES = (403, 429, 503)
#: The bucket a secondary limit holds: every request to the host.
EVERY_BUCKET = "*"
#: Seconds kept free at the end of a crawl's timeout for the writer's flush and the state.
DEADLINE_MARGIN = 15.0
#: Seconds a spent window is held past its announced reset: resets come in whole seconds
#: (Reddit rounds its count, Bluesky floors its epoch), so the server's may be up to one later.
RESET_MARGIN = 1.0
#: Replies whose resets lie this close (seconds, or this share of the time left, if more) are
#: of one window: Reddit's count of seconds is rounded and read on arrival, a slow transfer
#: moves it on. A later reset starts a new window (a whole window later, never this close), an
#: earlier one is a late reply of a window already over.
SAME_WINDOW = 1.0
SAME_WINDOW_SHARE = 0.05
#: Seconds between looks while the first request after a reset is out (when its reply comes,
#: no header says).
PROBE_POLL = 0.05
#: Longest single sleep of a held request: it looks again, in case a reply changed its hold.
MAX_SLEEP = 1.0

Key = tuple[str, str]


class RateLimitSkipped(IgnoreRequest):
    """A request not sent because its wait would outlast the crawl: still to be fetched, so the
    checkpoint does not count it as done (`unfetched`)."""

    unfetched = True


@dataclass
class _Window:
    """A bucket's known budget: the fewest requests left any reply of the window said, when
    (monotonic, margin included) the window resets, and, once its budget is spent, when the
    hold on it ends: at the reset, or `SPREADWATCH_RATELIMIT_MAX_WAIT` after the hold began."""

    remaining: int
    reset_at: float
    hold_until: float | None = None

    @property
    def ends(self) -> float:
        """When what is known of the window stops counting: at its hold's end, else its reset."""
        return self.reset_at if self.hold_until is None else self.hold_until


class RateLimitMiddleware:
    """Pace, hold, delay and retry rate-limited requests per (host, bucket); count holds, waits,
    give-ups, skips and refusals in stats."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.max_wait = settings.getfloat("SPREADWATCH_RATELIMIT_MAX_WAIT", 300.0)
        self.max_retries = settings.getint("SPREADWATCH_RATELIMIT_MAX_RETRIES", 5)
        self.base_backoff = settings.getfloat("SPREADWATCH_RATELIMIT_BACKOFF", 60.0)
        self.secondary_min = settings.getfloat("SPREADWATCH_RATELIMIT_SECONDARY_MIN", 60.0)
        given = settings.get("SPREADWATCH_SETTINGS")
        self.deadline = _deadline(given if isinstance(given, Settings) else load_settings())
        self._paused_until: dict[Key, float] = {}
        self._windows: dict[Key, _Window] = {}
        #: Requests past `process_request` not yet answered, by key. A set: a request is counted
        #: once however often it is seen; weak: one a later middleware replaced without an
        #: answer passing here (a redirect) leaves the count when it is dropped. A key, once
        #: here, stays: its bucket has been asked.
        self._outstanding: dict[Key, weakref.WeakSet[Request]] = {}
        #: Buckets whose budget is not known (never asked yet, or its window reset) with no
        #: reply since: the first request sent (None until one goes), whose reply tells it.
        self._probes: dict[Key, weakref.ref[Request] | None] = {}
        #: Outstanding requests that have passed `process_request` (weak, as above). One handed
        #: out by the scheduler may still be in a middleware in front of this one, waiting on a
        #: request that must pass here: a page waits in Scrapy's RobotsTxtMiddleware for its
        #: host's robots.txt (same host, bucket ""), fetched through this chain.
        self._passed: weakref.WeakSet[Request] = weakref.WeakSet()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RateLimitMiddleware:
        return cls(crawler)

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"spreadwatch/{key}", count)

    def _hold_until(self, request: Request) -> float:
        host, bucket = hold_key(request)
        return max(
            self._paused_until.get((host, bucket), 0.0),
            self._paused_until.get((host, EVERY_BUCKET), 0.0),
        )

    def _pause(self, request: Request, bucket: str, seconds: float) -> None:
        key = (urlsplit(request.url).netloc, bucket)
        self._paused_until[key] = max(self._paused_until.get(key, 0.0), time.monotonic() + seconds)

    async def process_request(self, request: Request) -> None:
        """Hold a request while its bucket (or the whole host) is being waited out, or its
        bucket's budget is spent by the requests already out; then count it as outstanding."""
        held = False
        while (delay := self._delay(request, passed_only=True)) > 0:
            if self._past_deadline(delay):
                self._skip(request, delay)
            if not held:
                self._inc("ratelimit/held")
                held = True
            await asyncio.sleep(min(delay, MAX_SLEEP))
        self.handed_out(request)
        self._passed.add(request)

    def held_until(self, request: Request) -> float:
        """When (monotonic) `request` may go: its rate-limit hold's end or its budget's, the
        moment `process_request` would let it through (now, or earlier: not held). A wait that
        would outlast the crawl's deadline is no hold: `process_request` skips the request at
        once. While a bucket's first request after a reset is out (from its hand-out on), a
        moment ahead (its reply ends the wait). `crawlers.scheduler.BucketScheduler` keeps held
        requests back with it."""
        now = time.monotonic()
        delay = self._delay(request, passed_only=False)
        return now if self._past_deadline(delay) else now + delay

    def handed_out(self, request: Request) -> None:
        """`request` goes to the downloader: it counts against its bucket's budget from now,
        and is the bucket's first request if none is out (the scheduler says so as it hands
        a request out: requests it hands out in one go reach `process_request` later)."""
        key = hold_key(request)
        self._outstanding.setdefault(key, weakref.WeakSet()).add(request)
        if key in self._probes and self._probes[key] is None:
            self._probes[key] = weakref.ref(request)

    def _delay(self, request: Request, *, passed_only: bool) -> float:
        """Seconds `request` must still wait: the longer of a rate-limit hold and its budget's
        (`passed_only`: see `_paced`)."""
        now = time.monotonic()
        return max(self._hold_until(request) - now, self._paced(request, now, passed_only), 0.0)

    def _paced(self, request: Request, now: float, passed_only: bool) -> float:
        """Seconds until the bucket's budget lets `request` go (0: it goes now). While the
        budget is not known, the bucket's first request out is waited for: by the scheduler
        from its hand-out on, in `process_request` (`passed_only`) only once it has passed
        there. Before that it may be waiting on `request` itself (a page in RobotsTxtMiddleware
        on its host's robots.txt): a wait for its reply here would never end, and Scrapy's
        engine does not close a crawl with a request in its downloader. A wait until a reset
        ends by the clock, whatever is counted in it."""
        key = hold_key(request)
        if key not in self._outstanding:
            # No request sent to this bucket yet: it starts with a probe, as after a reset (a
            # crawl's first burst went out before any reply said the budget: GitHub's search
            # allows 30 a minute, and a spider asks more than that at once).
            self._probes.setdefault(key, None)
        window = self._windows.get(key)
        if window is not None and window.ends <= now:
            del self._windows[key]  # the window is over: the next reply tells the new budget
            self._probes[key] = None
            window = None
        outstanding = self._outstanding.get(key, weakref.WeakSet())
        if window is None:
            probe = self._probes.get(key)
            first = probe() if probe is not None else None
            on_its_way = self._passed if passed_only else outstanding
            asking = first is not None and first is not request and first in on_its_way
            return PROBE_POLL if asking else 0.0
        out = len(outstanding) - (request in outstanding)  # one seen again is not its own rival
        if window.remaining - out > 0:
            return 0.0
        if window.hold_until is None:
            window.hold_until = min(window.reset_at, now + self.max_wait)
            wait = window.hold_until - now
            self._inc("ratelimit/paced_seconds", round(wait))
            logger.info(
                "%s bucket %s: budget spent (%d left, %d not yet answered); pacing its "
                "requests %.1fs (the window resets in %.1fs)",
                key[0], key[1] or "default", window.remaining, out, wait, window.reset_at - now,
            )  # fmt: skip
        return window.hold_until - now

    def _learn(self, request: Request, response: Response, bucket: str) -> None:
        """Keep what a reply says of its bucket's window: the lowest `remaining` of a window,
        a later window's budget in place of an earlier one's."""
        told = budget(response)
        key = (urlsplit(request.url).netloc, bucket)
        if told is None:
            return
        now = time.monotonic()
        reset_at = now + told.reset_in + RESET_MARGIN
        known = self._windows.get(key)
        blur = max(SAME_WINDOW, SAME_WINDOW_SHARE * told.reset_in)
        if known is None or reset_at > known.reset_at + blur:
            self._windows[key] = _Window(told.remaining, reset_at)
        elif reset_at >= known.reset_at - blur:
            known.remaining = min(known.remaining, told.remaining)
            known.reset_at = max(known.reset_at, reset_at)
        else:
            return  # a late reply of a window already over
        self._probes.pop(key, None)

    def _release(self, request: Request, *, answered: bool) -> None:
        """`request` is answered, or failed: no longer outstanding. The answer to the first
        request after a reset ends the wait for one (what it told of the budget is kept, if
        anything); a failed one lets the next request go in its place."""
        key = hold_key(request)
        if key in self._outstanding:
            self._outstanding[key].discard(request)
        self._passed.discard(request)
        probe = self._probes.get(key)
        if probe is not None and probe() is request:
            if answered:
                del self._probes[key]
            else:
                self._probes[key] = None

    def process_exception(self, request: Request, exception: Exception) -> None:
        """A request that failed (or was dropped) after this middleware: no longer outstanding."""
        self._release(request, answered=False)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        bucket = _bucket(request, response)
        self._learn(request, response, bucket)
        self._release(request, answered=True)
        limited = response.status in _RATE_STATUSES and self._is_rate_limit(response)
        if not limited and not _graphql_rate_limited(response):
            if response.status == 403:
                self._inc("ratelimit/refused")
                logger.warning("refused (403) without a rate limit: %s", request.url)
            return response
        attempts = int(request.meta.get("ratelimit_retries", 0))
        if attempts >= self.max_retries:
            request.meta["dont_retry"] = True  # the cap is final: RetryMiddleware must not go on
            self._inc("ratelimit/gave_up")
            logger.error(
                "rate limited %d times, giving up on %s (status %d)",
                attempts,
                request.url,
                response.status,
            )
            return response
        secondary = _is_secondary(response)
        wait = min(self.max_wait, self.wait_seconds(response, attempts, secondary=secondary))
        if self._past_deadline(wait):
            self._skip(request, wait)
        scope = EVERY_BUCKET if secondary else bucket
        self._pause(request, scope, wait)
        self._inc("ratelimit/waits")
        self._inc("ratelimit/waited_seconds", round(wait))
        logger.warning(
            "%s (%d) on %s; holding %s for %.1fs before retry %d",
            "secondary rate limit" if secondary else "rate limited",
            response.status,
            request.url,
            "every request" if secondary else f"bucket {scope or 'default'}",
            wait,
            attempts + 1,
        )
        retry = request.replace(dont_filter=True)
        retry.meta["ratelimit_retries"] = attempts + 1
        return retry  # rescheduled: kept back by the scheduler until the wait is over

    def _past_deadline(self, wait: float) -> bool:
        return self.deadline is not None and time.monotonic() + wait > self.deadline

    def _skip(self, request: Request, wait: float) -> None:
        self._inc("refused/rate_limited")
        logger.warning(
            "skipped %s: its rate-limit wait (%.0fs) would outlast the crawl's timeout",
            request.url,
            wait,
        )
        raise RateLimitSkipped(f"rate-limit wait past the crawl's deadline: {request.url}")

    def _is_rate_limit(self, response: Response) -> bool:
        if response.status == 429:
            return True
        if response.headers.get("Retry-After"):
            return True
        left = remaining(response)
        if left is not None and left < 1:
            return True
        return _is_secondary(response)

    def wait_seconds(self, response: Response, attempts: int, *, secondary: bool = False) -> float:
        """Seconds to wait: Retry-After, else the announced reset (at least a second: a window
        that just reset may not have on the platform's clock), else exponential backoff (for a
        secondary limit at least a minute, per GitHub's guidance)."""
        seconds = retry_after(response)
        if seconds is not None:
            return max(0.0, seconds)
        if not secondary:
            reset = reset_seconds(response)
            if reset is not None:
                return max(1.0, reset)
        backoff = self.base_backoff * (2**attempts)
        return max(backoff, self.secondary_min) if secondary else backoff


def hold_key(request: Request) -> Key:
    """The (host, bucket) a request is held and counted under: the bucket its spider named."""
    return urlsplit(request.url).netloc, str(request.meta.get("ratelimit_bucket", ""))


def _bucket(request: Request, response: Response) -> str:
    """The bucket a reply counted against: the API's own word for it, else the request's."""
    resource = header(response, "x-ratelimit-resource")
    return resource.strip() if resource else str(request.meta.get("ratelimit_bucket", ""))


def _graphql_rate_limited(response: Response) -> bool:
    """GraphQL's rate limit: a 200 whose `errors` name the type `RATE_LIMITED`."""
    if response.status != 200 or b"RATE_LIMITED" not in response.body[:4000]:
        return False
    try:
        errors = json.loads(response.body).get("errors")
    except (ValueError, AttributeError):
        return False
    return isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors
    )


def _is_secondary(response: Response) -> bool:
    return response.status in (403, 429) and b"secondary rate limit" in response.body[:2000].lower()


def _deadline(settings: Settings) -> float | None:
    """When waits must stop: the crawl's timeout from now, less the margin (none without one)."""
    timeout = settings.crawl_timeout
    if timeout <= 0:
        return None
    return time.monotonic() + max(timeout - DEADLINE_MARGIN, timeout / 2)
