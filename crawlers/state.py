"""Incremental crawl state per (incident, source): ETags, cursors, since-values, seen ids.

A spider reads and mutates its `CrawlState` in memory and reads its own writes at once; it never
persists it. Every mutation is also recorded as an operation, and the operations recorded while
one response's callback ran form that response's `StateDelta`. The checkpoint discipline
(`crawlers.checkpoint`) hands a delta to a `StateStore` only once everything that response led
to is durable, so a crash can make a crawl fetch again but never skip what it did not store.

Deltas, not snapshots: a store re-applies a delta onto what it holds (the file backend under a
lock; an Elasticsearch backend after a version conflict), so two crawls of one source never undo
each other's progress. Applying is pure and idempotent per operation kind: validators and cursors
are set, since-values only move forward (max), seen ids are marked, `extra` keys set or deleted.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from spreadwatch.locks import folder_lock

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: Seen ids older than this are forgotten, so the state stays small over a long incident.
SEEN_RETENTION = timedelta(days=60)
#: Operation kinds of a delta, in the order `StateDelta.apply` understands them.
OPS = ("etag", "last_modified", "cursor", "since", "seen", "extra")
_FIELDS = ("etags", "last_modified", "cursors", "since", "seen", "extra")


class StateConflictError(RuntimeError):
    """A store gave up committing a delta (e.g. concurrent writers kept winning)."""


@dataclass(frozen=True)
class StateDelta:
    """State operations `(kind, key, value)`; value None removes a cursor or an extra key."""

    ops: tuple[tuple[str, str, Any], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.ops)

    def __add__(self, other: StateDelta) -> StateDelta:
        return StateDelta(self.ops + other.ops)

    def apply(self, state: CrawlState) -> CrawlState:
        """Apply onto `state` (without recording) and return it; safe to re-run on a conflict."""
        for kind, key, value in self.ops:
            state.apply_op(kind, key, value)
        return state

    def to_json(self) -> list[list[Any]]:
        return [list(op) for op in self.ops]

    @classmethod
    def from_json(cls, data: list[list[Any]]) -> StateDelta:
        ops = []
        for op in data:
            kind, key, value = op
            if kind not in OPS:
                raise ValueError(f"unknown state operation {kind!r}")
            ops.append((str(kind), str(key), value))
        return cls(tuple(ops))


_SEQUENCE = itertools.count(1)


@dataclass
class Journal:
    """Where the operations of one response's callback are recorded (see `recording`), each
    with a process-wide sequence number: deltas may commit out of recording order, and a value
    set later must not be overwritten by one set earlier (see `newest_only`)."""

    ops: list[tuple[str, str, Any]] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    closed: bool = False

    def add(self, op: tuple[str, str, Any]) -> None:
        self.ops.append(op)
        self.seqs.append(next(_SEQUENCE))

    def delta(self) -> StateDelta:
        return StateDelta(tuple(self.ops))

    def newest_only(self, latest: dict[tuple[str, str], int]) -> StateDelta:
        """The delta without the set-operations a later-recorded one (in `latest`, by kind and
        key) already superseded; records this journal's set-operations in `latest`."""
        kept = []
        for op, seq in zip(self.ops, self.seqs, strict=True):
            kind, key, _ = op
            if kind in ("since", "seen"):  # max-operations commute
                kept.append(op)
                continue
            if latest.get((kind, key), 0) > seq:
                continue
            latest[(kind, key)] = seq
            kept.append(op)
        return StateDelta(tuple(kept))


#: The journal of the callback running in this task (asyncio gives every task its own context,
#: so a callback that awaits mid-way never records into another response's journal).
_CURRENT: contextvars.ContextVar[Journal | None] = contextvars.ContextVar(
    "spreadwatch_state_journal", default=None
)


@contextlib.contextmanager
def recording(journal: Journal) -> Iterator[Journal]:
    """Record the state operations made inside the block into `journal`."""
    token = _CURRENT.set(journal)
    try:
        yield journal
    finally:
        with contextlib.suppress(ValueError):  # reset from another context (a finalised generator)
            _CURRENT.reset(token)


