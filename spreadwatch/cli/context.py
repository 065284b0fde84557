"""What every command shares: settings loaded once, a client made on first use, error edges.

Nothing heavy is imported here at module level (see spreadwatch/cli/__init__.py): settings
(pydantic), the Elasticsearch client and the indexer come in on first use.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from spreadwatch.cli.params import Name
from spreadwatch.cli.stop import stops_unwrapped
from spreadwatch.logs import configure_logging, redact

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from indexer.connection import IndexNames
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
        type=Name(choices, "format"),
        default=choices[0],
        show_default=True,
        help=help,
    )


@contextlib.contextmanager
def indices_needed(app: AppContext) -> Iterator[None]:
    """A missing posts index is a setup step not yet done, not an Elasticsearch failure."""
    from elasticsearch import NotFoundError

    try:
        yield
    except NotFoundError as error:
        if "index_not_found" not in str(error.message):
            raise
        raise click.ClickException(
            f"no posts index {app.names.posts!r} yet; run `spreadwatch init` (or a crawl) first"
        ) from None


@dataclass
class AppContext:
    """Per-invocation state: the settings file, how loud to log, and lazily the settings/client.

    `log_level` is what the command line asked for (`-v`, `--debug`) or the command's default;
    an explicit SPREADWATCH_LOG_LEVEL wins over a default but not over `-v`/`--debug`.
    """

    settings_file: Path | None = None
    debug: bool = False
    log_level: str = "warning"
    level_from_cli: bool = False
    _client: Elasticsearch | None = field(default=None, repr=False)

    @cached_property
    def settings(self) -> Settings:
        from spreadwatch.settings import load_settings

        settings = load_settings(self.settings_file)
        level = self.log_level
        if not self.level_from_cli and "log_level" in settings.model_fields_set:
            level = settings.log_level
        configure_logging(debug=self.debug, as_json=settings.log_format == "json", level=level)
        redact(settings.secret_values())
        return settings

    @property
    def names(self) -> IndexNames:
        from indexer.connection import IndexNames

        return IndexNames(self.settings.index_prefix)

    @property
    def client(self) -> Elasticsearch:
        """A client for the configured cluster; the embedded node is started on demand."""
        if self._client is None:
            from indexer.connection import make_client

            self._client = make_client(self.settings)
        return self._client


def echo_error(message: str) -> None:
    click.echo(f"error: {message}", err=True)


@contextlib.contextmanager
def fail_cleanly(debug: bool) -> Iterator[None]:
    """Turn any failure into one line on stderr and an exit code; tracebacks only with --debug."""
    try:
        with stops_unwrapped():
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
    except ValueError as error:
        _report(debug, str(error))
        sys.exit(EXIT_BAD_INPUT)
    except (RuntimeError, OSError) as error:
        _report(debug, str(error) or type(error).__name__)
        sys.exit(EXIT_FAILED)
    except Exception as error:
        _report(debug, _elasticsearch_problem(error) or _unexpected(error))
        sys.exit(EXIT_FAILED)


def _elasticsearch_problem(error: Exception) -> str | None:
    """The one line for a client error, if `error` is one (the client is imported only if used)."""
    client = sys.modules.get("elasticsearch")
    if client is None:
        return None
    if isinstance(error, client.ApiError):
        return f"Elasticsearch refused the request ({error.meta.status}): {error.message}"
    if isinstance(error, client.TransportError):
        return f"cannot reach Elasticsearch: {error.message}"
    return None


def _unexpected(error: Exception) -> str:
    return f"unexpected {type(error).__name__}: {error} (run with --debug for details)"


def _report(debug: bool, message: str) -> None:
    if debug:
        logger.exception("command failed")
    echo_error(message.splitlines()[0] if message else "failed")
