"""The `spreadwatch` command: a thin layer over the library, and the edge where errors end.

Each module in this package holding a `commands` list contributes its click commands; a new
command group is one new module, with no edit here.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
from pathlib import Path

import click

from spreadwatch.cli.context import AppContext, fail_cleanly
from spreadwatch.logs import configure_logging
from spreadwatch.settings import load_settings

logger = logging.getLogger(__name__)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Settings file (dotenv format); SPREADWATCH_* variables override it.",
)
@click.option("--debug", is_flag=True, help="Log at debug level and show tracebacks on errors.")
@click.version_option(package_name="spreadwatch")
@click.pass_context
def cli(ctx: click.Context, settings_file: Path | None, debug: bool) -> None:
    """Follow a rumour as it spreads: crawl, index, alert, and look at it.

    With no SPREADWATCH_ES_URL, spreadwatch runs its own Elasticsearch node (see `es start`).
    """
    ctx.obj = AppContext(settings_loader=lambda: load_settings(settings_file), debug=debug)
    configure_logging(debug=debug)


def _register_commands() -> None:
    package = importlib.import_module(__name__)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "context":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "commands", []):
            cli.add_command(command)


_register_commands()


def main() -> None:
    """Console-script entry point: every failure is one line and a non-zero exit."""
    with fail_cleanly(debug="--debug" in sys.argv):
        code = cli.main(standalone_mode=False)
    if isinstance(code, int) and code != 0:
        sys.exit(code)
