"""The ingest of one crawl or stream: the stages, capture, then the bulk writer, in yield order.

`Ingest(context)` opens the writer (indices created on first use; a cluster that is down means
every document is spooled) and the capture stage (`crawlers.capture`, evidence archiving), and
`process(item)` runs an item through `crawlers.ingest.stages`, capture and into the writer. The Scrapy index pipeline, the Jetstream stream and the benchmarks use this one
object; drops are counted in `stats` under the crawl-stats keys
(`spreadwatch/dropped/<reason>`, `spreadwatch/writer/*`, `spreadwatch/rejected/<reason>`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from crawlers.capture import CaptureStage
from crawlers.ingest.context import IngestContext
from crawlers.ingest.stages import ActivityDoc, Dropped, PostDoc, run_stages, take_notes
from indexer.connection import ConnectionFailedError, IndexNames, make_client
from indexer.stance_enrich import StanceEnricher
from indexer.stance_model import installed, shipped
from indexer.stance_pending import mark_pending
from indexer.templates import ShardLayout, init
from indexer.writer import BulkWriter, WriterStats

logger = logging.getLogger(__name__)

_EMPTY: tuple[Any, ...] = (None, "", [], {})
#: Called with each batch's new posts just before it is written (`BulkWriter.enrich`).
StanceStep = Callable[[list[dict[str, Any]]], object]


class Ingest:
    """Stages + writer for one crawl. `background=True` writes batches on a worker thread while
    the caller keeps producing items (what a Scrapy crawl uses)."""

    def __init__(
        self,
        context: IngestContext,
        *,
        background: bool = False,
        client: Elasticsearch | None = None,
    ) -> None:
        self.context = context
        self.writer = open_writer(context, background=background, client=client)
        self.capture = CaptureStage.open(context)
        self.drops: Counter[str] = Counter()
        self._capture_stats: dict[str, int] = {}

    def process(self, item: Any) -> bool:
        """True when the item reached the writer; a drop is counted and returns False."""
        try:
            doc = run_stages(item, self.context)
        except Dropped as drop:
            self.drops[drop.stat] += 1
            logger.debug("item dropped: %s", drop)
            return False
        self.drops.update(take_notes(doc))
        if isinstance(doc, PostDoc) and self.capture is not None:
            self.capture.process(doc)
        add_to_writer(doc, self.context, self.writer)
        return True

    def close(self) -> WriterStats:
        if self.capture is not None:
            self._capture_stats = capture_stats(self.capture.close())
        return self.writer.close()

    def stats(self) -> dict[str, Any]:
        """Drops, capture and writer totals under the keys a Scrapy crawl's stats use."""
        return {**self.drops, **self._capture_stats, **writer_stats(self.writer.stats)}


def open_writer(
    context: IngestContext, *, background: bool = False, client: Elasticsearch | None = None
) -> BulkWriter:
    settings = context.settings
    writer = BulkWriter(
        client or _client(context),
        IndexNames(settings.index_prefix),
        settings.data_dir / "spool",
        batch_size=context.batch_size,
        flush_seconds=context.flush_seconds,
        background=background,
        wait_for_active_shards=settings.es_wait_for_active_shards,
        spool_is_durable=settings.state_store == "file",
    )
    writer.enrich = stance_step(context, writer)
    return writer


def stance_step(context: IngestContext, writer: BulkWriter) -> StanceStep | None:
    """What the learned head does to each batch: nothing (lexicon only, or no head installed),
    mark its posts for the head to label after indexing (deferred), or label them now."""
    if not context.stance_model or not installed():
        return None
    if context.stance_deferred:
        return mark_pending
    model = shipped()
    if model is None:
        return None
    names = IndexNames(context.settings.index_prefix)
    return StanceEnricher(context.incident, model, writer.client, names)


def add_to_writer(doc: Any, context: IngestContext, writer: BulkWriter) -> None:
    """The index stage: crawl fields (incident, crawl times on the context's clock, source)
    added, empties left out."""
    if isinstance(doc, PostDoc) and doc.get("deleted_how") and not doc.get("text"):
        writer.add_post(deletion_notice(doc, context.clock().isoformat()))
    elif isinstance(doc, PostDoc):
        now = context.clock().isoformat()
        source = {"spider": context.spider_name, "run": context.run_id, **doc.get("source", {})}
        post = {k: v for k, v in doc.items() if v not in _EMPTY}
        post.update(incident=[context.incident.id], first_seen=now, last_seen=now, source=source)
        if post.get("deleted_how"):  # gone in part (e.g. its author's account): text kept
            post["deleted_at"] = now
        writer.add_post(post)
    elif isinstance(doc, ActivityDoc):
        point = {k: v for k, v in doc.items() if v not in _EMPTY}
        point.update(
            incident=[context.incident.id],
            source={"spider": context.spider_name, "run": context.run_id},
        )
        writer.add_activity(point)


def deletion_notice(doc: dict[str, Any], now: str) -> dict[str, Any]:
    """The partial document that marks a stored post deleted (no `@timestamp`: the writer
    only updates a post it has, and keeps its text as last seen)."""
    notice = {
        "platform": doc["platform"],
        "native_id": doc["native_id"],
        "deleted_at": now,
        "deleted_how": doc["deleted_how"],
        "deleted_evidence": doc.get("deleted_evidence"),
        "last_seen": now,
    }
    return {k: v for k, v in notice.items() if v is not None}


def capture_stats(counts: dict[str, int]) -> dict[str, int]:
    """The capture stage's totals as crawl-stats keys."""
    return {f"spreadwatch/evidence/{key}": value for key, value in counts.items()}


def writer_stats(stats: WriterStats) -> dict[str, int]:
    """A writer's totals as crawl-stats keys."""
    flat: dict[str, int] = {}
    for key, value in stats.as_dict().items():
        if key == "rejected_by_reason":
            flat.update({f"spreadwatch/rejected/{r}": n for r, n in value.items()})
        else:
            flat[f"spreadwatch/writer/{key}"] = value
    return flat


def _client(context: IngestContext) -> Elasticsearch:
    """The cluster's client, indices ready; when it is down, one that fails, so the writer
    spools everything (and the next crawl replays it)."""
    settings = context.settings
    try:
        client = make_client(settings)
        # First use creates the indices.
        init(client, IndexNames(settings.index_prefix), ShardLayout.from_settings(settings))
        return client
    except (ConnectionFailedError, TransportError, ApiError, RuntimeError, OSError) as error:
        hosts = settings.es_urls or [f"http://127.0.0.1:{settings.es_port}"]
        logger.error("Elasticsearch unavailable (%s); documents will be spooled", error)
        return Elasticsearch(hosts, request_timeout=settings.es_request_timeout, max_retries=1)
