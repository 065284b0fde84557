"""The reconstructed incident's clock: anchors from the public reporting, waves of attention, stance mix.

Anchor times are illustrative (the reporting gives days, not minutes), but their order and days
follow it: Weibo and forum rumours from 16 Oct, the JusticeFighter110 page and the "it is fake"
repository on 18 Oct, ByteDance's statement on Toutiao on Saturday 19 Oct (10:05 Beijing time),
Chinese and English press the same weekend, a German IT trade outlet on 21 Oct, then decay.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


WINDOW_START = utc("2024-10-15T00:00:00")
WINDOW_END = utc("2024-10-27T00:00:00")

ORIGIN = utc("2024-10-16T04:40:05")  # Weibo, 12:40 Beijing time
FORUM_FIRST = utc("2024-10-16T09:12:40")  # V2EX topic
JF_REPO = utc("2024-10-18T01:32:10")  # JusticeFighter110's page with the "confession recording"
FAKE_REPO = utc("2024-10-18T09:48:30")  # another repository calls the recording fake
REDDIT_FIRST = utc("2024-10-18T13:55:00")
MASTODON_FIRST = utc("2024-10-18T16:21:00")
BLUESKY_FIRST = utc("2024-10-18T18:04:00")
DENIAL = utc("2024-10-19T02:05:00")  # Saturday 19 Oct, 10:05 Beijing time, Toutiao
NEWS_ZH = utc("2024-10-19T03:31:00")
HN_STORY = utc("2024-10-19T05:27:00")
NEWS_EN = utc("2024-10-19T09:02:00")
NEWS_DE = utc("2024-10-21T07:40:00")  # the German IT trade outlet


@dataclass(frozen=True)
class Wave:
    """A burst of posts: `share` of a platform's volume, starting at `start`, decaying with `tau_h`."""

    start: datetime
    share: float
    tau_h: float


#: Attention after each anchor; platforms draw their post times from these waves.
WAVES = {
    "rumour": Wave(ORIGIN, 0.25, 20.0),
    "evidence": Wave(JF_REPO, 0.30, 10.0),
    "denial": Wave(DENIAL, 0.35, 16.0),
    "coverage": Wave(NEWS_DE, 0.10, 30.0),
}


def sample_time(rng: random.Random, first: datetime, waves: list[Wave]) -> datetime:
    """A post time after `first`, drawn from the waves that have started by then."""
    usable = [w for w in waves if w.start >= first] or waves[-1:]
    weights = [w.share for w in usable]
    while True:
        wave = rng.choices(usable, weights)[0]
        start = max(wave.start, first)
        at = start + timedelta(hours=rng.expovariate(1.0 / wave.tau_h), seconds=rng.randint(5, 600))
        if at < WINDOW_END:
            return at.replace(microsecond=0)


def waves_after(first: datetime) -> list[Wave]:
    return [w for w in WAVES.values() if w.start >= first - timedelta(hours=12)] or [
        Wave(first, 1.0, 24.0)
    ]


def stance_at(rng: random.Random, at: datetime) -> str:
    """The stance mix the reporting suggests for the moment `at`."""
    if at < JF_REPO:
        mix = {"rumour": 0.8, "other": 0.2}
    elif at < DENIAL:
        mix = {"rumour": 0.55, "debunk": 0.25, "other": 0.2}
    else:
        mix = {"denial": 0.4, "report": 0.2, "rumour": 0.15, "debunk": 0.08, "other": 0.17}
    return rng.choices(list(mix), list(mix.values()))[0]


def noise_time(rng: random.Random) -> datetime:
    span = (WINDOW_END - WINDOW_START).total_seconds()
    return (WINDOW_START + timedelta(seconds=rng.uniform(0, span))).replace(microsecond=0)
