"""`reports:` in an incident file: the report by e-mail on a schedule.

    reports:
      - every: daily          # daily, weekly (on `weekday`) or hourly (at minute `at`'s MM)
        at: "08:00"           # in the incident's time zone
        to: [comms@example.org]
        format: pdf           # pdf (attached) or html (attached, self-contained)

The monitor runs one job per entry (`report:<incident>:<n>`) that writes the report and sends
it with the executive summary in the body.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from spreadwatch.fields import Strict

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ReportSchedule(Strict):
    every: Literal["hourly", "daily", "weekly"] = "daily"
    at: str = "08:00"
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    to: list[str] = Field(min_length=1)
    format: Literal["pdf", "html"] = "pdf"

    @field_validator("at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError(f"at must be a time like 08:00, got {value!r}")
        return value

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or any(c.isspace() for c in address):
                raise ValueError(f"not an e-mail address: {address!r}")
        return value

    @property
    def hour(self) -> int:
        return int(self.at[:2])

    @property
    def minute(self) -> int:
        return int(self.at[3:])

    def describe(self) -> str:
        """`daily 08:00`, `weekly mon 08:00`, `hourly :30` — for job signatures and logs."""
        if self.every == "hourly":
            return f"hourly :{self.at[3:]}"
        if self.every == "weekly":
            return f"weekly {self.weekday} {self.at}"
        return f"daily {self.at}"
