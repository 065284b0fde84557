"""The `alerts` section of an incident file: recipients, rules, realert windows, digests.

Rules are validated with the incident (a typo in a rule is an error naming its line); what each
rule type means and how it is evaluated lives in `alerts/`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from spreadwatch.fields import Duration, Strict

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
]


class Rule(Strict):
    name: str
    type: RuleType
    window: Duration = timedelta(hours=1)
    baseline: Duration = timedelta(hours=6)
    ratio: float = Field(default=3.0, gt=0)
    direction: Literal["up", "down"] = "up"
    min_count: int = Field(default=5, ge=0)
    count: int = Field(default=50, ge=1)
    per_platform: bool = False
    platforms: list[str] | None = None
    followers: int = Field(default=100_000, ge=0)
    runs: int = Field(default=3, ge=1)
    realert: Duration = timedelta(hours=1)
    recipients: list[str] | None = None
    enabled: bool = True


class AlertsConfig(Strict):
    recipients: list[str] = Field(default_factory=list)
    realert: Duration = timedelta(hours=1)
    digest: Literal["off", "hourly", "daily"] = "off"
    every: Duration = timedelta(minutes=5)
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_rule_names(self) -> AlertsConfig:
        names = [rule.name for rule in self.rules]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(repeated)}")
        return self
