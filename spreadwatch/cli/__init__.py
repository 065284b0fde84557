"""The `spreadwatch` command: a thin layer over the library, and the edge where errors end.

Each module in this package holding a `commands` list contributes its click commands; a new
command group is one new module, with no edit here.

The CLI answers at once (`--help` in well under 0.3 s): importing any module of this package
costs only click and the standard library. A command module keeps Elasticsearch, matplotlib,
Scrapy, pydantic models and the rest of the library out of its top-level imports and imports
them inside the command function that uses them (`tests/test_cli_startup.py` checks every
command's `--help` for it). Option values are checked with the types in `params.py`.
"""

from __future__ import annotations

import faulthandler
import importlib
import logging
import pkgutil
import signal
import sys
from pathlib import Path

import click

from spreadwatch.cli import stop
from spreadwatch.cli.context import AppContext, fail_cleanly
from spreadwatch.logs import configure_logging

logger = logging.getLogger(__name__)

#: Long-running services log what they do at INFO by default; other commands only warnings.
SERVICE_COMMANDS = frozenset({"run", "stream"})
#: Modules of this package that hold no commands.
_HELPERS = frozenset({"context", "params", "stop"})


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Settings file (dotenv format); SPREADWATCH_* variables override it.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log more: -v for what is being done (INFO), -vv for debug. Default: warnings only.",
)
@click.option("--debug", is_flag=True, help="Log at debug level and show tracebacks on errors.")
@click.version_option(package_name="spreadwatch")
@click.pass_context
def cli(ctx: click.Context, settings_file: Path | None, verbose: int, debug: bool) -> None:
    """Follow a rumour as it spreads: crawl, index, alert, and look at it.

    With no SPREADWATCH_ES_URL, spreadwatch runs its own Elasticsearch node (see `es start`).
    """
    debug = debug or verbose >= 2
    default = "info" if ctx.invoked_subcommand in SERVICE_COMMANDS else "warning"
    level = "info" if verbose == 1 else default
    ctx.obj = AppContext(
        settings_file=settings_file, debug=debug, log_level=level, level_from_cli=verbose > 0
    )
    configure_logging(debug=debug, level=level)


def _register_commands() -> None:
    package = importlib.import_module(__name__)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in _HELPERS:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "commands", []):
            cli.add_command(command)


_register_commands()


def main() -> None:
    """Console-script entry point: every failure is one line and a non-zero exit. SIGUSR1
    prints every thread's stack to stderr (a long-running monitor or demo that does not stop
    can be asked where it is, without stopping it)."""
    stop.install()
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    with fail_cleanly(debug="--debug" in sys.argv):
        code = cli.main(standalone_mode=False)
    if isinstance(code, int) and code != 0:
        sys.exit(code)
