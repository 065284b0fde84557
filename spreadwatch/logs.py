"""One log format for spreadwatch, Scrapy, APScheduler and the Elasticsearch client.

Records are rendered as `time level logger: message key=value ...` on a console, or as one JSON
object per line (`SPREADWATCH_LOG_FORMAT=json`). Any known secret value that reaches a record is
replaced by `***` before it is written.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class StructuredFormatter(logging.Formatter):
    def __init__(self, as_json: bool = False) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        extra = {k: v for k, v in record.__dict__.items() if k not in _RESERVED}
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        message = record.getMessage()
        if self.as_json:
            entry: dict[str, Any] = {
                "time": when,
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": message,
                **{k: _plain(v) for k, v in extra.items()},
            }
            if record.exc_info:
                entry["exception"] = self.formatException(record.exc_info)
            return json.dumps(entry, ensure_ascii=False)
        pairs = " ".join(f"{k}={_plain(v)}" for k, v in extra.items())
        line = f"{when} {record.levelname:<7} {record.name}: {message}"
        if pairs:
            line = f"{line} {pairs}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


class RedactSecrets(logging.Filter):
    """Replace secret values in messages and arguments, wherever a record comes from."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        return True


#: Libraries whose warnings carry a traceback of what they retried or survived: shown as one
#: line (the exception's type and message) unless debugging.
TERSE_LIBRARIES = ("elastic_transport",)


class TerseLibraryWarnings(logging.Filter):
    """The Elasticsearch client logs every retry of a request at WARNING with the whole
    traceback of the failure (~40 lines each; a cluster that cannot be reached gave 160 lines
    before the command's one-line error). Its warnings below ERROR keep their message and
    name the exception on the same line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        library = record.name.split(".")[0]
        if record.exc_info and record.levelno < logging.ERROR and library in TERSE_LIBRARIES:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {type(error).__name__}: {error}"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


def configure_logging(debug: bool = False, as_json: bool = False, level: str = "info") -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_spreadwatch", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(StructuredFormatter(as_json=as_json))
    handler._spreadwatch = True  # type: ignore[attr-defined]
    if not debug:
        handler.addFilter(TerseLibraryWarnings())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else getattr(logging, level.upper(), logging.INFO))
    # Libraries are chatty at INFO; their warnings still come through.
    for noisy in ("elastic_transport", "urllib3", "asyncio", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)


def redact(secrets: Iterable[str]) -> None:
    """Install the secret filter on every spreadwatch handler."""
    secret_filter = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(secret_filter)
