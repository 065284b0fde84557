"""The sentence at the top of an alert e-mail: what happened, in words, from the stored data.

"@bytedance_pr denied the rumour on Toutiao 19 Oct 06:00 UTC, 1 d 8 h after it started on Weibo;
38 posts in the last 3 h, 4× the day's rate; the official denial has 12% of the rumour's reach
so far." Every figure comes from the alert's snapshot (`alerts.story`), none is typed here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from alerts.model import human_number, platform_name

#: How a stance reads after an author's name.
STANCE_VERBS = {
    "rumour": "spreads the rumour",
    "denial": "denies the rumour",
    "debunk": "debunks the rumour",
    "report": "reports on the rumour",
    "other": "posts about the incident",
}


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def ago(delta: timedelta) -> str:
    """`35 min`, `14 h`, `1 d 8 h`: how long, the way people say it."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h"
    return f"{mins} min"


def when(value: Any) -> str:
    return f"{_time(value):%d %b %H:%M} UTC"


def stance_phrase(stance: str | None) -> str:
    return STANCE_VERBS.get(stance or "other", STANCE_VERBS["other"])


#: Who decided a post's stance (`stance_source`), as an e-mail says it.
LABELLED_BY = {
    "model": "labelled by the model",
    "lexicon": "labelled by the lexicon rules",
    "official": "the pinned statement",
    "human": "label set by hand",
}


def label_provenance(
    source: str | None, confidence: float | None, pending: bool | None = False
) -> str:
    """Who decided a post's label, and how sure a classifier was: a reader judges an alert
    raised on a label the model was unsure of (and corrects it with `spreadwatch stance set`).
    `pending`: the lexicon's label, provisional until the learned head's comes."""
    said = LABELLED_BY.get(source or "", "label source unknown")
    if pending:
        said = f"{said}, provisional (the model has not labelled it yet)"
    if source in ("model", "lexicon") and isinstance(confidence, int | float):
        return f"{said}, {confidence:.0%} sure"
    return said


def provisional_note(count: int | None) -> str:
    """What an alert says when it was raised while posts still waited for the learned head."""
    if not count:
        return ""
    posts = "1 post" if count == 1 else f"{count:,} posts"
    return (
        f"When this alert was raised, {posts} of the incident still carried the lexicon's "
        "provisional stance: the model had not labelled them yet."
    )


def what_happened(alert: dict[str, Any]) -> str:
    """One sentence (clauses joined by semicolons) for a stored alert; empty without a snapshot."""
    details = alert.get("details") or {}
    story = details.get("story")
    if not story:
        return ""
    clauses = [c for c in (_lead(alert, details, story), _volume(story), _reach(story)) if c]
    if not clauses:
        return ""
    sentence = "; ".join(clauses)
    return sentence[0].upper() + sentence[1:] + "."


def _origin(story: dict[str, Any]) -> dict[str, Any] | None:
    platforms = story.get("platforms") or []
    return platforms[0] if platforms else None


def _lead(alert: dict[str, Any], details: dict[str, Any], story: dict[str, Any]) -> str:
    kind = alert.get("rule_type") or details.get("rule_type")
    origin = _origin(story)
    posts = details.get("posts") or []
    post = posts[0] if posts else {}
    if kind == "official_denial" and story.get("denial"):
        denial = story["denial"]
        lead = (
            f"{denial['author']} denied the rumour on {platform_name(denial['platform'])} "
            f"{when(denial['at'])}"
        )
        if origin:
            delta = _time(denial["at"]) - _time(origin["at"])
            lead += f", {ago(delta)} after it started on {platform_name(origin['platform'])}"
        return lead
    if kind == "first_platform" and origin:
        platform = details.get("platform") or alert.get("key")
        first = next((p for p in story["platforms"] if p["platform"] == platform), None)
        if first is None or platform == origin["platform"]:
            return f"the rumour started on {platform_name(origin['platform'])} {when(origin['at'])}"
        delta = _time(first["at"]) - _time(origin["at"])
        return (
            f"the rumour reached {platform_name(platform)} {ago(delta)} after "
            f"{platform_name(origin['platform'])}"
        )
    if kind == "influential_author" and post:
        followers = human_number(float(post.get("followers") or 0))
        return (
            f"@{post.get('author')} ({followers} followers) {stance_phrase(post.get('stance'))} "
            f"on {platform_name(post.get('platform'))}"
        )
    if kind == "silent_source":
        error = dict(details.get("numbers") or []).get("last error")
        where = platform_name(details.get("platform") or alert.get("key"))
        return f"{where} returned nothing" + (f": {error}" if error else "")
    if origin:
        return (
            f"the rumour started on {platform_name(origin['platform'])} {when(origin['at'])} and "
            f"is on {len(story['platforms'])} platform{'s' if len(story['platforms']) != 1 else ''}"
        )
    return ""


def _volume(story: dict[str, Any]) -> str:
    recent = story.get("recent") or {}
    posts, day, hours = recent.get("posts") or 0, recent.get("day_posts") or 0, recent.get("hours")
    if not hours:
        return ""
    clause = f"{human_number(posts)} posts in the last {hours:g} h"
    if posts and day:
        ratio = (posts / hours) / (day / 24)
        clause += (
            f", {ratio:.1f}× the day's rate" if ratio < 10 else f", {ratio:.0f}× the day's rate"
        )
    return clause


def _reach(story: dict[str, Any]) -> str:
    if not story.get("denial"):
        return "no official denial yet"
    reach = story.get("reach") or {}
    rumour, denial = float(reach.get("rumour") or 0), float(reach.get("denial") or 0)
    if rumour <= 0:
        return f"the official denial has reached {human_number(denial)} (no rumour reach measured)"
    share = denial / rumour
    amount = f"{share:.0%}" if share < 10 else f"{share:.0f}×"
    return f"the official denial has {amount} of the rumour's reach so far"
