"""Waiting out rate limits per bucket: `Retry-After` and `x-ratelimit-reset` (Scrapy ignores both,
scrapy#3849).

APIs budget requests per *resource*: GitHub's search and core limits are separate (its
`X-RateLimit-Resource` header names the one a reply counted against). A spider names a request's
bucket in `request.meta["ratelimit_bucket"]` (else the host is one bucket); a wait holds every
request of its bucket on that host and none other — a search limit never pauses core requests.

- A 429, or a 403/503 that says it is a rate limit (a `Retry-After`, `x-ratelimit-remaining: 0`,
  or GitHub's "secondary rate limit" message), is retried after the wait: `Retry-After` (seconds
  or an HTTP date), else the reset header (`x-ratelimit-reset` epoch seconds; Reddit's counts
  seconds), else an exponential backoff from `SPREADWATCH_RATELIMIT_BACKOFF` — capped by
  `SPREADWATCH_RATELIMIT_MAX_WAIT`, at most `SPREADWATCH_RATELIMIT_MAX_RETRIES` times.
- A secondary limit (GitHub: too many requests at once, or too fast, across the API) holds every
  request to the host, per GitHub's guidance: `Retry-After` when given, else at least
  `SPREADWATCH_RATELIMIT_SECONDARY_MIN` (a minute), doubling on each repeat.
- GitHub's GraphQL API answers a rate limit with a 200 whose `errors` hold one of type
  `RATE_LIMITED` (github/docs#22607), with `x-ratelimit-resource: graphql`: waited out and
  retried the same way, in the `graphql` bucket.
- A reply that spends the bucket's last request (`x-ratelimit-remaining: 0`) holds the bucket
  until its reset, so the next request does not run into the limit.
- Held requests wait in a loop (a wait that grows while one sleeps holds it on), so none slips
  through. A wait that would outlast the crawl's timeout (`crawl_timeout` of the settings, less a
  margin for the final flush) is not taken: the request is skipped, counted as
  `spreadwatch/refused/rate_limited` and logged with its URL, and the crawl ends in time.

A plain 403 passes through to the spider as a refusal, counted in stats. Sits before Scrapy's
RetryMiddleware (priority 560), which keeps handling 5xx without `Retry-After`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from spreadwatch.settings import Settings, load_settings

logger = logging.getLogger(__name__)

PRIORITY = 560
_RATE_STATUSES = (403, 429, 503)
#: Reset values below this are a number of seconds (Reddit), above it an epoch time (GitHub).
_EPOCH_THRESHOLD = 10**9
#: The bucket a secondary limit holds: every request to the host.
EVERY_BUCKET = "*"
#: Seconds kept free at the end of a crawl's timeout for the writer's flush and the state.
DEADLINE_MARGIN = 15.0


class RateLimitSkipped(IgnoreRequest):
    """A request not sent because its wait would outlast the crawl: still to be fetched, so the
    checkpoint does not count it as done (`unfetched`)."""

    unfetched = True


class RateLimitMiddleware:
    """Hold, delay and retry rate-limited requests per (host, bucket); count waits, give-ups,
    skips and refusals in stats."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.max_wait = settings.getfloat("SPREADWATCH_RATELIMIT_MAX_WAIT", 300.0)
        self.max_retries = settings.getint("SPREADWATCH_RATELIMIT_MAX_RETRIES", 5)
        self.base_backoff = settings.getfloat("SPREADWATCH_RATELIMIT_BACKOFF", 60.0)
        self.secondary_min = settings.getfloat("SPREADWATCH_RATELIMIT_SECONDARY_MIN", 60.0)
        given = settings.get("SPREADWATCH_SETTINGS")
        self.deadline = _deadline(given if isinstance(given, Settings) else load_settings())
        self._paused_until: dict[tuple[str, str], float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RateLimitMiddleware:
        return cls(crawler)

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"spreadwatch/{key}", count)

    def _hold_until(self, request: Request) -> float:
        host = urlsplit(request.url).netloc
        bucket = request.meta.get("ratelimit_bucket", "")
        return max(
            self._paused_until.get((host, bucket), 0.0),
            self._paused_until.get((host, EVERY_BUCKET), 0.0),
        )

    def _pause(self, request: Request, bucket: str, seconds: float) -> None:
        key = (urlsplit(request.url).netloc, bucket)
        self._paused_until[key] = max(self._paused_until.get(key, 0.0), time.monotonic() + seconds)

    async def process_request(self, request: Request) -> None:
        """Hold a request while its bucket (or the whole host) is being waited out."""
        held = False
        while (delay := self._hold_until(request) - time.monotonic()) > 0:
            if self._past_deadline(delay):
                self._skip(request, delay)
            if not held:
                self._inc("ratelimit/held")
                held = True
            await asyncio.sleep(delay)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        bucket = _bucket(request, response)
        limited = response.status in _RATE_STATUSES and self._is_rate_limit(response)
        if not limited and not _graphql_rate_limited(response):
            self._spent(request, response, bucket)
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
        return retry  # held in process_request until the wait is over

    def _spent(self, request: Request, response: Response, bucket: str) -> None:
        """A reply that used the bucket's last request: hold the bucket until its reset."""
        remaining = _header(response, "x-ratelimit-remaining")
        if remaining is None or remaining.strip() not in ("0", "0.0"):
            return
        wait = min(self.max_wait, self._reset_seconds(response) or 0.0)
        if wait > 0:
            self._pause(request, bucket, wait)
            logger.info("bucket %s spent; holding it %.0fs until its reset", bucket, wait)

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
        headers = response.headers
        if headers.get("Retry-After"):
            return True
        remaining = _header(response, "x-ratelimit-remaining")
        if remaining is not None and remaining.strip() in ("0", "0.0"):
            return True
        return _is_secondary(response)

    def wait_seconds(self, response: Response, attempts: int, *, secondary: bool = False) -> float:
        """Seconds to wait: Retry-After, else the reset header, else exponential backoff (for
        a secondary limit at least a minute, per GitHub's guidance)."""
        retry_after = _header(response, "Retry-After")
        if retry_after:
            seconds = _parse_retry_after(retry_after)
            if seconds is not None:
                return max(0.0, seconds)
        if not secondary:
            reset = self._reset_seconds(response)
            if reset is not None:
                return reset
        backoff = self.base_backoff * (2**attempts)
        return max(backoff, self.secondary_min) if secondary else backoff

    def _reset_seconds(self, response: Response) -> float | None:
        reset = _header(response, "x-ratelimit-reset")
        if not reset:
            return None
        try:
            value = float(reset)
        except ValueError:
            return None
        if value >= _EPOCH_THRESHOLD:
            return max(1.0, value - time.time())
        return value if value >= 0 else None


def _bucket(request: Request, response: Response) -> str:
    """The bucket a reply counted against: the API's own word for it, else the request's."""
    resource = _header(response, "x-ratelimit-resource")
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


def _header(response: Response, name: str) -> str | None:
    value: Any = response.headers.get(name)
    if value is None:
        return None
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _parse_retry_after(value: str) -> float | None:
    """`Retry-After` is delta seconds or an HTTP date."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None
