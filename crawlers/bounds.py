"""Bounded values: one way to cut what is too long, so every cut is flagged and counted.

A post body of a megabyte (a pasted log in a GitHub issue) is cut to the `text_max_chars`
setting; the document then carries `truncated: true` and the crawl counts
`spreadwatch/truncated` (and `spreadwatch/truncated/<field>`), so a cut is never silent.
Keyword values (handles, ids, hashtags, domains…) are cut the same way to the mapping's
`KEYWORD_MAX_CHARS`: one 40,000-character handle must not get its post refused by
Elasticsearch ("immense term") and replayed from the spool forever. An id is never cut
bare — two ids sharing a prefix would become one document — it keeps a digest of the whole.
"""

from __future__ import annotations

import hashlib
from typing import Any

#: The counter every cut adds to (crawl stats), with `/<field>` for the field that was cut.
TRUNCATED_STAT = "spreadwatch/truncated"


def cut(value: str, cap: int) -> tuple[str, bool]:
    """`value` limited to `cap` characters, and whether anything was cut."""
    if len(value) <= cap:
        return value, False
    return value[:cap], True


#: Document ids are `{platform}:{native id}` and Elasticsearch takes at most 512 bytes.
ID_MAX_BYTES = 400
#: Fields that identify a document: cut with a digest of the whole value, never bare.
ID_FIELDS = ("native_id", "post_id", "reply_to", "quote_of", "repost_of", "thread")


def cut_keywords(doc: dict[str, Any], paths: list[str], cap: int) -> list[str]:
    """Cut every string at the keyword `paths` (dotted; lists cut item by item) to `cap`
    characters, in place; returns the paths that were cut."""
    cut_paths = []
    for path in paths:
        *parents, name = path.split(".")
        holder: Any = doc
        for part in parents:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or name not in holder:
            continue
        value, was = _cut_value(holder[name], cap, identifying=name in ID_FIELDS)
        if was:
            holder[name] = value
            cut_paths.append(path)
    return cut_paths


def _cut_value(value: Any, cap: int, identifying: bool) -> tuple[Any, bool]:
    if isinstance(value, list):
        pairs = [_cut_value(v, cap, identifying) for v in value]
        return [v for v, _ in pairs], any(was for _, was in pairs)
    if not isinstance(value, str):
        return value, False
    if identifying:  # part of a document id, which Elasticsearch limits to 512 bytes
        raw = value.encode("utf-8")
        if len(raw) <= ID_MAX_BYTES:
            return value, False
        head = raw[: ID_MAX_BYTES - 40].decode("utf-8", "ignore")
        return f"{head}~{hashlib.sha256(raw).hexdigest()[:32]}", True
    if len(value) <= cap:
        return value, False
    return value[:cap], True
