"""The demo's simulated clock: days of the incident played in minutes.

One object answers "what time is it?" for everything the demo drives — the replay servers (which
reveal a record once the clock passes its time), the alert evaluation (`now=`) and the live
display — so they can never disagree. Simulated time runs `speed` times faster than wall time
from `start`; it can be read from any thread.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta


class SimClock:
    """Simulated time: `start + (monotonic elapsed) × speed`, stopping at `end` if given."""

    def __init__(self, start: datetime, speed: float, end: datetime | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs an aware start time")
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.start = start
        self.speed = speed
        self.end = end
        self._lock = threading.Lock()
        self._origin = time.monotonic()
        self._offset = timedelta(0)

    def __call__(self) -> datetime:
        return self.now()

    def now(self) -> datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._origin) * self.speed
            moment = self.start + self._offset + timedelta(seconds=elapsed)
        return min(moment, self.end) if self.end is not None else moment

    def advance(self, delta: timedelta) -> None:
        """Jump forward (a fast test plays the incident in large steps)."""
        with self._lock:
            self._offset += delta

    def finished(self) -> bool:
        return self.end is not None and self.now() >= self.end

    def wall_seconds_until(self, moment: datetime) -> float:
        """How long to sleep for the clock to reach `moment` (0 if it already has)."""
        return max(0.0, (moment - self.now()).total_seconds() / self.speed)
