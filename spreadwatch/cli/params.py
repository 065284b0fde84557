"""Option types every command shares: durations, times and checked names.

Standard library and click only (see spreadwatch/cli/__init__.py: the CLI answers `--help`
before anything heavy is imported). A bad value is a usage error (exit 2) that says what was
expected and, for a name, the closest known ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import click

from spreadwatch.durations import DURATION_FORMS, DurationTooLongError, parse_duration, parse_when
from spreadwatch.names import unknown_name


class Duration(click.ParamType):
    """`10` (seconds), `10s`, `30m`, `4h`, `2d`, `1w` → timedelta, optionally bounded."""

    name = "duration"

    def __init__(self, minimum: timedelta | None = None) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        try:
            parsed = parse_duration(value.strip() if isinstance(value, str) else value)
        except DurationTooLongError as error:
            self.fail(str(error), param, ctx)
        except ValueError:
            self.fail(f"{value!r} is not a duration: use {DURATION_FORMS}", param, ctx)
        if self.minimum is not None and parsed < self.minimum:
            self.fail(f"{value!r} is shorter than {self.minimum.total_seconds():g}s", param, ctx)
        return parsed

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "DURATION"


class Seconds(Duration):
    """A duration given to code that wants seconds (timeouts, grace periods) as a float."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        return super().convert(value, param, ctx).total_seconds()


class When(click.ParamType):
    """A point in time: 2024-10-18, 2024-10-18T12:00Z, or an age like 3d, 12h, 30m."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            return parse_when(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class Name(click.Choice):
    """A choice among known names whose error names the closest ones ("did you mean …")."""

    def __init__(self, choices: Sequence[str], kind: str) -> None:
        super().__init__(list(choices))
        self.kind = kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in self.choices:
            return value
        self.fail(unknown_name(self.kind, str(value), [str(c) for c in self.choices]), param, ctx)


def bad_name(kind: str, value: str, known: Sequence[str], hint: str) -> click.BadParameter:
    """The usage error (exit 2) for a name checked after parsing (e.g. against the index)."""
    return click.BadParameter(unknown_name(kind, value, known), param_hint=hint)


DURATION = Duration()
SECONDS = Seconds()
WHEN = When()
