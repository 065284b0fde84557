"""Incremental crawl state per (incident, source): ETags, cursors, since-values, seen ids.

Kept in a local JSON file, `<data_dir>/state/<incident>/<source>.json`, not in Elasticsearch:
the state must survive an unreachable cluster (the writer then spools the items, and the next
run must still know which pages it already has, or it would fetch and spool them again), and it
is written on every response, which a local atomic file write (temp file + rename) does cheaply
and without a round trip. A crash mid-write leaves the previous file intact.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: Seen ids older than this are forgotten, so the file stays small over a long incident.
SEEN_RETENTION = timedelta(days=60)


class CrawlState:
    """ETags by URL, cursors and since-values by key, seen ids with when they were seen."""

    def __init__(self, path: Path, data: dict[str, Any] | None = None) -> None:
        self.path = path
        data = data or {}
        self.etags: dict[str, str] = dict(data.get("etags", {}))
        self.last_modified: dict[str, str] = dict(data.get("last_modified", {}))
        self.cursors: dict[str, Any] = dict(data.get("cursors", {}))
        self.since: dict[str, str] = dict(data.get("since", {}))
        self.seen: dict[str, str] = dict(data.get("seen", {}))

    @classmethod
    def load(cls, data_dir: Path, incident_id: str, source: str) -> CrawlState:
        """The saved state, or an empty one when there is none or it is unreadable."""
        path = data_dir / "state" / _SAFE.sub("_", incident_id) / f"{_SAFE.sub('_', source)}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as error:
            # A broken state file costs one full re-crawl (deduplicated by document id), never
            # a failed crawl; the bad file is kept aside for a look.
            logger.warning("crawl state %s unreadable (%s); starting afresh", path, error)
            path.replace(path.with_suffix(".broken"))
            return cls(path)
        return cls(path, data if isinstance(data, dict) else {})

    def save(self) -> None:
        """Write atomically: a temp file in the same folder, then rename over the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._prune_seen()
        payload = {
            "etags": self.etags,
            "last_modified": self.last_modified,
            "cursors": self.cursors,
            "since": self.since,
            "seen": self.seen,
        }
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".state-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(payload, file, ensure_ascii=False, sort_keys=True)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

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
        """Store a response's validators; True when anything changed (then save)."""
        changed = False
        if etag and self.etags.get(url) != etag:
            self.etags[url] = etag
            changed = True
        if last_modified and self.last_modified.get(url) != last_modified:
            self.last_modified[url] = last_modified
            changed = True
        return changed

    # Since-values: the newest time seen per key, as ISO strings.

    def since_time(self, key: str) -> datetime | None:
        value = self.since.get(key)
        return datetime.fromisoformat(value) if value else None

    def advance_since(self, key: str, value: datetime) -> bool:
        """Move the since-value forward (never back); True when it moved."""
        current = self.since_time(key)
        if current is None or value > current:
            self.since[key] = value.astimezone(UTC).isoformat()
            return True
        return False

    # Seen ids (e.g. feed guids).

    def is_seen(self, key: str) -> bool:
        return key in self.seen

    def mark_seen(self, key: str, when: datetime | None = None) -> None:
        self.seen[key] = (when or datetime.now(UTC)).astimezone(UTC).isoformat()

    def _prune_seen(self) -> None:
        cutoff = datetime.now(UTC) - SEEN_RETENTION
        self.seen = {k: v for k, v in self.seen.items() if datetime.fromisoformat(v) >= cutoff}
