"""The known truth of the reconstructed dataset, computed from its records (written to truth.json).

The demo's story is checked against these figures: origin post and platform, first post per
platform (the order the rumour travelled in), the official denial, phase boundaries, counts.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from spreadwatch.demo import RECONSTRUCTION_NOTICE
from spreadwatch.demo import timeline as tl
from spreadwatch.demo.context import Record
from spreadwatch.demo.shapes import iso_z

#: Record kinds that are not posts: profiles and activity points. (A README is a post: the
#: spiders index it as a document of its own, `owner/name:readme`.)
NON_POST_KINDS = frozenset({"user", "star", "fork", "profile"})


def _ref(record: Record) -> dict[str, Any]:
    return {"platform": record.platform, "id": record.id, "url": record.url, "at": iso_z(record.at)}


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def build_truth(records: dict[str, list[Record]], seed: int) -> dict[str, Any]:
    posts = [r for items in records.values() for r in items if r.kind not in NON_POST_KINDS]
    matching = sorted((r for r in posts if r.matches), key=lambda r: (r.at, r.platform, r.id))
    firsts: dict[str, Record] = {}
    for record in matching:
        firsts.setdefault(record.platform, record)
    origin = matching[0]
    denial = next(r for r in matching if r.extra.get("role") == "official_denial")
    evidence = next(r for r in matching if r.extra.get("role") == "evidence")
    peak = _peak_hour(matching)
    return {
        "notice": RECONSTRUCTION_NOTICE,
        "seed": seed,
        "window": {"start": iso_z(tl.WINDOW_START), "end": iso_z(tl.WINDOW_END)},
        "origin": _ref(origin),
        "evidence": _ref(evidence),
        "denial": _ref(denial),
        "first_per_platform": {p: _ref(r) for p, r in firsts.items()},
        "platform_order": list(firsts),
        "time_to_denial_h": _hours(denial.at - origin.at),
        "phases": {
            "onset": iso_z(origin.at),
            "evidence": iso_z(evidence.at),
            "denial": iso_z(denial.at),
            "coverage": iso_z(firsts["feeds"].at),
            "peak_hour": iso_z(peak),
        },
        "counts": _counts(records),
        "stances": dict(sorted(Counter(r.stance for r in matching).items())),
        "reach": _reach(matching),
        "reach_summed": _summed_reach(matching),
        "rumour_after_denial_median_h": _median_delay(matching, denial.at),
        "languages": dict(sorted(Counter(r.lang for r in matching).items())),
        "changed": _changed(matching),
    }


def _changed(posts: list[Record]) -> dict[str, list[dict[str, Any]]]:
    """Posts deleted or edited after they were published, with when it happened."""
    deleted = [dict(_ref(r), kind=r.kind, deleted_at=r.extra["deleted_at"]) for r in posts if "deleted_at" in r.extra]  # fmt: skip
    edited = [dict(_ref(r), kind=r.kind, edited_at=r.extra["edits"][-1]["at"]) for r in posts if r.extra.get("edits")]  # fmt: skip
    return {"deleted": deleted, "edited": edited}


def _peak_hour(posts: list[Record]) -> datetime:
    hours = Counter(r.at.replace(minute=0, second=0) for r in posts)
    return max(sorted(hours), key=lambda h: hours[h])


def _counts(records: dict[str, list[Record]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for platform, items in records.items():
        kinds = Counter(r.kind for r in items)
        posts = [r for r in items if r.kind not in NON_POST_KINDS]
        out[platform] = {
            "matching": sum(r.matches for r in posts),
            "noise": sum(not r.matches for r in posts),
            **{f"kind_{k}": n for k, n in sorted(kinds.items())},
        }
    return out


def _reach(posts: list[Record]) -> dict[str, int]:
    """Sum of author followers per stance (an account counted once per stance)."""
    seen: dict[str, dict[tuple[str, str], int]] = {}
    for record in posts:
        author = _author_key(record)
        seen.setdefault(record.stance or "other", {})[author] = record.followers
    return {stance: sum(v.values()) for stance, v in sorted(seen.items())}


def _summed_reach(posts: list[Record]) -> dict[str, int]:
    """Sum of author followers over the posts of each stance, an account counted each time it
    posts: the reach `indexer.phases` documents (denial reach ÷ rumour reach)."""
    sums: Counter[str] = Counter()
    for record in posts:
        sums[record.stance or "other"] += record.followers
    return dict(sorted(sums.items()))


def _author_key(record: Record) -> tuple[str, str]:
    data = record.data.get("data", record.data)  # Reddit nests its fields under `data`
    author = data.get("user") or data.get("account") or data.get("author") or data.get("member")
    if isinstance(author, dict):
        author = author.get("id") or author.get("did") or author.get("login")
    return record.platform, str(author or record.id)


def _median_delay(posts: list[Record], denial: datetime) -> float:
    """Hours after the denial by which half of the post-denial rumour posts had appeared."""
    delays = sorted(r.at - denial for r in posts if r.stance == "rumour" and r.at >= denial)
    return _hours(delays[len(delays) // 2]) if delays else 0.0
