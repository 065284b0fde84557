"""The bulk writer: every post and activity point reaches Elasticsearch through here.

Posts are upserted without scripts (the embedded node has no painless): each batch reads the
stored versions with one `mget`, merges them with the new ones (`first_seen` kept, `last_seen`
advanced, incidents and matches unioned, engagement replaced) and writes whole documents, each
only over the version it read (a post another writer stored meanwhile is merged again). A
changed engagement adds snapshots to the activity index so growth can be plotted.

Nothing collected is lost: when the cluster is unreachable or refuses a batch, the documents go
to a local spool (see `spool.py`) and are replayed when the next writer starts, up to the first
batch none of which reaches the cluster (the rest waits, in order, for the writer after). A
document refused for its content (a mapping error) is spooled with the reason and does not hold
back the rest of its batch. A node lost from a cluster is retried, not spooled at once: the
client tries the other nodes, and documents refused because their shard is between copies (a
replica being promoted) are written again after a short backoff; only what is still refused then
is spooled.
Writes ask for `wait_for_active_shards` copies (`SPREADWATCH_ES_WAIT_FOR_ACTIVE_SHARDS`), waiting
at most `SHARD_WAIT` for them.

Durability is what crawl checkpoints wait for: `after_durable(fn)` runs `fn` once every document
added before it is acked by Elasticsearch or fsync'd to the spool. A spool write that fails
loses documents: they are counted (`lost`), and from then on no callback runs, so no crawl
state advances past data that exists nowhere.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from elastic_transport import SerializationError
from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from indexer.connection import IndexNames
from indexer.merge import engagement_snapshots, merge_post, outcome
from indexer.spool import Spool, SpoolEntry
from indexer.stemming import with_stems
from indexer.versioned import CONFLICT, Versioned, bulk_condition

logger = logging.getLogger(__name__)

POST = "post"
ACTIVITY = "activity"
#: Statuses and error types of a document refused because its shard has no active copy right
#: now (a node left, a primary is being promoted): worth writing again shortly.
RETRY_STATUSES = (429, 502, 503, 504)
RETRY_ERRORS = (
    "unavailable_shards_exception",
    "no_shard_available_action_exception",
    "node_not_connected_exception",
    "node_disconnected_exception",
    "primary_missing_action_exception",
)
#: Seconds to wait before each further attempt at documents refused as above.
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
#: How long a write waits for its shard copies to be active before it is refused (retryable).
SHARD_WAIT = "10s"
#: How often a batch's conflicting posts are read and merged again before they are spooled.
CONFLICT_ATTEMPTS = 5
#: Error types that mean "this document's content is wrong", not "try again later".
CONTENT_ERRORS = (
    "mapper_parsing_exception",
    "document_parsing_exception",
    "illegal_argument_exception",
    "strict_dynamic_mapping_exception",
)


@dataclass
class WriterStats:
    """What a writer did in its lifetime (read by the crawl's run document)."""

    indexed_new: int = 0
    updated: int = 0
    unchanged: int = 0
    activity_written: int = 0
    spooled: int = 0
    #: Checkpoints not committed because their documents reached only this host's spool.
    checkpoints_held: int = 0
    spool_replayed: int = 0
    #: Spooled documents not tried: the replay stopped, the cluster could not be reached.
    spool_left: int = 0
    edited: int = 0  # posts whose text changed (a version kept)
    deleted: int = 0  # posts newly marked deleted
    unknown_deletions: int = 0  # deletion notices for posts never stored (ignored)
    lost: int = 0
    dead_lettered: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Pending:
    doc: dict[str, Any]
    replayed: bool = False
    only_existing: bool = False  # a deletion notice: updates a stored post, never creates one
    attempts: int = 0  # earlier failed writes (from the spool)


@dataclass(frozen=True)
class _Sent:
    """A post as one try of a batch wrote it, with what that write would count as."""

    source: dict[str, Any]
    outcome: str
    changes: tuple[int, int]  # (edited, deleted)
    snapshots: list[dict[str, Any]]


class ShardsUnavailableError(TransportError):
    """Stored versions could not be read: a shard of the posts index has no active copy."""


class BulkWriter:
    """Buffers documents and writes them in batches of `batch_size` or every `flush_seconds`.

    With `background=True` (what a crawl uses) a due batch is written by one worker thread, so
    the crawl's event loop keeps downloading meanwhile; batches are still written one at a
    time and in order, and adding waits when more than `BACKLOG` batches pile up.
    """

    BACKLOG = 4

    def __init__(  # noqa: PLR0917 - the documented constructor of the writer
        self,
        client: Elasticsearch,
        names: IndexNames,
        spool_dir: Path,
        batch_size: int = 500,
        flush_seconds: float = 5.0,
        background: bool = False,
        wait_for_active_shards: str = "1",
        spool_is_durable: bool = True,
    ) -> None:
        self.client = client
        #: Whether a spooled document lets checkpoints commit. Not when the crawl state is
        #: shared (kept in Elasticsearch): the next crawl may run on another host, which never
        #: sees this host's spool, so only Elasticsearch's ack makes a document durable there.
        self.spool_is_durable = spool_is_durable
        self.names = names
        self.wait_for_active_shards = wait_for_active_shards
        self.spool = Spool(spool_dir, names.prefix)
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.stats = WriterStats()
        self._rejected: Counter[str] = Counter()
        self._posts: dict[str, _Pending] = {}
        self._activity: dict[str, _Pending] = {}
        self._last_flush = time.monotonic()
        self._buffer_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._worker = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="spreadwatch-writer")
            if background
            else None
        )
        self._in_flight: Future[None] | None = None
        self._callbacks: list[Callable[[], None]] = []
        #: Called with the new post documents of each batch just before it is written (on the
        #: writer's thread in the background): the ingest's stance step, which marks them for the
        #: learned head to label after indexing (`indexer.stance_pending.mark_pending`) or labels
        #: them now (`indexer.stance_enrich`). A failure is logged; the batch is written as it is.
        self.enrich: Callable[[list[dict[str, Any]]], object] | None = None
        #: During a replay's batch: the documents no request brought to the cluster, and why.
        self._cut_off: dict[tuple[str, str], str] | None = None
        self._replay_spool()

    # -- public API ---------------------------------------------------------------------------

    def add_post(self, doc: dict[str, Any]) -> None:
        """Queue a post document (as built by the pipeline); its id is `{platform}:{native_id}`.

        A document without `@timestamp` is partial (a deletion notice): it updates a stored post
        and is ignored, counted as `unknown_deletions`, when there is none.
        """
        with self._buffer_lock:
            self._queue(POST, doc)
        self.flush_if_due()

    def add_activity(self, doc: dict[str, Any]) -> None:
        """Queue an activity point; id `{platform}:{event}:{native_id}` unless `_id` is given."""
        with self._buffer_lock:
            self._queue(ACTIVITY, doc)
        self.flush_if_due()

    def after_durable(self, fn: Callable[[], None]) -> None:
        """Run `fn` once every document added so far is durable (never, if any was lost).

        It runs after the flush that writes those documents, on the writer's thread when the
        writer works in the background; it must not raise (it is logged if it does).
        """
        with self._buffer_lock:
            self._callbacks.append(fn)

    def flush(self) -> None:
        """Write everything buffered now (posts first, then activity including snapshots)."""
        with self._flush_lock:
            with self._buffer_lock:
                posts, self._posts = self._posts, {}
                activity, self._activity = self._activity, {}
                callbacks, self._callbacks = self._callbacks, []
                self._last_flush = time.monotonic()
            spooled_before = self.stats.spooled
            self._enrich(posts)
            try:
                if posts:
                    activity.update(self._flush_posts(posts))
                if activity:
                    self._flush_activity(activity)
            except Exception:  # not known to be stored, so never vouched for by a checkpoint
                logger.exception("writing a batch failed; its documents count as lost")
                with self._stats_lock:
                    self.stats.lost += len(posts) + len(activity)
            if callbacks and not self.spool_is_durable and self.stats.spooled > spooled_before:
                logger.warning(
                    "%d documents are only in this host's spool: %d checkpoints not committed "
                    "(the next crawl fetches their part again; ids dedupe)",
                    self.stats.spooled - spooled_before, len(callbacks),
                )  # fmt: skip
                with self._stats_lock:
                    self.stats.checkpoints_held += len(callbacks)
                return
            self._run_callbacks(callbacks)

    def _enrich(self, posts: dict[str, _Pending]) -> None:
        fresh = [p.doc for p in posts.values() if not (p.replayed or p.only_existing)]
        if self.enrich is None or not fresh:
            return
        try:
            self.enrich(fresh)
        except Exception:  # the provisional fields stay: a document is never held back for it
            logger.exception("enriching a batch of %d posts failed", len(fresh))

    def _run_callbacks(self, callbacks: list[Callable[[], None]]) -> None:
        if not callbacks:
            return
        if self.stats.lost:
            logger.error(
                "%d documents lost: %d checkpoints not committed", self.stats.lost, len(callbacks)
            )
            return
        for fn in callbacks:
            try:
                fn()
            except Exception:
                logger.exception("a callback after a durable write failed")

    def flush_if_due(self) -> None:
        """Flush when the batch is full or older than `flush_seconds` (a crawl's timer calls this)."""
        size = len(self._posts) + len(self._activity)
        overdue = time.monotonic() - self._last_flush >= self.flush_seconds
        if not (size >= self.batch_size or ((size or self._callbacks) and overdue)):
            return
        if self._worker is None:
            self.flush()
            return
        busy = self._in_flight is not None and not self._in_flight.done()
        must_wait = size >= self.BACKLOG * self.batch_size or self.flush_seconds <= 0
        if busy and must_wait and self._in_flight is not None:  # no write-at-once is skipped
            self._in_flight.result()  # the crawl must not outrun the cluster
            busy = False
        if not busy:
            self._in_flight = self._worker.submit(self.flush)

    def close(self) -> WriterStats:
        """Flush what is left, stop the worker, and return the totals."""
        if self._in_flight is not None:
            self._in_flight.result()
        self.flush()
        if self._worker is not None:
            self._worker.shutdown(wait=True)
        self.stats.rejected_by_reason = dict(self._rejected)
        return self.stats

    # -- queueing -----------------------------------------------------------------------------

    def _queue(
        self, kind: str, doc: dict[str, Any], replayed: bool = False, attempts: int = 0
    ) -> None:
        """Add to the buffers (caller holds the buffer lock)."""
        buffer = self._posts if kind == POST else self._activity
        self._add_to(buffer, kind, doc, replayed, attempts)

    def _add_to(
        self,
        buffer: dict[str, _Pending],
        kind: str,
        doc: dict[str, Any],
        replayed: bool = False,
        attempts: int = 0,
    ) -> None:
        doc_id = doc_id_of(kind, doc)
        doc = {k: v for k, v in doc.items() if k != "_id"}
        if doc_id is None:
            self._spool_rejected(kind, [_Pending(doc, attempts=attempts)], "missing_id")
            return
        only_existing = kind == POST and "@timestamp" not in doc
        earlier = buffer.get(doc_id)
        if earlier is not None and kind == POST:
            doc = merge_post(earlier.doc, doc)
            only_existing = only_existing and earlier.only_existing
        replayed = replayed and (earlier is None or earlier.replayed)
        attempts = max(attempts, earlier.attempts if earlier is not None else 0)
        buffer[doc_id] = _Pending(doc, replayed, only_existing, attempts)

    # -- posts --------------------------------------------------------------------------------

    def _flush_posts(self, batch: dict[str, _Pending]) -> dict[str, _Pending]:
        """Write a batch of posts; returns the engagement snapshots it calls for.

        Each post is written only over the version its merge was made from (or created only if
        there was none): another writer (a parallel crawl, the stream) may store the same post
        between this one's read and write. Such a post is read and merged again, so neither
        write is lost; still changing after `CONFLICT_ATTEMPTS` merges, it waits in the spool.
        A conflict may also be this writer's own write: the node that took the bulk request died
        before it replied, the client sent it again to another node, and that found the post
        already written. Read again, the post is then exactly what was sent (`sent`): it counts
        once, as what that write was (new, updated), not as unchanged.
        """
        snapshots: dict[str, _Pending] = {}
        sent: dict[str, _Sent] = {}
        todo = dict(batch)
        for _ in range(CONFLICT_ATTEMPTS):
            conflicts = self._merge_and_write(todo, snapshots, sent)
            if not conflicts:
                return snapshots
            logger.info(
                "%d posts were written by someone else meanwhile; merging them again",
                len(conflicts),
            )
            todo = {i: batch[i] for i in conflicts}
        self._spool_batch(POST, todo, f"refused_409: {CONFLICT}: still changing after {CONFLICT_ATTEMPTS} merges")  # fmt: skip
        return snapshots

    def _merge_and_write(
        self, batch: dict[str, _Pending], snapshots: dict[str, _Pending], sent: dict[str, _Sent]
    ) -> list[str]:
        """Read, merge and write `batch` once; returns the ids that met a newer stored version.
        `sent` holds what earlier tries of this batch wrote, and gains what this one writes."""
        try:
            stored = self._stored_posts(list(batch))
        except (TransportError, ApiError) as error:
            self._not_reached(POST, batch, error)
            self._spool_batch(POST, batch, _failure_reason(error))
            return []
        except Exception as error:  # e.g. a stored document we cannot read: keep the batch
            logger.exception("unexpected failure reading %s stored posts", len(batch))
            self._spool_batch(POST, batch, f"error: {type(error).__name__}: {error}")
            return []
        landed = self._own_writes(batch, stored, sent, snapshots)
        actions, outcomes, changes, wanted = [], {}, {}, {}
        for doc_id, pending in list(batch.items()):
            if doc_id in landed:
                continue
            found = stored.get(doc_id)
            previous = found.source if found is not None else None
            if previous is None and pending.only_existing:
                logger.info("deletion notice for %s, which was never stored; ignored", doc_id)
                self.stats.unknown_deletions += 1
                del batch[doc_id]
                continue
            merged = pending.doc if previous is None else merge_post(previous, pending.doc)
            merged = with_stems(merged)
            outcomes[doc_id] = outcome(previous, merged)
            changes[doc_id] = _changes(previous, merged)
            wanted[doc_id] = engagement_snapshots(doc_id, previous, merged)
            actions.append(
                {"_index": self.names.posts, "_id": doc_id, "_source": merged}
                | bulk_condition(found)
            )
        for action in actions:
            doc_id = action["_id"]
            sent[doc_id] = _Sent(
                action["_source"], outcomes[doc_id], changes[doc_id], wanted[doc_id]
            )
        written, conflicts = self._bulk(POST, actions, batch)
        for doc_id in written:
            self._count_written(sent[doc_id], batch[doc_id].replayed)
        for doc_id in set(wanted) - set(conflicts):
            for snapshot in wanted[doc_id]:
                self._add_to(snapshots, ACTIVITY, snapshot)
        return conflicts

    def _own_writes(
        self,
        batch: dict[str, _Pending],
        stored: dict[str, Versioned],
        sent: dict[str, _Sent],
        snapshots: dict[str, _Pending],
    ) -> set[str]:
        """The posts of `batch` stored exactly as an earlier try of this batch sent them: that
        write landed though its reply was lost. They are counted as written and left out of
        this try. (Another writer storing the very same document, crawl times included, would
        be taken for this one's write: both then count it.)"""
        landed = {
            doc_id
            for doc_id in batch
            if doc_id in sent
            and doc_id in stored
            and stored[doc_id].source == self._as_stored(sent[doc_id].source)
        }
        if landed:
            logger.info(
                "%d posts were already stored as this writer sent them (a reply lost, the request "
                "sent again): counted once",
                len(landed),
            )
        for doc_id in landed:
            self._count_written(sent[doc_id], batch[doc_id].replayed)
            for snapshot in sent[doc_id].snapshots:
                self._add_to(snapshots, ACTIVITY, snapshot)
        return landed

    def _count_written(self, write: _Sent, replayed: bool) -> None:
        self._count_outcome(write.outcome, replayed)
        edited, deleted = write.changes
        self.stats.edited += edited
        self.stats.deleted += deleted

    def _as_stored(self, source: dict[str, Any]) -> Any:
        """`source` as Elasticsearch keeps it (through the client's JSON serializer), so that
        it compares equal to what a later read returns."""
        serializer = self.client.transport.serializers.get_serializer("application/json")
        return json.loads(serializer.dumps(source))

    def _stored_posts(self, ids: list[str]) -> dict[str, Versioned]:
        response = self.client.mget(index=self.names.posts, ids=ids)
        failed = [d for d in response["docs"] if "error" in d]
        if failed:
            # Unknown is not "new": merging against nothing would reset first_seen.
            error = failed[0]["error"]
            reason = error.get("type", "error") if isinstance(error, dict) else error
            raise ShardsUnavailableError(f"{len(failed)} stored posts unreadable: {reason}")
        return {
            d["_id"]: Versioned(d["_source"], int(d["_seq_no"]), int(d["_primary_term"]))
            for d in response["docs"]
            if d.get("found")
        }

    def _count_outcome(self, outcome: str, replayed: bool) -> None:
        if outcome == "new":
            self.stats.indexed_new += 1
        elif outcome == "updated":
            self.stats.updated += 1
        else:
            self.stats.unchanged += 1
        if replayed:
            self.stats.spool_replayed += 1

    # -- activity -----------------------------------------------------------------------------

    def _flush_activity(self, batch: dict[str, _Pending]) -> None:
        actions = [
            {"_index": self.names.activity, "_id": doc_id, "_source": pending.doc}
            for doc_id, pending in batch.items()
        ]
        written, conflicts = self._bulk(ACTIVITY, actions, batch)
        self._spool_batch(ACTIVITY, {i: batch[i] for i in conflicts}, f"refused_409: {CONFLICT}")
        self.stats.activity_written += len(written)
        self.stats.spool_replayed += sum(1 for i in written if batch[i].replayed)

    # -- bulk and spool -----------------------------------------------------------------------

    def _bulk(
        self, kind: str, actions: list[dict[str, Any]], batch: dict[str, _Pending]
    ) -> tuple[list[str], list[str]]:
        """Write actions; spool every document that did not make it, except those refused for a
        version conflict. Returns (written ids, conflicting ids)."""
        try:
            return self._bulk_once(kind, actions, batch)
        except SerializationError:
            good = [a for a in actions if _serialisable(a["_source"])]
            good_ids = {a["_id"] for a in good}
            bad = {a["_id"]: batch[a["_id"]] for a in actions if a["_id"] not in good_ids}
            self._spool_batch(kind, bad, "content: serialization: not representable as JSON")
            return self._bulk_once(kind, good, batch) if good else ([], [])
        except (TransportError, ApiError) as error:
            self._not_reached(kind, batch, error)
            self._spool_batch(kind, batch, _failure_reason(error))
            return [], []
        except Exception as error:  # the boundary where a batch would otherwise be lost
            logger.exception("unexpected failure writing %s %s documents", len(actions), kind)
            self._spool_batch(kind, batch, f"error: {type(error).__name__}: {error}")
            return [], []

    def _bulk_once(
        self, kind: str, actions: list[dict[str, Any]], batch: dict[str, _Pending]
    ) -> tuple[list[str], list[str]]:
        """Write, retrying documents refused while their shard has no active copy."""
        written: list[str] = []
        conflicts: list[str] = []
        for delay in (*RETRY_DELAYS, None):
            done, refused, retry, conflicted = self._bulk_attempt(kind, actions)
            written += done
            conflicts += conflicted
            for reason, ids in refused.items():
                self._spool_batch(kind, {i: batch[i] for i in ids}, reason)
            if not retry:
                return written, conflicts
            if delay is None:  # out of attempts: the spool keeps them for the next writer
                for reason, ids in retry.items():
                    self._spool_batch(kind, {i: batch[i] for i in ids}, reason)
                return written, conflicts
            waiting = {i for ids in retry.values() for i in ids}
            logger.warning(
                "%s %s documents not written (%s); again in %.0fs",
                len(waiting),
                kind,
                "; ".join(retry)[:300],
                delay,
            )
            time.sleep(delay)
            actions = [a for a in actions if a["_id"] in waiting]
        return written, conflicts

    def _bulk_attempt(
        self, kind: str, actions: list[dict[str, Any]]
    ) -> tuple[list[str], dict[str, list[str]], dict[str, list[str]], list[str]]:
        """One bulk request: (written ids, refused ids by reason, retryable ids by reason,
        ids refused for a version conflict)."""
        written: list[str] = []
        refused: dict[str, list[str]] = {}
        retry: dict[str, list[str]] = {}
        conflicts: list[str] = []
        try:
            for ok, info in helpers.streaming_bulk(
                self.client,
                actions,
                chunk_size=max(len(actions), 1),
                raise_on_error=False,
                raise_on_exception=False,
                max_retries=2,
                initial_backoff=1,
                wait_for_active_shards=self.wait_for_active_shards,
                timeout=SHARD_WAIT,
            ):
                result = next(iter(info.values()))  # {"index"|"create": {...}}
                if ok:
                    written.append(result["_id"])
                elif _conflict(result):
                    conflicts.append(result["_id"])
                else:
                    target = retry if _retryable(result) else refused
                    target.setdefault(_item_reason(result), []).append(result["_id"])
        except SerializationError:
            raise
        except (TransportError, ApiError) as error:
            # The client already tried every node: the cluster is unreachable, spool now.
            done = {*written, *conflicts} | {i for ids in refused.values() for i in ids}
            missing = [a["_id"] for a in actions if a["_id"] not in done]
            self._not_reached(kind, missing, error)
            refused.setdefault(_failure_reason(error), []).extend(missing)
        return written, refused, retry, conflicts

    def _not_reached(self, kind: str, ids: Iterable[str], error: Exception) -> None:
        """Note, during a replay, documents a request failed whole for because no node could
        be reached: no answer at all, or a gateway's or an overloaded node's (429, 5xx). A
        refusal of this request (a 413 for a batch too large, a 400) comes from a cluster that
        answers, at once: the replay goes on to the next batch rather than stop every start
        there; stored posts read in part (`ShardsUnavailableError`) are not noted either."""
        if self._cut_off is not None and _unreachable(error):
            reason = _failure_reason(error)
            self._cut_off.update(((kind, doc_id), reason) for doc_id in ids)

    def _spool_batch(self, kind: str, batch: dict[str, _Pending], reason: str) -> None:
        if not batch:
            return
        logger.warning(
            "spooling %s %s documents to %s: %s", len(batch), kind, self.spool.path, reason
        )
        self._spool_rejected(kind, list(batch.values()), reason)

    def _spool_rejected(self, kind: str, pending: list[_Pending], reason: str) -> None:
        """Spool what could not be written; a document refused for its content a second time
        goes to the dead letters instead (listed by `status`, never replayed again)."""
        now = datetime.now(UTC).isoformat()
        entries = [
            (SpoolEntry(kind, p.doc, reason, spooled_at=now, attempts=p.attempts + 1), p.replayed)
            for p in pending
        ]
        if _is_content(reason):
            self._dead_letters([e for e, _ in entries if e.attempts >= DEAD_AFTER])
            entries = [(e, replayed) for e, replayed in entries if e.attempts < DEAD_AFTER]
        if not entries:
            return
        try:
            # During a replay what it read waits apart until it ends (`Spool.append`); what it
            # made (a replayed post's engagement snapshots) is in no spool file: set apart, a
            # replay that died would take it along, so it goes to the spool at once.
            written = self.spool.append(e for e, replayed in entries if replayed)
            written += self.spool.append_new(e for e, replayed in entries if not replayed)
        except OSError as error:  # full or read-only disk: these documents exist nowhere now
            logger.error(
                "LOST %d %s documents: the spool %s cannot be written (%s); they were not "
                "stored (%s)",
                len(entries), kind, self.spool.path, error, reason,
            )  # fmt: skip
            with self._stats_lock:
                self.stats.lost += len(entries)
            return
        with self._stats_lock:
            self.stats.spooled += written
            self._rejected[reason.split(":", 1)[0]] += len(entries)

    def _dead_letters(self, entries: list[SpoolEntry]) -> None:
        if not entries:
            return
        logger.error(
            "%d documents refused for their content again; kept as dead letters in %s",
            len(entries), self.spool.dead_path,
        )  # fmt: skip
        try:
            self.spool.append_dead(entries)
        except OSError as error:
            logger.error("LOST %d dead letters: %s cannot be written (%s)", len(entries), self.spool.dead_path, error)  # fmt: skip
            with self._stats_lock:
                self.stats.lost += len(entries)
            return
        with self._stats_lock:
            self.stats.dead_lettered += len(entries)

    def _replay_spool(self) -> None:
        """Write what earlier writers spooled, `batch_size` at a time like any crawl: after a
        long outage the spool can hold more than one bulk request (or memory) should.

        The replay stops at the first batch none of whose documents reached the cluster:
        against one that takes connections and never answers, every further batch would wait
        out the client's timeouts before the writer could start its work. What it did not try
        goes back to the spool after that batch, oldest first, for the next writer.
        """
        lost_before = self.stats.lost
        entries = self.spool.take_for_replay()
        tried = 0  # entries of the batches before the one that stopped it
        stopped: tuple[int, str] | None = None
        for number, batch in enumerate(_batched(entries, self.batch_size)):
            if number == 0:
                logger.info("replaying spooled documents from %s", self.spool.replay_path)
            stopped = self._replay_batch(batch)
            if stopped is not None:
                break
            tried += len(batch)
        if self.stats.lost == lost_before:
            try:
                left = self.spool.finish_replay(entries)
            except OSError as error:
                logger.error("giving the spool replay's rest back failed: %s", error)
            else:
                self._replay_ended(tried, left, stopped)
                return
        # What could not be spooled again is still in the replay file: not lost, kept for the
        # next writer (this process's next one too: it takes over a replay given up).
        logger.error("the spool replay could not be completed; %s is kept", self.spool.replay_path)
        self.spool.abandon_replay()
        self.stats.lost = lost_before

    def _replay_batch(self, batch: list[SpoolEntry]) -> tuple[int, str] | None:
        """Write one batch of spooled entries; when none reached the cluster: how many were
        spooled again, and why."""
        with self._buffer_lock:
            for entry in batch:
                self._queue(entry.kind, entry.doc, replayed=True, attempts=entry.attempts)
            queued = {(POST, i) for i in self._posts} | {(ACTIVITY, i) for i in self._activity}
        self._cut_off = {}
        try:
            self.flush()
        finally:
            cut_off, self._cut_off = self._cut_off, None
        if not queued or not queued.issubset(cut_off):
            return None
        return len(queued), cut_off[next(iter(queued))]

    def _replay_ended(self, tried: int, left: int, stopped: tuple[int, str] | None) -> None:
        if stopped is None:
            if tried:
                logger.info("%s spooled documents replayed", tried)
            return
        again, reason = stopped
        self.stats.spool_left += left
        logger.warning(
            "spool replay stopped: Elasticsearch could not be reached (%s); %d spooled again and "
            "%d not tried are left in %s for the next writer (%d tried before)",
            reason, again, left, self.spool.path, tried,
        )  # fmt: skip


