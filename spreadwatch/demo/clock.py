"""The demo's simulated clock: days of the incident played in minutes.

One object answers "what time is it?" for everything the demo drives — the replay servers (which
reveal a record once the clock passes its time), the alert evaluation (`now=`) and the live
display — so they can never disagree. The clock moves in steps, one crawl round at a time: while
a round's crawls run, simulated time stands still, so what a round sees does not depend on how
fast the machine is (the demo paces the steps in wall time to follow `--speed`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta


class SimClock:
    """Simulated time, set by the demo and read from any thread (replay servers run in threads)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs an aware start time")
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return self.now()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            if moment < self._now:
                raise ValueError(f"the simulated clock does not go back ({moment} < {self._now})")
            self._now = moment

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


def steps(start: datetime, end: datetime, every: timedelta) -> Iterator[datetime]:
    """The round times from `start` to `end` inclusive, `every` apart."""
    if every <= timedelta(0):
        raise ValueError("the round interval must be positive")
    moment = start
    while moment < end:
        yield moment
        moment += every
    yield end
