"""The ingest stages: item → document, as plain functions over an `IngestContext`.

validate → normalise → match → stance → fingerprint, then `crawlers.ingest.core` hands the
document to the bulk writer. The Scrapy pipelines (`crawlers.pipelines`), the Jetstream stream
and the benchmarks all call these functions; none of them needs a crawler. A stage either
returns the item (a `PostDoc`/`ActivityDoc` from normalise on) or raises `Dropped(reason,
detail)`, which its caller counts as `spreadwatch/dropped/<reason>`. Stages are synchronous and
keep no state between items, so items reach the writer in the order they were yielded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from itemadapter import ItemAdapter

from crawlers.bounds import TRUNCATED_STAT, cut, cut_keywords
from crawlers.exchange import attach, exchange_attached
from crawlers.ingest import coerce
from crawlers.ingest.context import IngestContext
from crawlers.items import Activity, Post
from crawlers.normalise import NormaliseError, clean_text, html_to_text, language, to_utc_iso
from indexer.claims import with_claim_stances
from indexer.documents import KEYWORD_MAX_CHARS, KINDS
from indexer.fingerprint import fingerprint_fields
from indexer.matching import belongs
from indexer.stance import StanceInput, classify
from indexer.templates import keyword_paths
from spreadwatch.display import display_line, display_text
from spreadwatch.urls import canonical_url, clean_url, domain_of

logger = logging.getLogger(__name__)

DROP_STAT = "spreadwatch/dropped/{}"


class Dropped(Exception):  # noqa: N818 - it names what happened to the item, like DropItem
    """An item that cannot become a document; `reason` is the stat slug."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    @property
    def stat(self) -> str:
        return DROP_STAT.format(self.reason)


class PostDoc(dict[str, Any]):
    """A post on its way to the index; flags that are not stored live as attributes.

    `notes` are crawl-stats keys a stage wants counted for this document (e.g. a text cut to
    length: `spreadwatch/truncated`); whoever runs the stages counts them with `take_notes`.
    """

    always_keep: bool = False
    notes: list[str]


def take_notes(doc: Any) -> list[str]:
    """The stats keys noted on a document, handed over once (counted by the caller)."""
    notes = list(getattr(doc, "notes", ()) or ())
    if notes:
        doc.notes = []
    return notes


class ActivityDoc(dict[str, Any]):
    """An activity point on its way to the index."""


Stage = Callable[[Any, IngestContext], Any]


# -- validate ------------------------------------------------------------------------------------


def validate(item: Any, context: IngestContext) -> Any:
    """Reject items that cannot become a document: wrong type, no id, no content, bad kind.

    Content is text or a title, or what a post without words still carries: an attached image
    or a shared link, or the post it reposts or quotes (a boost, a Jetstream repost)."""
    if isinstance(item, Post):
        _require(item, ("platform", "native_id"))
        if item.kind not in KINDS:
            raise Dropped("bad_kind", f"kind {item.kind!r} is not one of {', '.join(KINDS)}")
        if not (
            coerce.has_text(item.text)
            or coerce.has_text(item.title)
            or item.deleted_how
            or coerce.strings(item.media)
            or coerce.strings(item.links)
            or item.repost_of
            or item.quote_of
        ):
            raise Dropped("empty", f"{item.doc_id} has no text, title, media, link or repost")
    elif isinstance(item, Activity):
        _require(item, ("platform", "event", "native_id"))
    elif not isinstance(item, PostDoc | ActivityDoc):
        raise Dropped("unknown_item", f"{type(item).__name__} is not a Post or Activity")
    return item


def _require(item: Any, names: tuple[str, ...]) -> None:
    adapter = ItemAdapter(item)
    for name in names:
        value = adapter.get(name)
        if value is None or isinstance(value, bool) or not str(value).strip():
            raise Dropped(f"missing_{name}", f"{type(item).__name__} without {name}")


# -- normalise -----------------------------------------------------------------------------------


def normalise(item: Any, context: IngestContext) -> Any:
    """Items → documents: text from HTML, UTC times, language, canonical URLs, official flag."""
    try:
        if isinstance(item, Post):
            return _post(item, context)
        if isinstance(item, Activity):
            return _activity(item)
    except NormaliseError as error:
        raise Dropped(error.reason, str(error)) from None
    except (TypeError, ValueError, AttributeError) as error:
        # A spider filled a field with the wrong type: count it, never crash the crawl.
        logger.warning("cannot normalise %s: %r", type(item).__name__, error)
        raise Dropped("bad_field", f"{type(error).__name__}: {error}") from None
    return item


#: The keyword fields of each document kind, cut to KEYWORD_MAX_CHARS before indexing.
_KEYWORDS = {kind: keyword_paths(kind) for kind in ("posts", "activity")}


