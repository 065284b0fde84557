"""What every command shares: settings loaded once, a client made on first use, error edges."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import click
from elasticsearch import ApiError, Elasticsearch, TransportError

from indexer.connection import IndexNames, make_client
from spreadwatch.logs import configure_logging, redact
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)

#: Exit codes: 1 = the operation failed, 2 = bad input (click's own usage errors use 2 too).
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


#: Where commands look up an incident given by id (a path works anywhere).
incidents_dir_option = click.option(
    "--incidents-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("incidents"),
    show_default=True,
    help="Folder of incident files, to find an incident by its id.",
)


def format_option(
    *choices: str, help: str = "Lines for people, or JSON for scripts."
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--format` with the first choice as the default (passed to the command as `fmt`)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


@dataclass
class AppContext:
    settings_loader: Callable[[], Settings]
    debug: bool = False
    _client: Elasticsearch | None = field(default=None, repr=False)

    @cached_property
    def settings(self) -> Settings:
        settings = self.settings_loader()
        configure_logging(
            debug=self.debug, as_json=settings.log_format == "json", level=settings.log_level
        )
        redact(settings.secret_values())
        return settings

    @property
    def names(self) -> IndexNames:
        return IndexNames(self.settings.index_prefix)

    @property
    def client(self) -> Elasticsearch:
        """A client for the configured cluster; the embedded node is started on demand."""
        if self._client is None:
            self._client = make_client(self.settings)
        return self._client


def echo_error(message: str) -> None:
    click.echo(f"error: {message}", err=True)


@contextlib.contextmanager
def fail_cleanly(debug: bool) -> Iterator[None]:
    """Turn any failure into one line on stderr and an exit code; tracebacks only with --debug."""
    try:
        yield
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        echo_error("aborted")
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        echo_error("interrupted")
        sys.exit(130)
    except ApiError as error:
        _report(debug, f"Elasticsearch refused the request ({error.meta.status}): {error.message}")
        sys.exit(EXIT_FAILED)
    except TransportError as error:
        _report(debug, f"cannot reach Elasticsearch: {error.message}")
        sys.exit(EXIT_FAILED)
    except ValueError as error:
        _report(debug, str(error))
        sys.exit(EXIT_BAD_INPUT)
    except (RuntimeError, OSError) as error:
        _report(debug, str(error) or type(error).__name__)
        sys.exit(EXIT_FAILED)
    except Exception as error:
        _report(debug, f"unexpected {type(error).__name__}: {error} (run with --debug for details)")
        sys.exit(EXIT_FAILED)


def _report(debug: bool, message: str) -> None:
    if debug:
        logger.exception("command failed")
    echo_error(message.splitlines()[0] if message else "failed")
