"""Bounded values: one way to cut what is too long, so every cut is flagged and counted.

A post body of a megabyte (a pasted log in a GitHub issue) is cut to the `text_max_chars`
setting; the document then carries `truncated: true` and the crawl counts
`spreadwatch/truncated` (and `spreadwatch/truncated/<field>`), so a cut is never silent.
"""

from __future__ import annotations

#: The counter every cut adds to (crawl stats), with `/<field>` for the field that was cut.
TRUNCATED_STAT = "spreadwatch/truncated"


def cut(value: str, cap: int) -> tuple[str, bool]:
    """`value` limited to `cap` characters, and whether anything was cut."""
    if len(value) <= cap:
        return value, False
    return value[:cap], True
