"""Waiting out rate limits: `Retry-After` and `x-ratelimit-reset` (Scrapy ignores both, #3849).

A 429, or a 403/503 that says it is a rate limit (a `Retry-After`, or `x-ratelimit-remaining: 0`,
or GitHub's "secondary rate limit" message), is waited out and retried: the wait is taken from
`Retry-After` (seconds or an HTTP date), else from the reset header (`x-ratelimit-reset` epoch
seconds; Reddit's `X-Ratelimit-Reset` counts seconds), else an exponential backoff — always
capped by `SPREADWATCH_RATELIMIT_MAX_WAIT` and retried at most `SPREADWATCH_RATELIMIT_MAX_RETRIES`
times. While a host is waited out, other requests to it wait too. A plain 403 passes through to
the spider as a refusal, counted in stats. Sits before Scrapy's RetryMiddleware (priority 560),
which keeps handling 5xx without `Retry-After`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

logger = logging.getLogger(__name__)

PRIORITY = 560
_RATE_STATUSES = (403, 429, 503)
#: Reset values below this are a number of seconds (Reddit), above it an epoch time (GitHub).
_EPOCH_THRESHOLD = 10**9


class RateLimitMiddleware:
    """Delay and retry rate-limited responses; count waits, give-ups and refusals in stats."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.max_wait = settings.getfloat("SPREADWATCH_RATELIMIT_MAX_WAIT", 300.0)
        self.max_retries = settings.getint("SPREADWATCH_RATELIMIT_MAX_RETRIES", 5)
        self.base_backoff = settings.getfloat("SPREADWATCH_RATELIMIT_BACKOFF", 60.0)
        self._paused_until: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RateLimitMiddleware:
        return cls(crawler)

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"spreadwatch/ratelimit/{key}", count)

    async def process_request(self, request: Request) -> None:
        """Hold a request while its host is being waited out."""
        until = self._paused_until.get(urlsplit(request.url).netloc, 0.0)
        delay = until - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in _RATE_STATUSES or not self._is_rate_limit(response):
            if response.status == 403:
                self._inc("refused")
                logger.warning("refused (403) without a rate limit: %s", request.url)
            return response
        attempts = int(request.meta.get("ratelimit_retries", 0))
        if attempts >= self.max_retries:
            request.meta["dont_retry"] = True  # the cap is final: RetryMiddleware must not go on
            self._inc("gave_up")
            logger.error(
                "rate limited %d times, giving up on %s (status %d)",
                attempts,
                request.url,
                response.status,
            )
            return response
        wait = min(self.max_wait, self.wait_seconds(response, attempts))
        self._inc("waits")
        self._inc("waited_seconds", round(wait))
        logger.warning(
            "rate limited (%d) on %s; waiting %.1fs before retry %d",
            response.status,
            request.url,
            wait,
            attempts + 1,
        )
        host = urlsplit(request.url).netloc
        self._paused_until[host] = max(self._paused_until.get(host, 0.0), time.monotonic() + wait)
        await asyncio.sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta["ratelimit_retries"] = attempts + 1
        return retry

    def _is_rate_limit(self, response: Response) -> bool:
        if response.status == 429:
            return True
        headers = response.headers
        if headers.get("Retry-After"):
            return True
        remaining = _header(response, "x-ratelimit-remaining")
        if remaining is not None and remaining.strip() in ("0", "0.0"):
            return True
        return response.status == 403 and b"secondary rate limit" in response.body[:2000].lower()

    def wait_seconds(self, response: Response, attempts: int) -> float:
        """Seconds to wait: Retry-After, else the reset header, else exponential backoff."""
        retry_after = _header(response, "Retry-After")
        if retry_after:
            seconds = _parse_retry_after(retry_after)
            if seconds is not None:
                return max(0.0, seconds)
        reset = _header(response, "x-ratelimit-reset")
        if reset:
            try:
                value = float(reset)
            except ValueError:
                value = -1.0
            if value >= _EPOCH_THRESHOLD:
                return max(1.0, value - time.time())
            if value >= 0:
                return value
        return self.base_backoff * (2**attempts)


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
