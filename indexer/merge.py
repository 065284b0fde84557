"""Merging a re-crawled post into its stored version, and the engagement snapshots it implies.

Pure functions (no Elasticsearch): the writer applies them to each batch after one `mget`,
because the embedded node has no scripts to do an upsert server-side.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from indexer.documents import PENDING, is_human, is_settled, kept_stance

_EMPTY: tuple[Any, ...] = (None, "", [], {})


#: Fields whose first value stands: a deletion is dated by its first detection.
_FIRST_WINS = ("deleted_at", "deleted_how", "deleted_evidence")
#: Truncation marks after which a longer text is the same post read in full, not an edit.
_TRUNCATION_MARKS = ("…", "...", "全文", "展开")


def merge_post(stored: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The stored post updated by a newer crawl of it.

    Empty values in `new` never erase stored ones (a search result may lack counts a detail
    page had). When `new` was crawled before `stored` (a spooled document replayed late), the
    stored crawl times and engagement win. A newer crawl with a different text is an edit: the
    stored text, title and evidence become a version (`versions`, oldest first) and `edited_at`
    is set; a deletion keeps the time it was first seen. A stance set by hand
    (`indexer.stance_human`) stands unless the text was edited, and so does one of the learned
    head over a provisional label (`indexer.stance_pending`).
    """
    merged = copy.deepcopy(stored)
    newer = _time(new.get("last_seen")) >= _time(stored.get("last_seen"))
    edited = newer and is_edit(stored, new)
    if edited:
        merged["versions"] = [*(stored.get("versions") or []), _version(stored)]
        merged["edited_at"] = new.get("last_seen")
    for key, value in new.items():
        if value in _EMPTY or key in ("first_seen", "last_seen", "incident", "matched"):
            continue
        if key in _FIRST_WINS and stored.get(key) not in _EMPTY:
            continue
        if key in ("text", "title", "evidence") and not newer:
            continue
        if key == "engagement" and not newer:
            continue
        if key == "author" and isinstance(value, dict):
            merged["author"] = _merge_author(stored.get("author") or {}, value)
            continue
        merged[key] = copy.deepcopy(value)
    # A person judged these words, or the learned head did and this crawl brings only the
    # lexicon's provisional label: the stored label stands.
    if (is_human(stored) or (new.get(PENDING) and is_settled(stored))) and not edited:
        merged.update(kept_stance(stored))
    merged["first_seen"] = _earliest(stored.get("first_seen"), new.get("first_seen"))
    merged["last_seen"] = new.get("last_seen") if newer else stored.get("last_seen")
    merged["incident"] = _union(stored.get("incident"), new.get("incident"))
    merged["matched"] = _merge_matched(stored.get("matched") or {}, new.get("matched") or {})
    return {k: v for k, v in merged.items() if v not in _EMPTY}


def is_edit(stored: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether `new` says something else than `stored` (text or title), not just more of it."""
    for key in ("text", "title"):
        before, after = stored.get(key), new.get(key)
        if not before or not after or before == after:
            continue
        if _same_but_truncated(before, after):
            continue
        return True
    return False


def _same_but_truncated(first: str, second: str) -> bool:
    short, long = sorted((first.strip(), second.strip()), key=len)
    cut = short
    while cut.endswith(_TRUNCATION_MARKS):  # "…全文": every mark goes
        mark = next(m for m in _TRUNCATION_MARKS if cut.endswith(m))
        cut = cut[: -len(mark)].rstrip()
    return cut != short and long.startswith(cut)


def _version(stored: dict[str, Any]) -> dict[str, Any]:
    """The stored wording as a version: seen from its first sighting (or the edit that made
    it) until the last crawl that still saw it; the edit happened before `new` was seen."""
    version = {
        "text": stored.get("text"),
        "title": stored.get("title"),
        "seen_from": stored.get("edited_at") or stored.get("first_seen"),
        "seen_until": stored.get("last_seen"),
        "evidence": stored.get("evidence"),
    }
    return {k: v for k, v in version.items() if v not in _EMPTY}


def engagement_snapshots(
    doc_id: str, previous: dict[str, Any] | None, merged: dict[str, Any]
) -> list[dict[str, Any]]:
    """Activity points for a changed engagement: the value before (once) and the value now.

    The "before" point carries the stored crawl time and a deterministic id, so writing it again
    on a later change is a no-op; no snapshot is written for a first sighting or no change.
    """
    if previous is None:
        return []
    before, after = previous.get("engagement") or {}, merged.get("engagement") or {}
    if before == after:
        return []
    points = []
    if before and previous.get("last_seen"):
        points.append(_snapshot(doc_id, merged, before, previous["last_seen"]))
    points.append(_snapshot(doc_id, merged, after, merged.get("last_seen")))
    return points


def _snapshot(
    doc_id: str, post: dict[str, Any], engagement: dict[str, Any], when: Any
) -> dict[str, Any]:
    when = when or datetime.now(UTC).isoformat()
    platform = post.get("platform")
    native = f"{post.get('native_id')}@{when}"
    return {
        "_id": f"{platform}:engagement:{native}",
        "@timestamp": when,
        "incident": post.get("incident"),
        "platform": platform,
        "event": "engagement",
        "native_id": native,
        "post_id": doc_id,
        "repo": post.get("repo"),
        "engagement": engagement,
        "source": post.get("source"),
    }


def outcome(previous: dict[str, Any] | None, merged: dict[str, Any]) -> str:
    """new, updated, or unchanged (only crawl times and source differ)."""
    if previous is None:
        return "new"
    ignore = ("last_seen", "source")
    same = {k: v for k, v in previous.items() if k not in ignore} == {
        k: v for k, v in merged.items() if k not in ignore
    }
    return "unchanged" if same else "updated"


def _merge_author(stored: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(stored)
    merged.update({k: v for k, v in new.items() if v not in _EMPTY})
    merged["official"] = bool(stored.get("official") or new.get("official"))
    return merged


def _merge_matched(stored: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = {**stored, **{k: v for k, v in new.items() if not isinstance(v, list)}}
    for key in ("queries", "claims"):
        union = _union(stored.get(key), new.get(key))
        if union:
            merged[key] = union
    return merged


def _union(first: Any, second: Any) -> list[Any]:
    items: dict[Any, None] = {}
    for value in (first, second):
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            items[item] = None
    return list(items)


def _time(value: Any) -> datetime:
    if not value:
        return datetime.min.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _earliest(first: Any, second: Any) -> Any:
    present = [v for v in (first, second) if v]
    return min(present, key=_time) if present else None
