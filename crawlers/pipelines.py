"""Item pipelines: validate → normalise → match → stance → fingerprint → capture → index.

Spiders yield `crawlers.items.Post` / `Activity`. Validation and normalisation turn them into
the plain documents the index stores (`PostDoc` / `ActivityDoc`, dicts); later stages add to the
document; the last hands it to `indexer.writer.BulkWriter`. A bad item is a `DropItem` with a
reason, counted as `spreadwatch/dropped/<reason>` in the crawl stats, never a silent skip.

What the pipelines share (incident, settings, run id) comes from `crawlers.context`, built once
per crawl: from the Settings object the CLI passed as `SPREADWATCH_SETTINGS`, else
`load_settings()` when run by `scrapy crawl`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.reactor import is_reactor_installed
from twisted.internet import task

from crawlers.capture import CaptureStage
from crawlers.context import CrawlContext, crawl_context
from crawlers.exchange import attach, exchange_attached
from crawlers.items import Activity, Post
from crawlers.normalise import (
    NormaliseError,
    canonical_url,
    clean_text,
    domain_of,
    html_to_text,
    language,
    to_utc_iso,
)
from indexer.connection import ConnectionFailedError, IndexNames, make_client
from indexer.documents import KINDS
from indexer.fingerprint import fingerprint_fields
from indexer.matching import Matcher
from indexer.stance import StanceInput, classify
from indexer.templates import ShardLayout, init
from indexer.writer import BulkWriter

logger = logging.getLogger(__name__)

DROP_STAT = "spreadwatch/dropped/{}"


class PostDoc(dict[str, Any]):
    """A post on its way to the index; flags that are not stored live as attributes."""

    always_keep: bool = False


class ActivityDoc(dict[str, Any]):
    """An activity point on its way to the index."""


class ItemDropped(DropItem):
    """A drop whose `reason` is the stat slug; logged at INFO without the item's text."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}", log_level="INFO")
        self.reason = reason


class _Stage:
    """Shared plumbing: the crawler, its context and drop counting."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> _Stage:
        return cls(crawler)

    @property
    def context(self) -> CrawlContext:
        return crawl_context(self.crawler)

    def drop(self, reason: str, detail: str) -> ItemDropped:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(DROP_STAT.format(reason))
        return ItemDropped(reason, detail)


class ValidatePipeline(_Stage):
    """Reject items that cannot become a document: wrong type, no id, no content, bad kind."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Post):
            self._check_post(item)
        elif isinstance(item, Activity):
            self._check_activity(item)
        elif not isinstance(item, PostDoc | ActivityDoc):
            raise self.drop("unknown_item", f"{type(item).__name__} is not a Post or Activity")
        return item

    def _check_post(self, item: Post) -> None:
        self._require(item, ("platform", "native_id"))
        if item.kind not in KINDS:
            raise self.drop("bad_kind", f"kind {item.kind!r} is not one of {', '.join(KINDS)}")
        if not (_has_text(item.text) or _has_text(item.title) or item.deleted_how):
            raise self.drop("empty", f"{item.doc_id} has neither title nor text")

    def _check_activity(self, item: Activity) -> None:
        self._require(item, ("platform", "event", "native_id"))

    def _require(self, item: Any, fields: tuple[str, ...]) -> None:
        adapter = ItemAdapter(item)
        for name in fields:
            value = adapter.get(name)
            if value is None or isinstance(value, bool) or not str(value).strip():
                raise self.drop(f"missing_{name}", f"{type(item).__name__} without {name}")


