"""What a reply says of its rate-limit window: requests left, seconds to the reset, the wait.

One reader for every platform we call, so the middleware (`crawlers.middlewares`) paces them
all alike:

- GitHub: `x-ratelimit-remaining`, `x-ratelimit-reset` (epoch seconds) and
  `x-ratelimit-resource`, the bucket (read by the middleware).
- Reddit: `X-Ratelimit-Remaining` (a float, "596.0"), `X-Ratelimit-Reset` (seconds to the
  window's end) and `X-Ratelimit-Used`.
- Mastodon: `X-RateLimit-Remaining`, `X-RateLimit-Reset` (an ISO 8601 time,
  "2024-10-19T06:00:00.000Z").
- Bluesky: `ratelimit-remaining`, `ratelimit-reset` (epoch seconds, floored) and
  `ratelimit-policy` ("3000;w=300").
- The IETF draft (to -06): `RateLimit-Remaining`, `RateLimit-Reset` (seconds to the reset).

Header names are case-insensitive: GitHub, Reddit and Mastodon share one reset header, Bluesky
and the draft another, so the value tells the forms apart — an ISO time, a number of seconds,
or (`EPOCH_THRESHOLD` and up) an epoch time. A value no platform sends (`inf`, `nan`, a
negative number, text) reads as unknown: never a crash, never a wait of forever.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.http import Response

from crawlers.parsers import ParseError
from crawlers.parsers.common import from_iso

#: Reset values below this are a number of seconds (Reddit, the draft), above it an epoch time.
EPOCH_THRESHOLD = 10**9
#: Epoch resets come in whole seconds, rounded down (Bluesky): a window whose announced reset
#: passed less than this long ago may still be running, and its budget still counts.
EPOCH_GRACE = 1.0
#: (requests left, reset) header pairs, in the order they are read: the `x-` form first.
_FAMILIES = (
    ("x-ratelimit-remaining", "x-ratelimit-reset"),
    ("ratelimit-remaining", "ratelimit-reset"),
)


@dataclass(frozen=True)
class Budget:
    """What one reply said of its window: `remaining` requests (whole ones) at the time the
    platform answered, and `reset_in` seconds from now to the window's reset (0 for an epoch
    reset passed under a second ago: `EPOCH_GRACE`)."""

    remaining: int
    reset_in: float


def header(response: Response, name: str) -> str | None:
    value: Any = response.headers.get(name)
    if value is None:
        return None
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def header_number(value: Any) -> float | None:
    """A numeric rate-limit header (bytes from Scrapy), or None when absent or not a finite
    number (`inf`, `nan` and `1e999` read as floats, and would make a pause of forever or
    of the longest allowed)."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def remaining(response: Response) -> float | None:
    """Requests left in the window, as the first header form present says; None when no form
    gives a number of zero or more."""
    for name, _ in _FAMILIES:
        if name in response.headers:
            left = header_number(response.headers.get(name))
            return left if left is not None and left >= 0 else None
    return None


def reset_seconds(response: Response, now: float | None = None) -> float | None:
    """Seconds from `now` (wall time, default the clock) to the reset the reply announces, 0 when
    it has passed; None when no reset header is present or its value is unreadable."""
    for _, name in _FAMILIES:
        value = header(response, name)
        if value is not None:
            return _seconds_to(value.strip(), time.time() if now is None else now)
    return None


def budget(response: Response, now: float | None = None) -> Budget | None:
    """The reply's budget: requests left and the seconds to a reset still to come, from one
    header form; None when either is missing or unreadable, or the reset has passed (the
    window it counted is over and says nothing of the next)."""
    for left_name, reset_name in _FAMILIES:
        if left_name not in response.headers:
            continue
        left = header_number(response.headers.get(left_name))
        value = header(response, reset_name)
        if left is None or left < 0 or value is None:
            return None
        at = time.time() if now is None else now
        reset_in = _seconds_to(value.strip(), at)
        if reset_in is None or (reset_in <= 0 and not _epoch_just_passed(value.strip(), at)):
            return None
        return Budget(remaining=math.floor(left), reset_in=reset_in)
    return None


def retry_after(response: Response, now: float | None = None) -> float | None:
    """`Retry-After`: delta seconds or an HTTP date, as seconds from now (None when absent,
    unreadable or not finite)."""
    value = header(response, "Retry-After")
    if not value:
        return None
    seconds = header_number(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, OverflowError):
        return None
    return when - (time.time() if now is None else now)


def _epoch_just_passed(value: str, now: float) -> bool:
    """An epoch reset within `EPOCH_GRACE` behind `now`: rounded down, its window may run on
    (a reply read just after the floor of a 1 s window's end told the budget as unknown, and
    the requests let go on that ran into a 429)."""
    number = header_number(value)
    return number is not None and number >= EPOCH_THRESHOLD and 0 <= now - number < EPOCH_GRACE


def _seconds_to(value: str, now: float) -> float | None:
    """A reset value as seconds from `now`: a delta, an epoch time or an ISO 8601 time."""
    number = header_number(value)
    if number is None:
        try:
            return max(0.0, from_iso(value, "rate-limit reset").timestamp() - now)
        except ParseError:
            return None
    if number < 0:
        return None
    return max(0.0, number - now) if number >= EPOCH_THRESHOLD else number
