"""Durations and times as people type them, read the same way in incident files and on the CLI.

A plain module (standard library only): the CLI parses its options with it before anything heavy
is imported, and the incident model validates its fields with it, so `10`, `10s`, `4h` and `2d`
mean the same thing everywhere.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
#: An age on the CLI (`--since 3d`) names its unit: a bare number could be a year.
_AGE = re.compile(r"^\s*\d+(?:\.\d+)?\s*[smhdw]\s*$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION_FORMS = "a number of seconds (90) or 90s, 30m, 4h, 2d, 1w"
#: The longest duration read: far past any use, and an age of it still a date after year 1
#: (`timedelta` itself stops near 2.7 million years and a date subtracted from at year 1).
MAX_YEARS = 1000
MAX_SECONDS = MAX_YEARS * 365 * UNIT_SECONDS["d"]


class DurationTooLongError(ValueError):
    """A duration past `MAX_YEARS`: readable, but no use and no date."""


def parse_duration(value: Any) -> timedelta:
    """`90s`, `30m`, `1h`, `2d`, `1w`, or a number of seconds (`10`, `10.5`) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            seconds = float(match.group(1)) * UNIT_SECONDS[match.group(2) or "s"]
    if seconds is None or math.isnan(seconds):
        raise ValueError(f"expected a duration — {DURATION_FORMS} — got {value!r}")
    if seconds > MAX_SECONDS:
        raise DurationTooLongError(
            f"{value!r} is longer than {MAX_YEARS:,} years, the longest duration"
        )
    return timedelta(seconds=seconds)


def duration_text(value: timedelta) -> str:
    """The shortest exact way to write a duration: `4h`, `90m`, `45s`, `14d` (what both this
    module and Elasticsearch's `fixed_interval` read; weeks are written in days for the latter)."""
    seconds = value.total_seconds()
    for unit in ("d", "h", "m"):
        size = UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def parse_when(value: str, now: datetime | None = None) -> datetime:
    """A time from the CLI: ISO date or datetime (UTC when no zone) or an age (3d, 12h, 30m)."""
    text = value.strip()
    if _AGE.match(text):
        return (now or datetime.now(UTC)) - parse_duration(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"cannot read time {value!r}: use a date (2024-10-18), a datetime "
            "(2024-10-18T12:00Z) or an age (3d, 12h, 30m)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
