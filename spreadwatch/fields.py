"""Field types shared by the incident, source and alert-rule models."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from spreadwatch.durations import parse_duration

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

__all__ = ["AwareDatetime", "Duration", "Strict", "normalise_text", "parse_duration"]


#: Before this a time in an incident file is a mistake (`start: 12` is not 1970).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def _not_a_number(value: Any) -> Any:
    """A bare number is refused: `start: 12` would silently mean 12 seconds after 1970."""
    if isinstance(value, bool | int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError(
            f"expected a date and time like 2024-10-15T00:00:00Z, got the number {value!r}"
        )
    return value


def _aware(value: datetime) -> datetime:
    """Datetimes in incident files should say their zone; naive ones are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value < EARLIEST:
        raise ValueError(f"{value.isoformat()} is before {EARLIEST.year}: a typo?")
    return value


_NUMBER = re.compile(r"^\s*[-+]?\d+(\.\d*)?\s*$")

AwareDatetime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_aware)]


def normalise_text(text: str) -> str:
    """Case- and width-folded text, so `８０００` matches `8000` and `H100` matches `h100`."""
    return unicodedata.normalize("NFKC", text).casefold()


class Strict(BaseModel):
    """Configuration models: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
