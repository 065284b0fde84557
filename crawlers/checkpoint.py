"""Checkpoints after durability: a response's state change commits once what it led to is stored.

A spider mutates `self.state` while its callbacks run (`crawlers.state`); this spider middleware
records the operations of each callback's output into that response's node and commits the
node's delta only when all of these hold:

- the callback's output is exhausted without an exception;
- every item it yielded has left the item pipelines (scraped or deliberately dropped; an
  `item_error` poisons the node);
- every request it yielded has completed the same way, transitively: page 1's ETag and since
  value wait for page 2, 3, ... and for follow-ups such as Bluesky's profile lookups whose
  callbacks yield the posts. A request the dupe filter drops counts as done (its URL is fetched
  by another request), a request ignored on purpose (robots.txt, the address guard) too;
- then the index stage's writer says everything added before is durable (acked by
  Elasticsearch, or fsync'd to the spool when the state store is the host's own file):
  `BulkWriter.after_durable`.

A node that fails (callback exception, pipeline error, a request that never got an answer)
commits nothing, nor do its ancestors: the next run fetches that part again and deterministic
ids make the re-fetch an update. A spool write failure stops every later commit (the writer
keeps the callbacks). Without an index stage (a spider run only for its items) a complete node
commits at once. Changes made outside any callback's output are not committed (counted).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawlers.state import CrawlState, Journal, StateDelta, StateStore, recording

logger = logging.getLogger(__name__)

NODE_KEY = "_spreadwatch_checkpoint"
#: Closest to the spider: it must see every step of the callback's own output.
SPIDER_PRIORITY = 1100
#: Downloader side: after RetryMiddleware (550) gave up, before nothing else.
DOWNLOADER_PRIORITY = 50
_SINK_ATTRIBUTE = "_spreadwatch_checkpoint_sink"

AfterDurable = Callable[[Callable[[], None]], None]


@dataclass
class CheckpointSink:
    """Per crawl: where complete deltas go (the index stage attaches its writer here)."""

    after_durable: AfterDurable | None = None
    #: Write what is buffered now, and each document as it comes (a crawl told to stop saves
    #: its work before closing).
    flush: Callable[[], None] | None = None
    closed: bool = False


def checkpoint_sink(crawler: Crawler) -> CheckpointSink:
    """The crawl's sink, made on first use and kept on the crawler."""
    sink = getattr(crawler, _SINK_ATTRIBUTE, None)
    if sink is None:
        sink = CheckpointSink()
        setattr(crawler, _SINK_ATTRIBUTE, sink)
    return sink


@dataclass(eq=False)
class Node:
    """One request's part of the crawl: its callback's changes, waiting for its subtree."""

    parent: Node | None = None
    journal: Journal = field(default_factory=Journal)
    outputs_open: int = 0
    outputs_seen: int = 0
    items: int = 0
    children: int = 0
    failed: bool = False
    done: bool = False

    def complete(self) -> bool:
        return self.outputs_seen > 0 and not (self.outputs_open or self.items or self.children)