class CrawlState:
    """ETags and Last-Modified by URL, cursors and since-values by key, seen ids, `extra`.

    Read the dicts freely; change them only through the methods, which record what changed.
    """

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        data = data or {}
        self.etags: dict[str, str] = dict(data.get("etags") or {})
        self.last_modified: dict[str, str] = dict(data.get("last_modified") or {})
        self.cursors: dict[str, Any] = dict(data.get("cursors") or {})
        self.since: dict[str, str] = dict(data.get("since") or {})
        self.seen: dict[str, str] = dict(data.get("seen") or {})
        self.extra: dict[str, Any] = dict(data.get("extra") or {})
        self._loose = Journal()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CrawlState:
        return cls(data)

    def to_dict(self) -> dict[str, Any]:
        """The stored form (seen ids past their retention left out)."""
        cutoff = datetime.now(UTC) - SEEN_RETENTION
        seen = {k: v for k, v in self.seen.items() if _not_before(v, cutoff)}
        return {
            "etags": dict(self.etags),
            "last_modified": dict(self.last_modified),
            "cursors": dict(self.cursors),
            "since": dict(self.since),
            "seen": seen,
            "extra": dict(self.extra),
        }

    # Recording.

    def _record(self, kind: str, key: str, value: Any) -> None:
        journal = _CURRENT.get()
        if journal is None or journal.closed:
            journal = self._loose
        journal.add((kind, key, value))

    def take_loose(self) -> StateDelta:
        """The operations made outside any callback's journal, handed over once.

        A stream (no Scrapy) commits them itself; a crawl does not commit them (see
        `crawlers.checkpoint`): nothing says when what they describe is durable.
        """
        delta, self._loose = self._loose.delta(), Journal()
        return delta

    def apply_op(self, kind: str, key: str, value: Any) -> None:
        """One operation, not recorded (a store re-applying a delta)."""
        if kind == "etag":
            self.etags[key] = value
        elif kind == "last_modified":
            self.last_modified[key] = value
        elif kind == "cursor":
            _set_or_delete(self.cursors, key, value)
        elif kind == "since":
            current = self.since_time(key)
            if current is None or datetime.fromisoformat(value) > current:
                self.since[key] = value
        elif kind == "seen":
            self.seen[key] = max(value, self.seen.get(key, value))
        elif kind == "extra":
            _set_or_delete(self.extra, key, value)
        else:
            raise ValueError(f"unknown state operation {kind!r}")

    # Conditional requests.

    def conditional_headers(self, url: str) -> dict[str, str]:
        """`If-None-Match` / `If-Modified-Since` for a URL fetched before."""
        headers = {}
        if url in self.etags:
            headers["If-None-Match"] = self.etags[url]
        if url in self.last_modified:
            headers["If-Modified-Since"] = self.last_modified[url]
        return headers

    def remember_validators(self, url: str, etag: str | None, last_modified: str | None) -> bool:
        """Store a response's validators; True when anything changed."""
        changed = False
        if etag and self.etags.get(url) != etag:
            self.etags[url] = etag
            self._record("etag", url, etag)
            changed = True
        if last_modified and self.last_modified.get(url) != last_modified:
            self.last_modified[url] = last_modified
            self._record("last_modified", url, last_modified)
            changed = True
        return changed

    # Cursors and spider-specific data (JSON values).

    def set_cursor(self, key: str, value: Any) -> None:
        """Set a cursor (None removes it). Store cursors relative (path + query), not full URLs."""
        if self.cursors.get(key) != value or (value is None and key in self.cursors):
            _set_or_delete(self.cursors, key, value)
            self._record("cursor", key, value)

    def set_extra(self, key: str, value: Any) -> None:
        if self.extra.get(key) != value:
            self.extra[key] = value
            self._record("extra", key, value)

    def delete_extra(self, key: str) -> None:
        if key in self.extra:
            del self.extra[key]
            self._record("extra", key, None)

    # Since-values: the newest time seen per key, as ISO strings.

    def since_time(self, key: str) -> datetime | None:
        value = self.since.get(key)
        return datetime.fromisoformat(value) if value else None

    def advance_since(self, key: str, value: datetime) -> bool:
        """Move the since-value forward (never back); True when it moved."""
        current = self.since_time(key)
        if current is None or value > current:
            iso = value.astimezone(UTC).isoformat()
            self.since[key] = iso
            self._record("since", key, iso)
            return True
        return False

    # Seen ids (e.g. feed guids).

    def is_seen(self, key: str) -> bool:
        return key in self.seen

    def mark_seen(self, key: str, when: datetime | None = None) -> None:
        iso = (when or datetime.now(UTC)).astimezone(UTC).isoformat()
        self.seen[key] = iso
        self._record("seen", key, iso)


class StateStore(Protocol):
    """Where crawl states live between runs."""

    def load(self, incident_id: str, source: str) -> CrawlState:
        """The stored state, or an empty one (never an error: a lost state costs a re-fetch)."""
        ...

    def commit(self, incident_id: str, source: str, delta: StateDelta) -> None:
        """Apply `delta` to the stored state durably; `StateConflictError` only when giving up."""
        ...


class FileStateStore:
    """One JSON file per state, `<data_dir>/state/<incident>/<source>.json`.

    A commit takes an exclusive `flock` on the incident's folder (crawls of one source may overlap:
    the monitor's and a `spreadwatch crawl`), reads the file, applies the delta and replaces the
    file atomically (temp file + rename): a crash mid-write leaves the previous state.
    """

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "state"
        self._lock = threading.Lock()

    def path(self, incident_id: str, source: str) -> Path:
        return self.root / _SAFE.sub("_", incident_id) / f"{_SAFE.sub('_', source)}.json"

    def load(self, incident_id: str, source: str) -> CrawlState:
        return CrawlState(self._read(self.path(incident_id, source)))

    def commit(self, incident_id: str, source: str, delta: StateDelta) -> None:
        if not delta:
            return
        path = self.path(incident_id, source)
        with self._lock, folder_lock(path.parent):
            state = delta.apply(CrawlState(self._read(path)))
            _write_atomically(path, state.to_dict())

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            # A broken state file costs one full re-crawl (deduplicated by document id), never
            # a failed crawl; the bad file is kept aside for a look.
            logger.warning("crawl state %s unreadable (%s); starting afresh", path, error)
            with contextlib.suppress(OSError):
                path.replace(path.with_suffix(".broken"))
            return {}
        return data if isinstance(data, dict) else {}


def _write_atomically(path: Path, payload: dict[str, Any]) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".state-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(payload, file, ensure_ascii=False, sort_keys=True)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _set_or_delete(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _not_before(value: str, cutoff: datetime) -> bool:
    try:
        return datetime.fromisoformat(value) >= cutoff
    except ValueError:
        return False