class NormalisePipeline(_Stage):
    """Items → documents: text from HTML, UTC times, language, canonical URLs, official flag."""

    def process_item(self, item: Any) -> Any:
        try:
            if isinstance(item, Post):
                return self._post(item)
            if isinstance(item, Activity):
                return self._activity(item)
        except NormaliseError as error:
            raise self.drop(error.reason, str(error)) from None
        except (TypeError, ValueError, AttributeError) as error:
            # A spider filled a field with the wrong type: count it, never crash the crawl.
            logger.warning("cannot normalise %s: %r", type(item).__name__, error)
            raise self.drop("bad_field", f"{type(error).__name__}: {error}") from None
        return item

    def _post(self, item: Post) -> PostDoc:
        raw_text, raw_title = _text(item.text), _text(item.title)
        text = html_to_text(raw_text) if item.text_is_html else clean_text(raw_text)
        title = clean_text(html_to_text(raw_title) if "<" in raw_title else raw_title)
        url = canonical_url(item.url)
        doc = PostDoc(
            {
                "@timestamp": to_utc_iso(item.timestamp),
                "platform": str(item.platform).strip(),
                "native_id": str(item.native_id).strip(),
                "kind": item.kind,
                "url": url,
                "title": title or None,
                "text": text,
                "lang": language(f"{title}\n{text}", item.lang, tuple(self.context.languages)),
                "hashtags": _unique(h.lstrip("#") for h in _strings(item.hashtags)),
                "mentions": _unique(m.lstrip("@") for m in _strings(item.mentions)),
                "links": _unique(canonical_url(link) for link in _strings(item.links)),
                "domain": item.domain or domain_of(url),
                "repo": item.repo,
                "reply_to": item.reply_to,
                "quote_of": item.quote_of,
                "repost_of": item.repost_of,
                "thread": item.thread,
                "engagement": _counts(_fields(item.engagement)),
                "author": self._author(item, url),
            }
        )
        # reach: the audience the post went out to (analytics, search and Kibana sum it)
        followers = doc["author"].get("followers")
        if isinstance(followers, int):
            doc["reach"] = followers
        doc.always_keep = item.always_keep or doc["author"]["official"]
        attach(doc, exchange_attached(item))
        if item.deleted_how:
            doc["deleted_how"] = item.deleted_how
        if item.source_query:
            doc["source"] = {"query": item.source_query}
        return doc

    def _author(self, item: Post, url: str | None) -> dict[str, Any]:
        author = {k: v for k, v in _fields(item.author).items() if v not in (None, "")}
        handle, author_id = author.get("handle"), author.get("id")
        official = self.context.official
        author["official"] = bool(
            item.official
            or author.get("official")
            or (
                official is not None
                and (
                    official.is_official(item.platform, handle, author_id)
                    or official.is_official_url(url)
                )
            )
        )
        return author

    def _activity(self, item: Activity) -> ActivityDoc:
        return ActivityDoc(
            {
                "@timestamp": to_utc_iso(item.timestamp),
                "platform": item.platform,
                "event": item.event,
                "native_id": str(item.native_id),
                "repo": item.repo,
                "actor": item.actor,
                "post_id": item.post_id,
                "engagement": _counts(_fields(item.engagement)),
            }
        )


class MatchPipeline(_Stage):
    """Which queries and claims a post matches; posts matching none are dropped as `no_match`
    unless the spider asked to keep them (watched repos) or they are official."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._matcher: Matcher | None = None

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PostDoc):
            return item
        if self._matcher is None:
            self._matcher = Matcher(self.context.incident)
        result = self._matcher.match(item.get("title"), item.get("text"))
        official = bool(item["author"].get("official"))
        if not result.matched and not item.always_keep and not item.get("deleted_how"):
            raise self.drop("no_match", f"{item['platform']}:{item['native_id']}")
        item["matched"] = {"queries": result.queries, "claims": result.claims, "official": official}
        return item


class StancePipeline(_Stage):
    """Stance towards the rumour, from `indexer.stance.classify`."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PostDoc):
            return item
        matched = item.get("matched") or {}
        stance = classify(
            StanceInput(
                text=item.get("text") or "",
                title=item.get("title"),
                lang=item.get("lang"),
                platform=item["platform"],
                kind=item["kind"],
                official=bool(item["author"].get("official")),
                claims=tuple(matched.get("claims") or ()),
                domain=item.get("domain"),
            )
        )
        item.update(stance=stance.label, stance_score=stance.score, stance_cues=stance.cues)
        return item


