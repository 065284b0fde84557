"""The names a user types — stances, platforms, incidents, rules, sources — and what to say
when one is not known: the closest known names ("did you mean …").

A plain module (standard library only) so the CLI can check a name before importing anything
heavy, and the library can word its own errors the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

STANCES = ("rumour", "denial", "debunk", "report", "other")
#: The schemes a labelled file's gold may use (`indexer.stance_eval.SCHEMES`): spreadwatch's
#: five stances, or RumourEval's reply stances.
LABEL_SCHEMES = ("spreadwatch", "rumoureval")

#: Platforms the built-in spiders write; configured web pages may add their own (`platform:`).
PLATFORMS = (
    "bluesky",
    "github",
    "hackernews",
    "mastodon",
    "news",
    "reddit",
    "telegram",
    "web",
    "weibo",
)


def closest(value: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names nearest to `value` (typos, wrong case, a prefix), best first."""
    names = sorted(set(known))
    folded = {name.casefold(): name for name in names}
    exact = folded.get(value.casefold())
    if exact is not None:
        return [exact]
    near = difflib.get_close_matches(value.casefold(), list(folded), n=n, cutoff=0.6)
    prefixed = [f for f in folded if f.startswith(value.casefold()) and f not in near]
    return [folded[f] for f in (near + prefixed)[:n]]


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """`; did you mean 'x' or 'y'?`, or nothing when no known name is close."""
    suggestions = closest(value, known)
    if not suggestions:
        return ""
    return "; did you mean " + " or ".join(repr(s) for s in suggestions) + "?"


def unknown_name(kind: str, value: str, known: Iterable[str]) -> str:
    """`unknown platform 'twitter'; did you mean 'bluesky'? (known: …)` — one line."""
    names = sorted(set(known))
    message = f"unknown {kind} {value!r}{did_you_mean(value, names)}"
    if not names:
        return message + f" (no {kind} is known yet)"
    listed = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    return f"{message} (known: {listed})"


#: Orders `spreadwatch search --sort` offers (`indexer.search.SORTS` implements them).
SEARCH_SORTS = ("newest", "oldest", "reach")

#: One colour per stance in every chart (report, e-mail): rumour warm, denial dark blue.
STANCE_COLOURS = {
    "rumour": "#d6604d",
    "denial": "#2166ac",
    "debunk": "#67a9cf",
    "report": "#5aae61",
    "other": "#bababa",
}
DENIAL_COLOUR = "#08306b"

#: A fixed, distinct colour per platform in every chart (a palette cycled by position gave Weibo
#: and Toutiao the same colour); platforms not listed take the spare colours in order.
PLATFORM_COLOURS = {
    "weibo": "#e6550d",
    "toutiao": "#3182bd",
    "github": "#636363",
    "reddit": "#ff7f0e",
    "hackernews": "#bcbd22",
    "news": "#31a354",
    "web": "#17becf",
    "bluesky": "#1f77b4",
    "mastodon": "#756bb1",
    "telegram": "#9ecae1",
    "v2ex": "#e377c2",
    "linuxdo": "#8c564b",
}
SPARE_COLOURS = ("#d62728", "#9467bd", "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5")

#: How platforms are written for people ("V2EX", not "V2ex").
PLATFORM_LABELS = {
    "weibo": "Weibo",
    "github": "GitHub",
    "reddit": "Reddit",
    "hackernews": "Hacker News",
    "bluesky": "Bluesky",
    "mastodon": "Mastodon",
    "telegram": "Telegram",
    "toutiao": "Toutiao",
    "v2ex": "V2EX",
    "linuxdo": "LINUX DO",
    "news": "News",
    "web": "Web",
}


def platform_colours(platforms: Iterable[str]) -> dict[str, str]:
    """A colour for each platform: its own if it has one, else the next spare (never shared)."""
    chosen: dict[str, str] = {}
    spare = iter(SPARE_COLOURS)
    for platform in platforms:
        chosen[platform] = PLATFORM_COLOURS.get(platform) or next(spare, "#333333")
    return chosen


def platform_label(platform: str | None) -> str:
    if not platform:
        return "unknown"
    return PLATFORM_LABELS.get(platform, platform[:1].upper() + platform[1:])
