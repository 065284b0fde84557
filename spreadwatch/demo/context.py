"""What every platform builder shares: the seeded random source, author pools, text assembly.

`Record` is one line of a data file: the native record under `data`, plus what the generator knows
about it (time, stance, whether it must match the incident's queries) for the truth and the tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from spreadwatch.demo import texts
from spreadwatch.demo import timeline as tl
from spreadwatch.demo.shapes import iso_z

SEED = 20241019


@dataclass
class Author:
    id: str
    handle: str
    name: str
    followers: int


@dataclass
class Record:
    """One line of a data file: the native record and what the generator knows about it."""

    platform: str
    kind: str
    id: str
    at: datetime
    data: dict[str, Any]
    stance: str | None = None  # None for activity (stars, forks) and profiles
    lang: str | None = None
    matches: bool = False
    url: str | None = None
    followers: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> dict[str, Any]:
        entry = {
            "at": iso_z(self.at),
            "platform": self.platform,
            "kind": self.kind,
            "id": self.id,
            "stance": self.stance,
            "lang": self.lang,
            "matches": self.matches,
            "url": self.url,
            "followers": self.followers,
            **self.extra,
            "data": self.data,
        }
        return {k: v for k, v in entry.items() if v is not None}


class Context:
    """The random source and author pools every platform builder shares."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self._pools: dict[str, list[Author]] = {}
        self._next_id = 1000

    def new_id(self) -> int:
        self._next_id += self.rng.randint(1, 97)
        return self._next_id

    def pool(self, platform: str, size: int, style: str) -> list[Author]:
        if platform not in self._pools:
            self._pools[platform] = [self._author(platform, i, style) for i in range(size)]
        return self._pools[platform]

    def author(self, platform: str, size: int = 120, style: str = "en") -> Author:
        """An author drawn with a heavy tail: a few accounts post many times."""
        pool = self.pool(platform, size, style)
        index = min(int(self.rng.paretovariate(1.2)) - 1, len(pool) - 1)
        return pool[index] if self.rng.random() < 0.5 else self.rng.choice(pool)

    def _author(self, platform: str, index: int, style: str) -> Author:
        rng = self.rng
        followers = int(rng.lognormvariate(6.0, 2.0))
        if index < 3:  # the platform's big accounts: tech bloggers, news accounts
            followers = rng.randint(150_000, 3_000_000)
        syllables = ("li", "wang", "zhang", "chen", "liu", "yang", "zhao", "wu", "zhou", "xu")
        words = (
            "byte",
            "tensor",
            "cloud",
            "null",
            "pixel",
            "delta",
            "kernel",
            "orbit",
            "quant",
            "river",
        )
        pick = syllables if style == "zh" else words
        handle = f"{rng.choice(pick)}{rng.choice(pick)}{rng.randint(1, 9999)}"
        if style == "zh":
            name = rng.choice(("科技", "数码", "码农", "吃瓜", "AI", "大模型")) + rng.choice(
                ("观察", "日记", "小王", "前线", "研究所", "老李")
            )
        else:
            name = handle.capitalize()
        uid = (
            str(1_000_000_000 + self.new_id() * 7919) if platform == "weibo" else str(self.new_id())
        )
        return Author(uid, handle, name, followers)

    def text(self, stance: str, lang: str) -> str:
        rng = self.rng
        body = rng.choice(texts.BODIES[(stance, lang)])
        return f"{rng.choice(texts.OPENERS[lang])}{body}{rng.choice(texts.CLOSERS[lang])}".strip()

    def noise(self, lang: str) -> str:
        return self.rng.choice(texts.NOISE[lang]) + self.rng.choice(("", "", "!", "?", " 🙂"))

    def post_time(self, first: datetime) -> datetime:
        return tl.sample_time(self.rng, first, tl.waves_after(first))


def shift(at: datetime, minutes: float) -> datetime:
    return (at + timedelta(minutes=minutes)).replace(microsecond=0)