def _batched(entries: Iterator[SpoolEntry], size: int) -> Iterator[list[SpoolEntry]]:
    """Consecutive lists of up to `size` entries (itertools.batched needs Python 3.12)."""
    while batch := list(islice(entries, max(size, 1))):
        yield batch


# -- pure helpers (also used by migrations and tests) ------------------------------------------


def doc_id_of(kind: str, doc: dict[str, Any]) -> str | None:
    """The deterministic id of a document, or None when it lacks the parts."""
    if doc.get("_id"):
        return str(doc["_id"])
    platform, native = doc.get("platform"), doc.get("native_id")
    if not platform or native in (None, ""):
        return None
    if kind == POST:
        return f"{platform}:{native}"
    event = doc.get("event")
    return f"{platform}:{event}:{native}" if event else None


def _changes(previous: dict[str, Any] | None, merged: dict[str, Any]) -> tuple[int, int]:
    """(1 if this write records an edit, 1 if it newly marks the post deleted)."""
    previous = previous or {}
    edited = bool(merged.get("edited_at")) and merged.get("edited_at") != previous.get("edited_at")
    deleted = bool(merged.get("deleted_at")) and not previous.get("deleted_at")
    return int(edited), int(deleted)


def _unreachable(error: Exception) -> bool:
    """No node answered the request, or only a gateway or an overloaded node did."""
    if isinstance(error, ShardsUnavailableError):
        return False
    if isinstance(error, ApiError):
        return error.meta.status == 429 or error.meta.status >= 500
    return isinstance(error, TransportError)


