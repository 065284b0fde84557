"""Shared by the spider tests: a settable replay clock and incident files written per test."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

#: The founding case's Saturday: ByteDance's statement on Toutiao (19 Oct 2024).
DENIAL_DAY = datetime(2024, 10, 19, 12, 0, tzinfo=UTC)


class SettableClock:
    """A replay clock the test moves forward, as the demo's simulated clock does."""

    def __init__(self, now: datetime = DENIAL_DAY) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def write_incident(folder: Path, sources: dict, **fields: object) -> Path:
    """A minimal valid incident file with the given `sources:` section."""
    incident = {
        "id": "test-case",
        "title": "ByteDance intern rumour (test)",
        "timezone": "Asia/Shanghai",
        "window": {"start": "2024-10-01T00:00:00Z"},
        "queries": [
            {"name": "en", "lang": "en", "any": ["ByteDance intern"]},
            {"name": "zh", "lang": "zh", "any": ["字节跳动 实习生"]},
        ],
        "official": {
            "organisation": "ByteDance",
            "accounts": [{"platform": "github", "handle": "bytedance"}],
            "domains": ["bytedance.com"],
        },
        "sources": sources,
        **fields,
    }
    path = folder / "incident.yml"
    path.write_text(yaml.safe_dump(incident, allow_unicode=True), encoding="utf-8")
    return path


#: A log format with milliseconds, for tests that compare log times with request times.
MS_LOG_FORMAT = "%(asctime)s.%(msecs)03d [%(name)s] %(levelname)s: %(message)s"
_HOLD = re.compile(
    r"^(?P<when>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)[.,](?P<ms>\d{3})\S*\s.*holding (?P<what>.+?) "
    r"for (?P<wait>[\d.]+)s",
    re.M,
)


def holds(log: str) -> list[tuple[float, float, str]]:
    """(wall time, seconds, what) of each rate-limit hold the crawl logged."""
    found = []
    for match in _HOLD.finditer(log):
        when = datetime.fromisoformat(match["when"].replace(" ", "T")).replace(tzinfo=UTC)
        start = when.timestamp() + int(match["ms"]) / 1000
        found.append((start, float(match["wait"]), match["what"]))
    return found
