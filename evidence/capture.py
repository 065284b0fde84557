"""Which posts get archived, and when: at first sight and whenever their text changes.

The crawl hands each matching post's raw exchange here (`Capturer.capture`). A ledger per incident
(`<data_dir>/evidence/<incident>/ledger.sqlite`: post id → hash of its text and the evidence of
its last capture) says whether the text is new; only then is the exchange written (once per
response, however many posts it carried). An unchanged post gets its earlier evidence again, so a
document re-written after a crash still points at its archive. The ledger is local, like the
WARC files it describes, and shared safely by concurrent crawl processes (SQLite, WAL).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidence.secrets import Redactor
from evidence.warcstore import Capture, Exchange, WarcStore, incident_folder

logger = logging.getLogger(__name__)


def text_hash(title: str | None, text: str | None) -> str:
    """What "the text changed" compares: title and text as stored."""
    return hashlib.sha256(f"{title or ''}\n{text or ''}".encode()).hexdigest()


class Ledger:
    """Post id → (text hash, evidence) of its last capture."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        # A lost last write only means one capture taken again; no fsync per post.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS captured (post_id TEXT PRIMARY KEY, text_hash TEXT, "
            "evidence TEXT, captured_at TEXT)"
        )

    def last(self, post_id: str) -> tuple[str, dict[str, Any]] | None:
        row = self.db.execute(
            "SELECT text_hash, evidence FROM captured WHERE post_id = ?", (post_id,)
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def remember(self, post_id: str, digest: str, evidence: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO captured VALUES (?, ?, ?, ?)",
            (post_id, digest, json.dumps(evidence), evidence.get("captured_at")),
        )

    def forget_records(self, record_ids: set[str]) -> int:
        """Forget the posts whose last capture is one of `record_ids` (records retention has
        removed), so their next sight archives them again; returns how many."""
        rows = self.db.execute("SELECT post_id, evidence FROM captured").fetchall()
        gone = [(post_id,) for post_id, evidence in rows if json.loads(evidence).get("record_id") in record_ids]  # fmt: skip
        self.db.executemany("DELETE FROM captured WHERE post_id = ?", gone)
        return len(gone)

    def close(self) -> None:
        self.db.close()


def ledger_path(data_dir: Path, incident_id: str) -> Path:
    return incident_folder(data_dir, incident_id) / "ledger.sqlite"


class Capturer:
    """One crawl's capture stage for one incident; counts what it did in `stats`."""

    def __init__(self, data_dir: Path, incident_id: str, redactor: Redactor) -> None:
        self.store = WarcStore(data_dir, incident_id, redactor)
        self.ledger = Ledger(ledger_path(data_dir, incident_id))
        self.stats: Counter[str] = Counter()

    def capture(self, post_id: str, doc: dict[str, Any], exchange: Exchange | None) -> dict[str, Any] | None:  # fmt: skip
        """The `evidence` field for a matching post: a new capture when its text is new."""
        digest = text_hash(doc.get("title"), doc.get("text"))
        last = self.ledger.last(post_id)
        if last is not None and last[0] == digest:
            self.stats["unchanged"] += 1
            return last[1]
        if exchange is None:
            self.stats["no_exchange"] += 1
            return last[1] if last else None
        capture = self._archive(post_id, exchange, self._write)
        if capture is None:  # the ledger is left alone so the next crawl tries again
            return last[1] if last else None
        evidence = capture.as_field()
        self.ledger.remember(post_id, digest, evidence)
        self.stats["captured" if last is None else "recaptured"] += 1
        return evidence

    def capture_gone(self, post_id: str, exchange: Exchange) -> dict[str, Any] | None:
        """The `deleted_evidence` field for a post a platform showed gone: the exchange that
        showed it, always archived."""
        capture = self._archive(post_id, exchange, self.store.write_exchange)
        return capture.as_field() if capture is not None else None

    def _archive(
        self, post_id: str, exchange: Exchange, write: Callable[[Exchange], Capture]
    ) -> Capture | None:
        try:
            return write(exchange)
        except OSError:
            # A full disk must not cost the post (nor the news that it is gone): it is indexed
            # without new evidence.
            logger.exception("cannot archive %s for %s", exchange.url, post_id)
            self.stats["failed"] += 1
            return None

    def _write(self, exchange: Exchange) -> Capture:
        written: Capture | None = getattr(exchange, "_capture", None)
        if written is None:
            written = self.store.write_exchange(exchange)
            exchange._capture = written  # type: ignore[attr-defined]
            self.stats["records"] += 1
        return written

    def close(self) -> None:
        self.ledger.close()
