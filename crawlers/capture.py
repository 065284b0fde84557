"""The capture stage of the ingest core: plain functions over a document, no Scrapy.

A matching post's exchange is archived at first sight and whenever its text changes
(`evidence.capture.Capturer`), and the post gets `evidence: {warc, record_id, digest,
captured_at, uri}`. A post a platform marked as gone (`deleted_how`) gets the exchange that
showed it gone as `deleted_evidence` (a 404, Reddit's `[removed]` listing). Secrets the settings
and the incident file name are stripped before anything is written.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

from crawlers.exchange import attach, exchange_attached
from evidence.capture import Capturer
from evidence.secrets import Redactor, secret_values
from spreadwatch.incident import Incident
from spreadwatch.settings import Settings


class _Context(Protocol):
    settings: Settings
    incident: Incident


class CaptureStage:
    """One crawl's capture stage; `open` returns None when capture is off."""

    def __init__(self, capturer: Capturer) -> None:
        self.capturer = capturer
        self.counts: Counter[str] = Counter()

    @classmethod
    def open(cls, context: _Context) -> CaptureStage | None:
        settings, incident = context.settings, context.incident
        if settings.evidence_capture == "off":
            return None
        secrets = secret_values(settings.secret_values(), incident.sources.secret_env_names())
        return cls(Capturer(settings.data_dir, incident.id, Redactor(secrets)))

    def process(self, doc: dict[str, Any]) -> None:
        """Add `evidence` (or `deleted_evidence`) to a post document, archiving as needed."""
        exchange = exchange_attached(doc)
        attach(doc, None)  # the body is not needed past this stage
        post_id = f"{doc['platform']}:{doc['native_id']}"
        if doc.get("deleted_how"):
            gone = self.capturer.capture_gone(post_id, exchange) if exchange is not None else None
            if gone is not None:
                doc["deleted_evidence"] = gone
                self.counts["deletion_captured"] += 1
            return
        evidence = self.capturer.capture(post_id, doc, exchange)
        if evidence:
            doc["evidence"] = evidence

    def close(self) -> dict[str, int]:
        self.capturer.close()
        counts = self.counts + self.capturer.stats
        counts["bytes"] = self.capturer.store.bytes_written
        return dict(counts)
