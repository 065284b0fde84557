"""What an alert e-mail says beyond its rule: where the incident stands when the alert fires.

`snapshot()` reads the incident once at raise time (origin and platform order, recent volume
against the day's rate, the official denial and each side's reach) and `chart()` the incident so
far by stance. Both are stored with the alert as plain JSON, so a message re-sent after a restart
says what it said when it fired; `alerts.wording` turns a snapshot into the opening sentence.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from indexer.alert_queries import IncidentQueries
from indexer.intervals import auto_interval

#: "38 posts in the last 3 h, 4× the day's rate".
RECENT = timedelta(hours=3)
DAY = timedelta(days=1)
#: The chart covers at least this much, so a fresh incident is never drawn as one bar.
MIN_CHART_SPAN = timedelta(hours=6)
CHART_BARS = 36


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _who(post: dict[str, Any]) -> str:
    author = post.get("author") or {}
    handle = author.get("handle")
    return f"@{handle}" if handle else str(author.get("name") or author.get("id") or "unknown")


def snapshot(queries: IncidentQueries, now: datetime) -> dict[str, Any]:
    """The incident at `now`, JSON-ready (times as ISO strings, reach as numbers)."""
    firsts = queries.first_per_platform(now)
    order = sorted(
        ({"platform": p, "at": str(post["@timestamp"])} for p, post in firsts.items()),
        key=lambda ref: _time(ref["at"]),
    )
    recent = queries.count(now - RECENT, now)
    day = queries.count(now - DAY, now)
    reach = queries.reach_by_stance(now)
    denial = queries.first_denial(now)
    return {
        "now": now.isoformat(),
        "platforms": order,
        "recent": {"hours": RECENT / timedelta(hours=1), "posts": recent, "day_posts": day},
        "reach": {"rumour": reach.get("rumour", 0.0), "denial": reach.get("denial", 0.0)},
        "denial": None
        if denial is None
        else {
            "at": str(denial["@timestamp"]),
            "platform": denial.get("platform"),
            "author": _who(denial),
        },
    }


def chart(queries: IncidentQueries, now: datetime) -> dict[str, Any]:
    """Posts by stance from the incident's first post to `now` (at least `MIN_CHART_SPAN`),
    with the official denial's time, for the e-mail's chart."""
    first = queries.first_post(now)
    start = _time(first["@timestamp"]) if first else now - MIN_CHART_SPAN
    start = min(start, now - MIN_CHART_SPAN)
    interval = auto_interval(start, now, max_buckets=CHART_BARS)
    series = queries.timeline_by_stance(start, now, interval)
    denial = queries.first_denial(now)
    return {
        "interval": interval,
        "series": [[when.isoformat(), counts] for when, counts in series],
        "denial_at": str(denial["@timestamp"]) if denial else None,
    }
