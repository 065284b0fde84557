"""Stance of a post towards the rumour: rumour, denial, debunk, report or other.

Interface used by the pipelines and `spreadwatch reclassify`:
`classify(StanceInput) -> Stance(label, score, cues)`. (First version: official source → denial,
claim match → rumour, otherwise other; the cue lexicons replace this.)
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StanceInput:
    text: str
    title: str | None = None
    lang: str | None = None
    platform: str = ""
    kind: str = "post"
    official: bool = False
    claims: tuple[str, ...] = ()
    domain: str | None = None


@dataclass(frozen=True)
class Stance:
    label: str
    score: float
    cues: list[str] = field(default_factory=list)


def classify(post: StanceInput) -> Stance:
    if post.official:
        return Stance("denial", 1.0, ["official source"])
    if post.claims:
        return Stance("rumour", 0.6, [f"claim:{c}" for c in post.claims])
    return Stance("other", 0.0, [])
