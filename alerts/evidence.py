"""The wording of the evidence alerts: "Evidence removed …" and "Statement edited …".

A deletion names who posted, their reach, where, when it was found gone and how the platform
said so, and where the archived copy is (WARC file, record id, capture time), so the alert alone
is enough to ask for the copy. An edit shows what changed as a line diff of the official text.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alerts.model import Finding, human_number, platform_name

if TYPE_CHECKING:
    from alerts.context import Context
    from spreadwatch.alert_rules import Rule

MAX_DIFF_LINES = 40


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _who(post: dict[str, Any]) -> str:
    author = post.get("author") or {}
    handle = author.get("handle")
    return f"@{handle}" if handle else author.get("name") or author.get("id") or "unknown author"


def archived_copy(evidence: dict[str, Any] | None) -> str:
    """Where the archived copy is, in words."""
    if not evidence:
        return "none (the post was not archived before it went)"
    return (
        f"{evidence.get('warc')} record {evidence.get('record_id')} "
        f"(captured {str(evidence.get('captured_at', ''))[:16]} UTC, {evidence.get('digest')})"
    )


def removed_finding(rule: Rule, ctx: Context, post: dict[str, Any]) -> Finding:
    platform = post.get("platform")
    reach = post.get("reach")
    reach_text = f" (reach {human_number(float(reach))})" if isinstance(reach, int | float) else ""
    deleted = _when(post["deleted_at"])
    copy = archived_copy(post.get("evidence"))
    return Finding(
        rule=rule.name,
        rule_type=rule.type,
        key=post["_id"],
        headline=(
            f"Evidence removed: the post by {_who(post)}{reach_text} on {platform_name(platform)} "
            f"was deleted at ~{deleted:%Y-%m-%d %H:%M} UTC"
        ),
        summary=f"{post.get('deleted_how')}; archived copy: {copy}.",
        window_start=_when(post["@timestamp"]),
        window_end=ctx.now,
        platform=platform,
        numbers=[
            ("published", f"{_when(post['@timestamp']):%Y-%m-%d %H:%M} UTC"),
            ("found deleted", f"{deleted:%Y-%m-%d %H:%M} UTC"),
            ("how", str(post.get("deleted_how"))),
            ("archived copy", copy),
        ],
        posts=[post],
        basis=[post["_id"]],
    )


def edited_finding(rule: Rule, ctx: Context, post: dict[str, Any]) -> Finding:
    platform = post.get("platform")
    versions = post.get("versions") or []
    before = versions[-1] if versions else {}
    diff = text_diff(before.get("text") or "", post.get("text") or "")
    edited = _when(post["edited_at"])
    return Finding(
        rule=rule.name,
        rule_type=rule.type,
        key=f"{post['_id']}@{post['edited_at']}",
        headline=(
            f"Statement edited: {_who(post)} on {platform_name(platform)} changed its text "
            f"(seen ~{edited:%Y-%m-%d %H:%M} UTC)"
        ),
        summary="What changed:\n" + diff,
        window_start=_when(post["@timestamp"]),
        window_end=ctx.now,
        platform=platform,
        numbers=[
            ("published", f"{_when(post['@timestamp']):%Y-%m-%d %H:%M} UTC"),
            ("edit seen", f"{edited:%Y-%m-%d %H:%M} UTC"),
            ("versions kept", str(len(versions) + 1)),
            ("earlier version archived", archived_copy(before.get("evidence"))),
        ],
        posts=[post],
        basis=[post["_id"]],
    )


def text_diff(before: str, after: str) -> str:
    """A line diff (`-` removed, `+` added), sentence per line so short texts diff well."""
    old, new = _sentences(before), _sentences(after)
    lines = [
        line
        for line in difflib.unified_diff(old, new, lineterm="", n=0)
        if not line.startswith(("---", "+++", "@@"))
    ]
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… {len(lines) - MAX_DIFF_LINES} more lines"]
    return "\n".join(lines) or "(only whitespace changed)"


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?。！？])\s*|\n+", text)
    return [p.strip() for p in parts if p and p.strip()]