class FingerprintPipeline(_Stage):
    """Near-duplicate signature for copy-paste tracking."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PostDoc):
            item.update(fingerprint_fields(item.get("title"), item.get("text")))
        return item


class CapturePipeline(_Stage):
    """Archives the raw exchange of a matching post at first sight and when its text changes."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.stage: CaptureStage | None = None

    def open_spider(self) -> None:
        self.stage = CaptureStage.open(self.context)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PostDoc) and self.stage is not None:
            self.stage.process(item)
        return item

    def close_spider(self) -> None:
        if self.stage is None:
            return
        stats = self.crawler.stats
        assert stats is not None
        for key, value in self.stage.close().items():
            stats.set_value(f"spreadwatch/evidence/{key}", value)


class IndexPipeline(_Stage):
    """Hands documents to the bulk writer; its totals go into the crawl stats at close."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.writer: BulkWriter | None = None
        self._ticker: task.LoopingCall | None = None

    def open_spider(self) -> None:
        context = self.context
        settings = context.settings
        names = IndexNames(settings.index_prefix)
        client = _client(context)
        self.writer = BulkWriter(
            client,
            names,
            settings.data_dir / "spool",
            batch_size=context.batch_size,
            flush_seconds=context.flush_seconds,
            background=True,  # batches are written while the crawl keeps downloading
            wait_for_active_shards=settings.es_wait_for_active_shards,
        )
        if is_reactor_installed():  # a quiet crawl still writes its batch on time
            self._ticker = task.LoopingCall(self.writer.flush_if_due)
            self._ticker.start(max(context.flush_seconds, 0.5), now=False)

    def process_item(self, item: Any) -> Any:
        assert self.writer is not None
        context = self.context
        now = datetime.now(UTC).isoformat()
        if isinstance(item, PostDoc) and item.get("deleted_how") and not item.get("text"):
            self.writer.add_post(deletion_notice(item, now))
        elif isinstance(item, PostDoc):
            source = {
                "spider": context.spider_name,
                "run": context.run_id,
                **item.get("source", {}),
            }
            doc = {k: v for k, v in item.items() if v not in (None, "", [], {})}
            doc.update(incident=[context.incident.id], first_seen=now, last_seen=now, source=source)
            if doc.get("deleted_how"):  # gone in part (e.g. its author's account): text kept
                doc["deleted_at"] = now
            self.writer.add_post(doc)
        elif isinstance(item, ActivityDoc):
            doc = {k: v for k, v in item.items() if v not in (None, "", [], {})}
            doc.update(
                incident=[context.incident.id],
                source={"spider": context.spider_name, "run": context.run_id},
            )
            self.writer.add_activity(doc)
        return item

    def close_spider(self) -> None:
        if self._ticker is not None and self._ticker.running:
            self._ticker.stop()
        if self.writer is None:
            return
        stats = self.writer.close()
        crawler_stats = self.crawler.stats
        assert crawler_stats is not None
        for key, value in stats.as_dict().items():
            if key == "rejected_by_reason":
                for reason, count in value.items():
                    crawler_stats.set_value(f"spreadwatch/rejected/{reason}", count)
            else:
                crawler_stats.set_value(f"spreadwatch/writer/{key}", value)


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


def _client(context: CrawlContext) -> Elasticsearch:
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


def _text(value: Any) -> str:
    """A text field as a string (None → empty; numbers as their digits)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected text, got {type(value).__name__}")


def _strings(values: Any) -> list[str]:
    """A list field (hashtags, mentions, links) as strings; None or a lone string tolerated."""
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    return [v for v in values if isinstance(v, str)]


def _fields(value: Any) -> dict[str, Any]:
    """A nested item part (Author, Engagement) as a dict, whether dataclass, dict or None."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    return dict(ItemAdapter(value).items()) if ItemAdapter.is_item(value) else dict(vars(value))


def _has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _counts(engagement: dict[str, Any]) -> dict[str, int]:
    """Engagement counts that make sense (non-negative integers); anything else is left out."""
    clean = {}
    for key, value in engagement.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            continue
        clean[key] = int(value)
    return clean
