"""What time it is: the one clock type, the real clock, and the clock a crawl stamps with.

A `Clock` is a zero-argument callable returning an aware datetime. The monitor's jobs, its
heartbeat and lease, the replay servers and the demo's simulated clock (`SimClock`) are all
clocks, injected where time is read so tests and the demo can run on their own.

A crawl stamps what it sees with `crawl_clock(settings)`: `first_seen`, `last_seen`,
`deleted_at` and `edited_at` on posts, `captured_at` and the WARC date of archived responses, and
the times it reads relative to "now" (Weibo's `5分钟前`, in a crawl or a re-check; a page without
a time). It judges by it too: where a search window ends while the incident is open, and when a
followed GitHub repository has gone `follow_expiry` without a match. That is the real clock,
unless `SPREADWATCH_CRAWL_AS_OF` fixes the moment the crawl happens at: the demo replays October
2024 on a simulated clock that stands still while a round's crawls run, and passes each round's
moment that way, so its story never shows the wall-clock date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spreadwatch.settings import Settings

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock, in UTC."""
    return datetime.now(UTC)


def fixed(moment: datetime) -> Clock:
    """A clock that always says `moment` (aware)."""
    if moment.tzinfo is None:
        raise ValueError(f"a fixed clock needs an aware time, got {moment.isoformat()}")

    def clock() -> datetime:
        return moment

    return clock


def crawl_clock(settings: Settings) -> Clock:
    """The time a crawl stamps on what it sees: `crawl_as_of` when set, else the real clock."""
    return utc_now if settings.crawl_as_of is None else fixed(settings.crawl_as_of)