def _post(item: Post, context: IngestContext) -> PostDoc:
    raw_text, raw_title = coerce.text_field(item.text), coerce.text_field(item.title)
    text = html_to_text(raw_text) if item.text_is_html else clean_text(raw_text)
    # A title is HTML only where the item's text is (feeds); `isType<T>()` in an issue title is text.
    title = clean_text(
        html_to_text(raw_title) if item.text_is_html and "<" in raw_title else raw_title
    )
    # Stored as Kibana and every reader will see them: bidi overrides shown, not obeyed.
    text, title = display_text(text), display_line(title)
    cap = context.settings.text_max_chars
    (text, text_cut), (title, title_cut) = cut(text, cap), cut(title, cap)
    url = clean_url(item.url)
    doc = PostDoc(
        {
            "@timestamp": to_utc_iso(item.timestamp),
            "platform": str(item.platform).strip(),
            "native_id": str(item.native_id).strip(),
            "kind": item.kind,
            "url": url,
            # The join key: the same article from Weibo, Reddit and a feed has one value.
            "url_canonical": canonical_url(url),
            "via": clean_url(item.via),
            "title": title or None,
            "text": text,
            "lang": language(f"{title}\n{text}", item.lang, tuple(context.languages)),
            "hashtags": coerce.unique(h.lstrip("#") for h in coerce.strings(item.hashtags)),
            "mentions": coerce.unique(m.lstrip("@") for m in coerce.strings(item.mentions)),
            # Links in the join key's form, so a shared article joins its `url_canonical`.
            "links": coerce.unique(canonical_url(link) for link in coerce.strings(item.links)),
            "media": coerce.unique(clean_url(m) for m in coerce.strings(item.media)),
            "domain": domain_of(item.domain) or domain_of(url),
            "repo": item.repo,
            "reply_to": item.reply_to,
            "quote_of": item.quote_of,
            "repost_of": item.repost_of,
            "thread": item.thread,
            "engagement": coerce.counts(coerce.fields(item.engagement)),
            "author": _author(item, url, context),
        }
    )
    doc.notes = [
        f"{TRUNCATED_STAT}/{name}"
        for name, was in (("text", text_cut), ("title", title_cut))
        if was
    ]
    doc.notes += [f"{TRUNCATED_STAT}/{p}" for p in cut_keywords(doc, _KEYWORDS["posts"], KEYWORD_MAX_CHARS)]  # fmt: skip
    if doc.notes:
        doc["truncated"] = True
        doc.notes.append(TRUNCATED_STAT)
    if item.before_window:
        doc["before_window"] = True
    if item.commit:
        doc["commit"] = item.commit
    # reach: the audience the post went out to (analytics, search and Kibana sum it)
    followers = doc["author"].get("followers")
    if isinstance(followers, int):
        doc["reach"] = followers
    doc.always_keep = item.always_keep or doc["author"]["official"]
    attach(doc, exchange_attached(item))  # the raw exchange travels on to the capture stage
    if item.deleted_how:
        doc["deleted_how"] = item.deleted_how
    if item.source_query:
        doc["source"] = {"query": item.source_query}
    return doc


def _author(item: Post, url: str | None, context: IngestContext) -> dict[str, Any]:
    author = {k: v for k, v in coerce.fields(item.author).items() if v not in (None, "")}
    handle, author_id = author.get("handle"), author.get("id")
    for key in ("name", "handle"):  # shown as labels in Kibana: no controls or bidi tricks
        if isinstance(author.get(key), str):
            author[key] = display_line(author[key])
    official = context.official
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


def _activity(item: Activity) -> ActivityDoc:
    doc = ActivityDoc(
        {
            "@timestamp": to_utc_iso(item.timestamp),
            "platform": item.platform,
            "event": item.event,
            "native_id": str(item.native_id),
            "repo": item.repo,
            "actor": item.actor,
            "post_id": item.post_id,
            "engagement": coerce.counts(coerce.fields(item.engagement)),
            "before_window": item.before_window or None,
        }
    )
    cut_keywords(doc, _KEYWORDS["activity"], KEYWORD_MAX_CHARS)
    return doc


# -- match, stance, fingerprint ------------------------------------------------------------------


def match(doc: Any, context: IngestContext) -> Any:
    """Which queries and claims a post matches (`indexer.matching`); a post that is not the
    incident's is dropped as `no_match` — matching nothing, unless the spider keeps it for its
    context (watched repos, a matched story's comments) and it is not an official source's: an
    official post must match, or be pinned in `official.statements`. Deletion notices pass."""
    if not isinstance(doc, PostDoc):
        return doc
    result = context.matcher.match(doc.get("title"), doc.get("text"))
    official = bool(doc["author"].get("official"))
    pinned = context.official is not None and context.official.is_statement(doc.get("url"))
    keep = belongs(result, official=official, pinned=pinned, kept=doc.always_keep)
    if not keep and not doc.get("deleted_how"):
        raise Dropped("no_match", f"{doc['platform']}:{doc['native_id']}")
    doc["matched"] = {"queries": result.queries, "claims": result.claims, "official": official}
    if pinned:
        doc["matched"]["statement"] = True
    elif not result.matched:
        doc["matched"]["kept"] = True  # kept by its spider, for its context
    return doc


def stance(doc: Any, context: IngestContext) -> Any:
    """The stance fields from the explainable classifier (`indexer.stance.classify`), and the
    stance towards each claim the post names (`indexer.claims`)."""
    if isinstance(doc, PostDoc):
        doc.update(classify(StanceInput.from_doc(doc, claim_defs=context.incident.claims)).fields())
        with_claim_stances(doc, context.incident)
    return doc


def fingerprint(doc: Any, context: IngestContext) -> Any:
    """Near-duplicate signature for copy-paste tracking."""
    if isinstance(doc, PostDoc):
        doc.update(fingerprint_fields(doc.get("title"), doc.get("text")))
    return doc


#: The stages in the order every caller runs them (Scrapy's ITEM_PIPELINES mirrors it).
STAGES: tuple[Stage, ...] = (validate, normalise, match, stance, fingerprint)


def run_stages(item: Any, context: IngestContext) -> PostDoc | ActivityDoc:
    """An item through every stage; raises `Dropped`."""
    for stage in STAGES:
        item = stage(item, context)
    return item
