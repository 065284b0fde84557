"""What time it is: the one clock type and the real clock.

A `Clock` is a zero-argument callable returning an aware datetime. The monitor's jobs, its
heartbeat and lease, the replay servers and the demo's simulated clock (`SimClock`) are all
clocks, injected where time is read so tests and the demo can run on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock, in UTC."""
    return datetime.now(UTC)
