"""A local JSONL spool: where documents wait when Elasticsearch cannot take them.

One file per index prefix (`<spool_dir>/<prefix>.jsonl`). Every append is flushed and fsync'd
before the writer moves on, because a spooled document is collected data that exists nowhere
else. Crawls of several sources run in parallel on one prefix, so appends and the hand-over to
a replay hold an exclusive `flock`. Replay renames the file to `.replaying.<pid>.<token>` first;
a replay that crashed, was given up or whose writer is gone leaves that file, and the next writer
start takes it over once that replay no longer runs: its process is gone, or it is this process
(the scheduler and the stream start every writer in one long-lived process) and its token is not
among the replays running here (ids are deterministic: a document replayed twice is written once).

What a replay cannot write waits apart (`.again.<pid>.<token>`) until the replay ends; then it,
and whatever the replay did not get to (it stops when the cluster cannot be reached), go back
to the spool ahead of what other writers spooled meanwhile: they are older. Until then the
replay file holds them all, so a crash loses none and the copy set apart is dropped. What a
replay made and could not write (a replayed post's engagement snapshots) is in no replay file:
it goes to the spool at once (`append_new`).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import threading
import uuid
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from psutil import pid_exists

from spreadwatch.locks import folder_lock

logger = logging.getLogger(__name__)
#: Spool files are read and written so that any byte goes through as it is: a line torn by a
#: power cut or a full disk can end inside a character of Chinese text, and read strictly it
#: would stop every writer's start; so it is quarantined like any torn line, byte for byte.
BYTES = "surrogateescape"
#: The replays running in this process, by token (from `take_for_replay` until it finishes or is
#: given up, or its `Spool` is gone): a replay file of this process whose token is not here is
#: left behind, like a dead process's.
_running: weakref.WeakValueDictionary[str, Spool] = weakref.WeakValueDictionary()
_running_lock = threading.Lock()


@dataclass
class SpoolEntry:
    """A document that could not be written: which index kind, the document, and why."""

    kind: str  # "post" or "activity"
    doc: dict[str, Any]
    reason: str
    spooled_at: str = ""
    attempts: int = 1

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": self.kind,
                "reason": self.reason,
                "spooled_at": self.spooled_at or datetime.now(UTC).isoformat(),
                "attempts": self.attempts,
                "doc": self.doc,
            },
            ensure_ascii=False,
            default=str,
        )


class Spool:
    """Append-only JSONL file of `SpoolEntry`s for one index prefix."""

    def __init__(self, spool_dir: Path, prefix: str) -> None:
        self.dir = Path(spool_dir)
        self.prefix = prefix
        self.path = self.dir / f"{prefix}.jsonl"
        # Unique per writer: one process may run several crawls (the demo worker) at once.
        token = self._token = uuid.uuid4().hex[:8]
        self.replay_path = self.dir / f"{prefix}.jsonl.replaying.{os.getpid()}.{token}"
        #: What this writer's replay spools again, kept apart until the replay ends.
        self.again_path = self.dir / f"{prefix}.jsonl.again.{os.getpid()}.{token}"
        self._merge_path = self.dir / f"{prefix}.jsonl.merging.{os.getpid()}.{token}"
        self._replaying = False

    def append(self, entries: Iterable[SpoolEntry]) -> int:
        """Write entries durably; returns how many were written.

        During this spool's replay (`take_for_replay` to `finish_replay`) what is appended is
        what the replay could not write: it waits in `again_path` and goes back with the rest.
        """
        return self._append(self.again_path if self._replaying else self.path, entries)

    def append_new(self, entries: Iterable[SpoolEntry]) -> int:
        """Write entries durably to the spool itself, during a replay too: documents the replay
        did not read but made (a replayed post's engagement snapshots) are in no replay file, so
        set apart they would go with a replay that died or was given up."""
        return self._append(self.path, entries)

    def _append(self, path: Path, entries: Iterable[SpoolEntry]) -> int:
        lines = [entry.to_json() + "\n" for entry in entries]
        if not lines:
            return 0
        with folder_lock(self.dir), path.open("a", encoding="utf-8", errors=BYTES) as handle:
            handle.write(_line_start(path) + "".join(lines))
            handle.flush()
            os.fsync(handle.fileno())
        return len(lines)

    @property
    def dead_path(self) -> Path:
        """Dead letters: documents refused for their content twice, kept, never replayed."""
        return self.dir / f"{self.prefix}.dead.jsonl"

    def append_dead(self, entries: Iterable[SpoolEntry]) -> int:
        return self._append(self.dead_path, entries)

    def replaying_entries(self) -> list[SpoolEntry]:
        """What replays in progress (or left by a crash) hold, read without taking them."""
        found: list[SpoolEntry] = []
        for path in sorted(self.dir.glob(f"{self.prefix}.jsonl.replaying.*")):
            try:
                found.extend(self._read(path, quarantine=False))
            except OSError:  # finished and removed while we looked
                continue
        return found

    def dead_letters(self) -> list[SpoolEntry]:
        return list(self._read(self.dead_path)) if self.dead_path.exists() else []

    def take_for_replay(self) -> Iterator[SpoolEntry]:
        """Move the spool (and replays left behind: by dead processes, or given up in this one)
        aside for this replay; its entries, read as they are consumed: a long outage's spool can
        outgrow memory."""
        if not self.dir.exists():
            return iter(())
        if self.path.exists() and not self.path.is_file():
            logger.error("spool %s is not a regular file; nothing replayed from it", self.path)
            return iter(())
        with folder_lock(self.dir):
            self._set_running(True)  # before its file exists: no other writer takes it
            # A replay left behind has its entries set apart or being given back in its replay
            # file still (or already back in the spool): that copy goes.
            for leftover in self._left_behind(".jsonl.again.", ".jsonl.merging."):
                leftover.unlink(missing_ok=True)
            # Oldest first: what a replay left behind held was spooled before what the spool holds
            # now (a deletion notice replayed before its post would find nothing to mark).
            for orphan in self._orphaned_replays():
                self._move_into_replay(orphan)
            if self.path.exists() and not self.replay_path.exists():
                self.path.rename(self.replay_path)
            elif self.path.exists():
                self._move_into_replay(self.path)
        if not self.replay_path.exists():
            self._set_running(False)
            return iter(())
        self._replaying = True
        return iter(self._read(self.replay_path))

    def finish_replay(self, rest: Iterable[SpoolEntry] = ()) -> int:
        """End this replay: what it spooled again, then `rest` (the entries it did not get to,
        in order), go back to the spool ahead of what was spooled since it began, and the
        replay file goes. Returns how many entries `rest` held.

        Copied in pieces, never read whole; the spool is replaced in one rename, under the lock
        appends take. An error (`OSError`) leaves the replay file whole: `abandon_replay` then.
        """
        try:
            return self._give_back(rest)
        finally:  # its file gone (or left whole): no longer running, whatever happened
            self._set_running(False)

    def _give_back(self, rest: Iterable[SpoolEntry]) -> int:
        self._replaying = False
        lines = (entry.to_json() + "\n" for entry in rest)
        first = next(lines, None)
        if first is None and not self.again_path.exists():
            self.replay_path.unlink(missing_ok=True)
            return 0
        merged = self._merge_path
        left = 0
        try:
            with merged.open("w", encoding="utf-8", errors=BYTES) as target:
                if self.again_path.exists():
                    _copy_lines(self.again_path, target)
                for line in itertools.chain([first] if first is not None else [], lines):
                    target.write(line)
                    left += 1
                with folder_lock(self.dir):
                    if self.path.exists():  # spooled by others since the replay began
                        _copy_lines(self.path, target)
                    target.flush()
                    os.fsync(target.fileno())
                    merged.replace(self.path)
                    self.replay_path.unlink(missing_ok=True)  # a crash between: doubles, no loss
        except BaseException:
            merged.unlink(missing_ok=True)
            raise
        self.again_path.unlink(missing_ok=True)
        return left

    def abandon_replay(self) -> None:
        """Give this replay up: its replay file keeps every entry it held, for the next writer
        (this process's next one too); the copy of those it spooled again goes."""
        self._replaying = False
        self.again_path.unlink(missing_ok=True)
        self._set_running(False)

    def entries(self) -> list[SpoolEntry]:
        """What the spool holds now (for `status` and tests)."""
        return list(self._read(self.path)) if self.path.exists() else []

    def _set_running(self, running: bool) -> None:
        with _running_lock:
            if running:
                _running[self._token] = self
            else:
                _running.pop(self._token, None)

    def _orphaned_replays(self) -> list[Path]:
        return sorted(self._left_behind(".jsonl.replaying."), key=lambda p: p.stat().st_mtime)

    def _left_behind(self, *kinds: str) -> list[Path]:
        """This prefix's `<prefix><kind><pid>.<token>` files whose replay no longer runs: its
        process is gone, or it is this process and the replay is not running here."""
        found = []
        for kind in kinds:
            marker = f"{self.prefix}{kind}"
            for path in self.dir.glob(f"{marker}*"):
                pid, _, token = path.name[len(marker) :].partition(".")
                if not pid.isdigit():
                    continue
                if int(pid) == os.getpid():
                    if not _is_running(token):
                        found.append(path)
                elif not pid_exists(int(pid)):
                    found.append(path)
        return found

    def _move_into_replay(self, source: Path) -> None:
        start = _line_start(self.replay_path)
        with self.replay_path.open("a", encoding="utf-8", errors=BYTES) as target, source.open(encoding="utf-8", errors=BYTES) as lines:  # fmt: skip
            target.write(start)
            shutil.copyfileobj(lines, target)  # a long outage's spool need not fit in memory
            target.flush()
            os.fsync(target.fileno())
        source.unlink()

    def _read(self, path: Path, quarantine: bool = True) -> Iterable[SpoolEntry]:
        with path.open(encoding="utf-8", errors=BYTES) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                torn, whole = _split_torn(line)
                if torn and quarantine:
                    # A torn last line after a power cut; keep it where a human can see it.
                    self._quarantine(path, number, torn)
                if whole is not None:
                    yield whole

    def _quarantine(self, path: Path, number: int, line: str) -> None:
        bad = self.dir / f"{self.prefix}.unreadable.jsonl"
        logger.error("unreadable spool line %s:%s kept in %s", path, number, bad)
        with bad.open("a", encoding="utf-8", errors=BYTES) as handle:
            handle.write(line if line.endswith("\n") else line + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def _is_running(token: str) -> bool:
    with _running_lock:
        return token in _running


def _copy_lines(source: Path, target: TextIO) -> None:
    """Append `source` to `target` in pieces, ending on a line end (a torn last line stays torn,
    but what follows it starts a line of its own)."""
    with source.open(encoding="utf-8", errors=BYTES) as lines:
        shutil.copyfileobj(lines, target)
    target.write(_line_start(source))


def _line_start(path: Path) -> str:
    """What an append to `path` must write first so that its entries start a line: a newline
    when the file ends inside a line torn by a crash or a full disk."""
    try:
        with path.open("rb") as handle:
            if handle.seek(0, os.SEEK_END) == 0:
                return ""
            handle.seek(-1, os.SEEK_END)
            return "" if handle.read(1) == b"\n" else "\n"
    except FileNotFoundError:
        return ""


#: How every entry's line starts (`SpoolEntry.to_json`).
_ENTRY_START = '{"kind": '


def _split_torn(line: str) -> tuple[str, SpoolEntry | None]:
    """(the torn part of a line, the entry it holds). Versions before the spool ended a torn
    line appended the next entry to it: the entry after the torn part is still whole."""
    start = 0
    while True:
        entry = _entry(line[start:])
        if entry is not None:
            return line[:start], entry
        start = line.find(_ENTRY_START, start + 1)
        if start < 0:
            return line, None


def _entry(text: str) -> SpoolEntry | None:
    try:
        raw = json.loads(text)
        return SpoolEntry(
            kind=raw["kind"],
            doc=raw["doc"],
            reason=raw.get("reason", ""),
            spooled_at=raw.get("spooled_at", ""),
            attempts=int(raw.get("attempts", 1)),
        )
    except (ValueError, KeyError, TypeError):
        return None


def spool_summary(spool_dir: Path) -> dict[str, dict[str, Any]]:
    """Documents waiting per index prefix, by reason kind, and dead letters (for `status`).

    Waiting includes a replay that crashed or was given up (`*.jsonl.replaying.*`): those
    documents are written by the next writer, and until then they exist only there."""
    summary: dict[str, dict[str, Any]] = {}
    folder = Path(spool_dir)
    if not folder.is_dir():
        return summary
    prefixes = set()
    for path in folder.iterdir():
        name = path.name
        if name.endswith((".unreadable.jsonl",)):
            continue
        for marker in (".dead.jsonl", ".jsonl.replaying.", ".jsonl"):
            if marker in name:
                prefixes.add(name[: name.index(marker)])
                break
    for prefix in sorted(prefixes):
        spool = Spool(folder, prefix)
        entries = spool.entries() + spool.replaying_entries()
        reasons: dict[str, int] = {}
        for entry in entries:
            kind = entry.reason.split(":", 1)[0]
            reasons[kind] = reasons.get(kind, 0) + 1
        summary[prefix] = {
            "documents": len(entries),
            "by_reason": reasons,
            "dead_letters": len(spool.dead_letters()),
            "dead_letter_file": str(spool.dead_path),
        }
    return summary
