"""Option types every command shares: durations, times and checked names.

Standard library and click only (see spreadwatch/cli/__init__.py: the CLI answers `--help`
before anything heavy is imported). A bad value is a usage error (exit 2) that says what was
expected and, for a name, the closest known ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
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


def check_out(
    out: Path,
    formats: Mapping[str, Sequence[str]],
    fmt: str | None = None,
    *,
    exact_case: bool = False,
) -> None:
    """The one rule for a file a command writes (`--out`), checked before any work: its name
    ends in its format's extension (`formats`: format → extensions, `fmt` the one asked for,
    else the only one; in any case unless `exact_case`, for a reader that takes only one), so
    a workbook is never saved as `x.csv`; and its folder exists, so a typo in a path is not a
    new folder. Either is a usage error (exit 2) and nothing is written.
    """
    wanted = formats[fmt] if fmt is not None else next(iter(formats.values()))
    name = out.name if exact_case else out.name.lower()
    if not name.endswith(tuple(wanted)):
        message = f"must end in {' or '.join(wanted)}"
        if fmt is not None and len(formats) > 1:
            message += f" for --format {fmt}"
            other = format_named(out, formats)
            if other is not None:
                message += f" ({out.name} is a name for --format {other})"
        raise click.BadParameter(message, param_hint="--out")
    if not out.parent.is_dir():
        raise click.BadParameter(f"folder {out.parent} does not exist", param_hint="--out")


def format_named(out: Path, formats: Mapping[str, Sequence[str]]) -> str | None:
    """The format whose extension `out` ends in (`formats`: format → extensions), if any."""
    name = out.name.lower()
    return next((f for f, ext in formats.items() if name.endswith(tuple(ext))), None)


def bad_name(kind: str, value: str, known: Sequence[str], hint: str) -> click.BadParameter:
    """The usage error (exit 2) for a name checked after parsing (e.g. against the index)."""
    return click.BadParameter(unknown_name(kind, value, known), param_hint=hint)


DURATION = Duration()
SECONDS = Seconds()
WHEN = When()
