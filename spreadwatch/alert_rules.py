"""The `alerts` section of an incident file: recipients, rules, realert windows, digests.

Rules are validated with the incident (a typo in a rule is an error naming its line); what each
rule type means and how it is evaluated lives in `alerts/rules.py`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from spreadwatch.fields import Duration, Strict, parse_duration

RuleType = Literal[
    "spike",
    "threshold",
    "first_platform",
    "influential_author",
    "new_repo",
    "official_denial",
    "denial_not_landing",
    "denial_overtakes",
    "resolved",
    "silent_source",
    "evidence_removed",
    "statement_edited",
]

#: Rule types that fire at most once per key, ever: a "first" is only first once.
ONCE_TYPES = frozenset(
    {
        "first_platform",
        "influential_author",
        "new_repo",
        "official_denial",
        "denial_overtakes",
        "evidence_removed",  # once per post: a deletion happens once
        "statement_edited",  # once per post and edit (the key carries the edit's time)
    }
)

#: Rule types that go out at once even when the incident has a digest: a comms team must not
#: learn of the official denial, or a dead source, an hour late.
URGENT_TYPES = frozenset(
    {"official_denial", "denial_overtakes", "silent_source", "evidence_removed", "statement_edited"}
)

Email = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s]+@[^@\s]+$")]


class Rule(Strict):
    """One alert rule; unused fields keep their defaults (e.g. `followers` only matters to
    `influential_author`), so the file stays short."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    type: RuleType
    window: Duration = timedelta(hours=1)
    baseline: Duration = timedelta(hours=6)
    ratio: float = Field(default=3.0, gt=0)
    direction: Literal["up", "down"] = "up"
    min_count: int = Field(default=5, ge=0)
    count: int = Field(default=50, ge=1)
    below: int | None = Field(default=None, ge=0)
    closes: str | None = None
    per_platform: bool = False
    platforms: list[str] | None = None
    sources: list[str] | None = None
    followers: int = Field(default=100_000, ge=0)
    runs: int = Field(default=3, ge=1)
    realert: Duration | None = None
    recipients: list[Email] | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _sensible(self) -> Rule:
        if self.window <= timedelta(0) or self.baseline <= timedelta(0):
            raise ValueError("window and baseline must be positive durations")
        if self.type == "spike" and self.baseline < self.window:
            raise ValueError("a spike's baseline must be at least as long as its window")
        return self


DigestSchedule = Literal["off", "hourly", "daily"] | timedelta
MIN_DIGEST_PERIOD = timedelta(seconds=10)
_DIGEST_HELP = "digest must be off, hourly, daily or a period like 30m"


class AlertsConfig(Strict):
    recipients: list[Email] = Field(default_factory=list)
    realert: Duration = timedelta(hours=1)
    #: off, hourly (at :00), daily (08:00 in the incident's zone), or every period (`4h`).
    digest: DigestSchedule = "off"
    every: Duration = timedelta(minutes=5)
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("digest", mode="before")
    @classmethod
    def _digest(cls, value: object) -> object:
        """YAML reads an unquoted `off` as false: that is what the user wrote, "off"."""
        if value is False or value is None:
            return "off"
        if value is True:
            raise ValueError(f"{_DIGEST_HELP} (not on/true)")
        if isinstance(value, str) and value.strip().lower() in ("off", "hourly", "daily"):
            return value.strip().lower()
        try:
            period = parse_duration(value)
        except ValueError:
            raise ValueError(f"{_DIGEST_HELP}, not {value!r}") from None
        if period < MIN_DIGEST_PERIOD:
            raise ValueError(f"a digest period must be at least {MIN_DIGEST_PERIOD.seconds}s")
        return period

    @property
    def digest_on(self) -> bool:
        return self.digest != "off"

    @model_validator(mode="after")
    def _unique_rule_names(self) -> AlertsConfig:
        names = [rule.name for rule in self.rules]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(repeated)}")
        spikes = {rule.name for rule in self.rules if rule.type == "spike"}
        for rule in self.rules:
            if rule.type == "resolved" and rule.closes is not None and rule.closes not in spikes:
                raise ValueError(
                    f"rule {rule.name}: closes {rule.closes!r}, which is no spike rule"
                )
        return self

    def recipients_for(self, rule: Rule) -> list[str]:
        """A rule's own recipients replace the incident's."""
        return list(rule.recipients) if rule.recipients else list(self.recipients)

    def realert_for(self, rule: Rule) -> timedelta:
        return rule.realert if rule.realert is not None else self.realert