def _conflict(result: dict[str, Any]) -> bool:
    error = result.get("error")
    return isinstance(error, dict) and error.get("type") == CONFLICT


def _retryable(result: dict[str, Any]) -> bool:
    error = result.get("error")
    kind = error.get("type") if isinstance(error, dict) else None
    return result.get("status") in RETRY_STATUSES or kind in RETRY_ERRORS


def _item_reason(result: dict[str, Any]) -> str:
    error = result.get("error")
    status = result.get("status")
    if isinstance(error, dict):
        kind = error.get("type", "error")
        detail = str(error.get("reason", ""))[:300]
        prefix = "content" if kind in CONTENT_ERRORS else f"refused_{status}"
        return f"{prefix}: {kind}: {detail}"
    return f"refused_{status}: {error}"


def _serialisable(doc: dict[str, Any]) -> bool:
    try:
        json.dumps(doc)
    except (TypeError, ValueError):
        return False
    return True


#: A document refused for its content this many times is a dead letter, not retried.
DEAD_AFTER = 2


def _is_content(reason: str) -> bool:
    """Refusals that retrying cannot fix: the document itself is wrong."""
    return reason.startswith(("content", "missing_id"))


def _failure_reason(error: Exception) -> str:
    if isinstance(error, ApiError):
        return f"refused_{error.meta.status}: {error.message}"
    return f"unreachable: {type(error).__name__}: {getattr(error, 'message', error)}"
