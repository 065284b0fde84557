"""Field types shared by the incident, source and alert-rule models."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from spreadwatch.durations import parse_duration

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

__all__ = ["AwareDatetime", "Duration", "Strict", "normalise_text", "parse_duration"]


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
