"""What every platform parser needs: typed field access with clear errors, one record's failure
kept to that record. HTML is read by `crawlers.normalise.read_html`, URLs by `spreadwatch.urls`."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ParseError(ValueError):
    """A record from a platform that does not have the shape its API documents."""


#: Where platforms keep a record's own id (first found wins; Reddit nests it under `data`; a
#: Jetstream event names only its account).
_ID_KEYS = ("id", "uri", "objectID", "guid", "name", "mid", "sha", "node_id", "url", "did")


def record_id(record: Any) -> str:
    """The record's own id, for a drop that names what was dropped."""
    for holder in (record, record.get("data") if isinstance(record, dict) else None):
        if isinstance(holder, dict):
            for key in _ID_KEYS:
                value = holder.get(key)
                if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                    return str(value)[:200]
    return "(no id)"


def record_parser(parse: Callable[..., T]) -> Callable[..., T]:
    """Any failure while parsing one record — a shape the parser did not expect, a bug, text
    a library chokes on — is that record's `ParseError`, naming its id: the spider counts it as
    `dropped/bad_record` and goes on with the rest of the page, never loses the page."""

    @functools.wraps(parse)
    def parse_one(record: Any, *args: Any, **kwargs: Any) -> T:
        try:
            return parse(record, *args, **kwargs)
        except ParseError as error:
            ident = record_id(record)
            raise ParseError(error if ident in str(error) else f"record {ident}: {error}") from None
        except Exception as error:
            logger.warning("parser %s failed on record %s", parse.__name__, record_id(record), exc_info=True)  # fmt: skip
            raise ParseError(
                f"record {record_id(record)}: {type(error).__name__}: {error}"
            ) from error

    return parse_one


def embedded(parse: Callable[[], T], where: str) -> T | None:
    """An original a post carries (the post it quotes, crossposts or reposts) read on its own:
    one of an unexpected shape is left out, logged, and the post that carries it is kept with
    its edge — the post's own words are no less readable for it."""
    try:
        return parse()
    except ParseError as error:
        logger.warning("%s: embedded original left out: %s", where, error)
        return None


def need(record: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """`record[key]`, which must be of `kind`; anything else is a `ParseError` naming it."""
    if not isinstance(record, dict):
        raise ParseError(f"{where}: expected an object, got {type(record).__name__}")
    value = record.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
        raise ParseError(f"{where}: field {key!r} should be {_names(kind)}, got {value!r:.80}")
    return value


def opt_int(value: Any) -> int | None:
    """A count that platforms send as int, numeric string, or null; anything else is None
    (JSON's 1e400 reads as infinity, `"²"` is a digit to `str.isdigit` but not to `int`)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None


def opt_str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def from_epoch(seconds: Any, where: str) -> datetime:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ParseError(f"{where}: expected epoch seconds, got {seconds!r:.80}")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):  # 1e20, NaN: no time a calendar can hold
        raise ParseError(f"{where}: epoch seconds out of range: {seconds!r:.80}") from None


def from_iso(value: Any, where: str) -> datetime:
    """An ISO 8601 time (`Z` or offset) in UTC; naive times are taken as UTC."""
    if not isinstance(value, str):
        raise ParseError(f"{where}: expected an ISO time, got {value!r:.80}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(f"{where}: not an ISO time: {value!r:.80}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-01:00 lies past the calendar's end in UTC
        raise ParseError(f"{where}: ISO time out of range: {value!r:.80}") from None


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _names(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _tuple(kind))


def flag_official(post: Any, official: Any) -> Any:
    """Mark a post whose author is one of the incident's official accounts (or its domains).

    `official` is the incident's `Official` section or None; the post is returned for chaining.
    """
    if official is None:
        return post
    author = post.author
    if official.is_official(post.platform, author.handle, author.id) or official.is_official_url(
        author.url
    ):
        author.official = True
        post.official = True
        post.always_keep = True
    return post