class CheckpointMiddleware:
    """Spider middleware (and, under a second name, downloader middleware) of the discipline."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.sink = checkpoint_sink(crawler)
        crawler.signals.connect(self._item_done, signal=signals.item_scraped)
        crawler.signals.connect(self._item_done, signal=signals.item_dropped)
        crawler.signals.connect(self._item_failed, signal=signals.item_error)
        crawler.signals.connect(self._request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)
        self.pending = 0
        #: Sequence of the newest submitted set-operation per (kind, key).
        self.latest: dict[tuple[str, str], int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CheckpointMiddleware:
        existing = getattr(crawler, "_spreadwatch_checkpoint_mw", None)
        if existing is not None:  # one instance serves both middleware chains
            return existing
        middleware = cls(crawler)
        crawler._spreadwatch_checkpoint_mw = middleware  # type: ignore[attr-defined]
        return middleware

    # -- spider side ------------------------------------------------------------------------

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        node = self._enter(response)
        if node is None:
            yield from result
            return
        iterator = iter(result)
        try:
            while True:
                with recording(node.journal):
                    try:
                        output = next(iterator)
                    except StopIteration:
                        break
                yield self._track(node, output)
        except BaseException:
            node.failed = True
            raise
        finally:
            self._leave(node)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        node = self._enter(response)
        if node is None:
            async for output in result:
                yield output
            return
        iterator = aiter(result)
        try:
            while True:
                with recording(node.journal):
                    try:
                        output = await anext(iterator)
                    except StopAsyncIteration:
                        break
                yield self._track(node, output)
        except BaseException:
            node.failed = True
            raise
        finally:
            self._leave(node)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        node = response.meta.get(NODE_KEY) if _has_meta(response) else None
        if isinstance(node, Node):
            node.failed = True

    # -- downloader side: requests that end without a callback ----------------------------------

    def process_exception(self, request: Request, exception: Exception) -> None:
        """A request ignored on purpose is done; any other final failure fails its node, and so
        does an `IgnoreRequest` marked `unfetched` (a rate-limit wait skipped at the deadline: what
        it would have fetched is still to be fetched)."""
        node = request.meta.get(NODE_KEY)
        if not isinstance(node, Node) or node.outputs_seen:
            return
        if isinstance(exception, IgnoreRequest) and not getattr(exception, "unfetched", False):
            node.outputs_seen = 1  # nothing to fetch, nothing to wait for
        else:
            node.failed = True
            node.outputs_seen = 1
        self._settle(node)

    # -- nodes ------------------------------------------------------------------------------

    def _state(self) -> CrawlState | None:
        state = getattr(self.crawler.spider, "state", None)
        return state if isinstance(state, CrawlState) else None

    def _enter(self, response: Response) -> Node | None:
        if self._state() is None or not _has_meta(response):
            return None
        node = response.meta.get(NODE_KEY)
        if not isinstance(node, Node) or node.done:
            node = Node()
            response.meta[NODE_KEY] = node
            self.pending += 1
        node.outputs_open += 1
        node.outputs_seen += 1
        return node

    def _track(self, node: Node, output: Any) -> Any:
        if isinstance(output, Request):
            child = Node(parent=node)
            output.meta[NODE_KEY] = child
            node.children += 1
            self.pending += 1
        elif output is not None:
            node.items += 1
        return output

    def _leave(self, node: Node) -> None:
        node.outputs_open -= 1
        self._settle(node)

    def _item_done(self, item: Any, response: Any, spider: Any = None, **_: Any) -> None:
        node = response.meta.get(NODE_KEY) if _has_meta(response) else None
        if isinstance(node, Node) and node.items > 0:
            node.items -= 1
            self._settle(node)

    def _item_failed(self, item: Any, response: Any, spider: Any = None, **_: Any) -> None:
        node = response.meta.get(NODE_KEY) if _has_meta(response) else None
        if isinstance(node, Node):
            node.failed = True
        self._item_done(item, response)

    def _request_dropped(self, request: Request, spider: Any = None) -> None:
        node = request.meta.get(NODE_KEY)
        if isinstance(node, Node) and not node.outputs_seen:
            node.outputs_seen = 1  # the same URL is fetched by another request
            self._settle(node)

    def _settle(self, node: Node | None) -> None:
        """Finish every node whose subtree is complete, from `node` up towards the root."""
        while node is not None and not node.done and node.complete():
            node.done = True
            node.journal.closed = True
            self.pending -= 1
            parent = node.parent
            if node.failed:
                if parent is not None:
                    parent.failed = True
            else:
                self._submit(node.journal.newest_only(self.latest))
            if parent is None:
                return
            parent.children -= 1
            node = parent

    def _submit(self, delta: StateDelta) -> None:
        if not delta:
            return
        spider = self.crawler.spider
        store: StateStore | None = getattr(spider, "state_store", None)
        if store is None:
            return
        incident_id, source = spider.incident.id, spider.name  # type: ignore[union-attr]

        def commit() -> None:
            try:
                store.commit(incident_id, source, delta)
            except Exception:  # a state not saved costs a re-fetch, never data
                logger.exception("crawl state of %s/%s not committed", incident_id, source)
                self._count("state/commit_failed")
            else:
                self._count("state/commits")

        if self.sink.closed:
            logger.warning("a state change completed after the writer closed; not committed")
            self._count("state/uncommitted")
        elif self.sink.after_durable is not None:
            self.sink.after_durable(commit)
        else:
            commit()

    def _spider_closed(self, spider: Any = None, reason: str = "") -> None:
        state = self._state()
        loose = state.take_loose() if state is not None else StateDelta()
        if loose:
            logger.warning(
                "%d state changes made outside a callback's output were not committed",
                len(loose.ops),
            )
            self._count("state/uncommitted", len(loose.ops))
        if self.pending:
            logger.info("%d responses' state changes not committed (their work is incomplete)", self.pending)  # fmt: skip
            self._count("state/incomplete", self.pending)

    def _count(self, key: str, value: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"spreadwatch/{key}", value)


def _has_meta(response: Any) -> bool:
    return isinstance(response, Response) and response.request is not None
