"""Every CLI command has help text and is documented in the README (sqlite-utils' habit)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from spreadwatch.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def walk(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from walk(command, f"{path} ")


COMMANDS = list(walk(cli))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_has_help(path: str, command: click.Command) -> None:
    assert command.help and command.help.strip(), path
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{path} {param.opts}"


@pytest.mark.parametrize("path", [p for p, c in COMMANDS if not isinstance(c, click.Group)])
def test_every_command_is_in_the_readme(path: str) -> None:
    assert f"spreadwatch {path}" in README, path
