"""Field types shared by the incident, source and alert-rule models."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """`90s`, `30m`, `1h`, `2d`, `1w` (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"expected a duration like 30m, 1h or 2d, got {value!r}")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _aware(value: Any) -> Any:
    """Datetimes in incident files should say their zone; naive ones are taken as UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


AwareDatetime = Annotated[datetime, BeforeValidator(_aware)]


def normalise_text(text: str) -> str:
    """Case- and width-folded text, so `８０００` matches `8000` and `H100` matches `h100`."""
    return unicodedata.normalize("NFKC", text).casefold()


class Strict(BaseModel):
    """Configuration models: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
