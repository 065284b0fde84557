"""Bounded disk use: day files past the retention age keep only the records posts point at.

A record no post refers to any more (the post was dropped, or the incident's queries changed and
re-classification removed it) and the repeated captures of an unchanged item cost disk without
being evidence of anything. `prune` rewrites each day file older than the retention age with
only the records some post (now, in an earlier version, or as proof of its deletion) refers to,
their request records, and rendered captures of those; a day file left with nothing is removed.
The rewrite goes to a temporary file renamed over the old one under the same lock writers take.
The capture ledger forgets the posts whose last capture was removed, so a post seen again (kept
by the queries once more) is archived anew instead of pointing at a record that is gone.
"""

from __future__ import annotations

import fcntl
import io
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from evidence.capture import Ledger, ledger_path
from evidence.warcstore import incident_folder


@dataclass
class PruneReport:
    files: int = 0
    removed_records: int = 0
    bytes_before: int = 0
    bytes_after: int = 0


def prune(
    data_dir: Path, incident_id: str, keep: set[str], days: int, now: datetime | None = None
) -> PruneReport:
    """Drop unreferenced records from day files older than `days` (0: keep everything)."""
    report = PruneReport()
    if days <= 0:
        return report
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=days)).date()
    removed_ids: set[str] = set()
    for path in sorted(incident_folder(data_dir, incident_id).glob("*.warc.gz")):
        day = _day(path)
        if day is None or day >= cutoff:
            continue
        report.files += 1
        report.bytes_before += path.stat().st_size
        removed, size = _rewrite(path, keep)
        report.removed_records += len(removed)
        report.bytes_after += size
        removed_ids |= removed
    ledger = ledger_path(data_dir, incident_id)
    if removed_ids and ledger.is_file():
        captures = Ledger(ledger)
        try:
            captures.forget_records(removed_ids)
        finally:
            captures.close()
    return report


def _day(path: Path) -> date | None:
    try:
        return date.fromisoformat(path.name.removesuffix(".warc.gz"))
    except ValueError:
        return None


def _rewrite(path: Path, keep: set[str]) -> tuple[set[str], int]:
    """Rewrite `path` with the kept records; returns (ids of the records removed, new size)."""
    temp = path.with_name(f".{path.name}.prune")
    with path.open("rb+") as locked:
        fcntl.flock(locked, fcntl.LOCK_EX)
        try:
            records = _read(locked)
            kept_ids = _closure(records, keep)
            kept = [r for r in records if r["type"] == "warcinfo" or r["id"] in kept_ids]
            removed = {r["id"] for r in records if r["type"] != "warcinfo"} - kept_ids
            if not removed:
                return removed, path.stat().st_size
            if all(r["type"] == "warcinfo" for r in kept):
                path.unlink()
                return removed, 0
            with temp.open("wb") as out:
                for record in kept:  # each record is a whole gzip member: copied as stored
                    out.write(record["raw"])
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
            return removed, path.stat().st_size
        finally:
            fcntl.flock(locked, fcntl.LOCK_UN)


def _read(stream: Any) -> list[dict[str, Any]]:
    """Every record with its id, type, links, and its bytes as stored (one gzip member)."""
    stream.seek(0)
    data = stream.read()
    records = []
    iterator = ArchiveIterator(io.BytesIO(data))
    for record in iterator:
        headers = record.rec_headers
        record.content_stream().read()
        start = iterator.get_record_offset()
        length = iterator.get_record_length()
        records.append(
            {
                "id": headers.get_header("WARC-Record-ID"),
                "type": record.rec_type,
                "concurrent": headers.get_header("WARC-Concurrent-To"),
                "refers": headers.get_header("WARC-Refers-To"),
                "start": start,
                "length": length,
            }
        )
    for record in records:
        record["raw"] = data[record["start"] : record["start"] + record["length"]]
    return records


def _closure(records: list[dict[str, Any]], keep: set[str]) -> set[str]:
    """Kept ids plus their request records and the resources rendered for them."""
    kept = {r["id"] for r in records if r["id"] in keep}
    for record in records:
        if record["concurrent"] in kept or record["refers"] in kept:
            kept.add(record["id"])
    return kept
