"""What a rule produces when it fires (`Finding`), and the wording shared by subjects and bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from spreadwatch.names import platform_label

#: In a sentence, some platforms read better as what they are ("on news sites").
SENTENCE_NAMES = {"feeds": "news feeds", "news": "news sites", "web": "the web"}


def platform_name(platform: str | None) -> str:
    """How a platform is named in a sentence ("on GitHub", not "on github")."""
    if not platform:
        return "all platforms"
    return SENTENCE_NAMES.get(platform) or platform_label(platform)


def human_window(window: timedelta) -> str:
    """`the last hour`, `the last 30 minutes`, `the last 2 days`: how people say windows."""
    seconds = int(window.total_seconds())
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            amount = seconds // size
            return f"the last {unit}" if amount == 1 else f"the last {amount} {unit}s"
    return f"the last {seconds} seconds"


def human_number(value: float) -> str:
    """1234567 → 1.2M; small numbers stay exact."""
    for suffix, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:g}"


@dataclass
class Finding:
    """One firing of one rule for one key (a platform, an author, a repo, a source...).

    `headline` is the subject without the incident title; `numbers` are label/value pairs for the
    body; `posts` are the posts that explain it; `basis` the ids of the posts it stands on. Everything needed to render the e-mail later is
    here, so a pending alert re-sent after a restart says exactly what it said when it fired.
    """

    rule: str
    rule_type: str
    key: str
    headline: str
    summary: str
    window_start: datetime
    window_end: datetime
    value: float | None = None
    platform: str | None = None
    numbers: list[tuple[str, str]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    closes: str | None = None
    #: The posts this finding stands on (a lifecycle alert stays in force only while they
    #: still qualify; see `alerts.engine`).
    basis: list[str] = field(default_factory=list)
