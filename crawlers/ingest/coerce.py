"""Loosely typed item fields made safe: spiders fill what platforms send, and platforms vary.

Each helper accepts the shapes a spider may reasonably hand over (None, a lone string, a
dataclass or a dict) and raises `TypeError` for what cannot be read, which the normalise stage
counts as a `bad_field` drop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from itemadapter import ItemAdapter


def text_field(value: Any) -> str:
    """A text field as a string (None → empty; numbers as their digits)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected text, got {type(value).__name__}")


def strings(values: Any) -> list[str]:
    """A list field (hashtags, mentions, links) as strings; None or a lone string tolerated."""
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    return [v for v in values if isinstance(v, str)]


def fields(value: Any) -> dict[str, Any]:
    """A nested item part (Author, Engagement) as a dict, whether dataclass, dict or None."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    return dict(ItemAdapter(value).items()) if ItemAdapter.is_item(value) else dict(vars(value))


def has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def counts(engagement: dict[str, Any]) -> dict[str, int]:
    """Engagement counts that make sense (non-negative integers); anything else is left out."""
    clean = {}
    for key, value in engagement.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            continue
        clean[key] = int(value)
    return clean
