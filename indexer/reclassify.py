"""Recompute everything about an incident's posts that its file decides, after the file (or the
lexicons) changed: the matches and claims, the official flag (accounts, domains, URLs, and the
feed or page a post came from), the kind (a statement of an official feed is an article once the
feed is not official), the stance and the stance towards each claim, and the stemmed copies
search reads (`indexer.stemming`).

A post that no longer belongs to the incident (it matches nothing, or it is an official source's
post about something else — see `indexer.matching.belongs`) is detached: the incident's id is
removed from it, and a document no other incident has is deleted, with its engagement
snapshots. Every change is counted by reason, so `spreadwatch reclassify` can say what it did.

The stance comes from the current classifier: with `learned=True` (the setting
`SPREADWATCH_STANCE_MODEL`) the learned head when installed, labelling each scanned chunk as one
batch with the parent posts' texts looked up; else the lexicon. A stance a person set
(`indexer.stance_human`) is kept and counted, never relabelled.

No painless, no update-by-query (the embedded node has neither): scan, decide client-side,
write back only what changed with bulk partial updates and deletes, each only over the version
scanned. A post a crawl stores again meanwhile (another incident found it, its text was edited)
is read and decided again, so the crawl's write is never undone by a decision made without it.

`reclassify(client, names, incident) -> ReclassifyResult`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch, helpers

from indexer.claims import with_claim_stances
from indexer.connection import IndexNames
from indexer.documents import LABELLED_AT, PENDING, STANCE_FIELDS, is_human
from indexer.matching import Matcher, MatchResult, belongs
from indexer.stance import StanceInput, classify
from indexer.stance_enrich import StanceEnricher
from indexer.stance_model import StanceModel, shipped
from indexer.stemming import STEMMED_FIELDS, with_stems
from indexer.versioned import CONFLICT, Versioned, bulk_condition
from spreadwatch.clock import utc_now
from spreadwatch.incident import Incident

logger = logging.getLogger(__name__)

_FIELDS = ["incident", "platform", "kind", "title", "text", "lang", "domain", "url", "author"]
_FIELDS += ["matched", "source", "claim_stances", PENDING, *STANCE_FIELDS]
_FIELDS += ["native_id", "reply_to", "quote_of", "repost_of", *STEMMED_FIELDS.values()]


@dataclass
class ReclassifyResult:
    scanned: int = 0
    changed: int = 0
    detached: int = 0
    deleted: int = 0
    failed: int = 0
    #: Posts whose stance a person set (`indexer.stance_human`): kept, never relabelled.
    human: int = 0
    #: Why posts changed ("official source → not official", "detached: ..."), with counts.
    reasons: Counter[str] = field(default_factory=Counter)
    stances: Counter[str] = field(default_factory=Counter)
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, other: ReclassifyResult, sign: int = 1) -> None:
        """Add (`sign=-1`: take back) what `other` counted."""
        for name in ("scanned", "changed", "detached", "deleted", "failed", "human"):
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))
        for name in ("reasons", "stances", "moves"):
            _add_counts(getattr(self, name), getattr(other, name), sign)


def _add_counts(counter: Counter[Any], more: Counter[Any], sign: int) -> None:
    for key, value in more.items():
        counter[key] += sign * value
        if not counter[key]:
            del counter[key]


#: How often posts written meanwhile are read and decided again before they count as failed.
CONFLICT_ATTEMPTS = 5


def reclassify(
    client: Elasticsearch,
    names: IndexNames,
    incident: Incident,
    chunk_size: int = 500,
    learned: bool = False,
) -> ReclassifyResult:
    """Re-derive every post of `incident` from its file; failures are counted and logged."""
    result = ReclassifyResult()
    head = shipped() if learned else None
    label = Labeller(incident, head, client, names)
    hits = helpers.scan(
        client,
        index=names.posts,
        query={
            "query": {"term": {"incident": incident.id}},
            "_source": _FIELDS,
            "seq_no_primary_term": True,
        },
        size=chunk_size,
    )
    writes = _Writes(result)
    matcher = Matcher(incident)
    actions = (
        action
        for chunk in chunks(hits, chunk_size)
        for action in _actions(chunk, matcher, incident, writes, label)
    )
    _bulk(client, actions, writes, chunk_size)
    for _ in range(CONFLICT_ATTEMPTS):
        if not writes.conflicts:
            break
        again, writes.conflicts = writes.conflicts, []
        logger.info("reclassify: %d posts were written meanwhile; deciding again", len(again))
        fresh = _read_again(client, names, incident.id, again)
        _bulk(client, _actions(fresh, matcher, incident, writes, label), writes, chunk_size)
    if writes.conflicts:
        result.failed += len(writes.conflicts)
        logger.error(
            "reclassify: %d posts kept changing while being decided; left as they are: %s",
            len(writes.conflicts), ", ".join(writes.conflicts[:10]),
        )  # fmt: skip
    if writes.gone:
        snapshots = _snapshot_actions(client, names, incident.id, writes.gone)
        _bulk(client, snapshots, writes, chunk_size)
    client.indices.refresh(index=[names.posts, names.activity])
    return result


@dataclass
class _Writes:
    """What one reclassify run has decided and not yet seen written: each post's counts, taken
    back when its write meets a newer version (`conflicts`, decided again)."""

    result: ReclassifyResult
    #: Counts of each decided post whose write has not answered yet.
    pending: dict[str, ReclassifyResult] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    #: Detached posts (written): their engagement snapshots follow them.
    gone: list[str] = field(default_factory=list)

    def decided(self, doc_id: str, counts: ReclassifyResult) -> None:
        self.result.add(counts)
        self.pending[doc_id] = counts

    def answered(self, ok: bool, item: dict[str, Any]) -> None:
        info = next(iter(item.values()))
        counts = self.pending.pop(info.get("_id"), None)
        error = info.get("error")
        if ok:
            if counts is not None and counts.detached:
                self.gone.append(info["_id"])
        elif counts is not None and isinstance(error, dict) and error.get("type") == CONFLICT:
            self.result.add(counts, -1)
            self.conflicts.append(info["_id"])
        else:
            self.result.failed += 1
            logger.error("reclassify: write failed: %s", item)


def _bulk(
    client: Elasticsearch, actions: Iterable[dict[str, Any]], writes: _Writes, size: int
) -> None:
    for ok, item in helpers.streaming_bulk(
        client, actions, chunk_size=size, raise_on_error=False, max_retries=3
    ):
        writes.answered(ok, item)


def _read_again(
    client: Elasticsearch, names: IndexNames, incident: str, ids: list[str]
) -> list[dict[str, Any]]:
    """The posts as stored now, as scan hits (with their versions); those no longer of the
    incident (or gone) need no decision."""
    reply = client.mget(index=names.posts, ids=ids, source_includes=_FIELDS)
    return [
        doc
        for doc in reply["docs"]
        if doc.get("found") and incident in _as_list((doc.get("_source") or {}).get("incident"))
    ]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def chunks(hits: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for hit in hits:
        chunk.append(hit)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Labeller:
    """Stances of a chunk of recomputed posts: the learned head in one batch, else the lexicon."""

    def __init__(
        self,
        incident: Incident,
        model: StanceModel | None,
        client: Elasticsearch,
        names: IndexNames,
    ) -> None:
        self.incident = incident
        self.enricher = StanceEnricher(incident, model, client, names) if model else None

    def __call__(self, docs: list[dict[str, Any]]) -> None:
        """Sets the stance fields (and the stance towards each claim) of each doc in place."""
        if self.enricher is not None:
            self.enricher(docs)
            return
        for doc in docs:
            claims = list((doc.get("matched") or {}).get("claims") or [])
            doc.update(classify(StanceInput.from_doc(doc, claims, self.incident.claims)).fields())
            with_claim_stances(doc, self.incident)


def _actions(
    hits: list[dict[str, Any]],
    matcher: Matcher,
    incident: Incident,
    writes: _Writes,
    label: Labeller,
) -> Iterator[dict[str, Any]]:
    kept: list[tuple[ReclassifyResult, dict[str, Any], dict[str, Any], dict[str, Any]]] = []
    for hit in hits:
        counts = ReclassifyResult(scanned=1)
        source = hit["_source"]
        version = Versioned(source, int(hit["_seq_no"]), int(hit["_primary_term"]))
        where = {"_index": hit["_index"], "_id": hit["_id"], **bulk_condition(version)}
        match = matcher.match(source.get("title"), source.get("text"))
        official = official_now(source, incident)
        pinned = incident.official is not None and incident.official.is_statement(source.get("url"))
        if not belongs(match, official=official, pinned=pinned, kept=_kept(source)):
            counts.reasons[_why_detached(official)] += 1
            action = _detach(source, where, incident.id, counts)
            writes.decided(hit["_id"], counts)
            yield action
            continue
        doc = recomputed(source, match, incident, official, pinned)
        kept.append((counts, source, where, doc))
    label([doc for _, _, _, doc in kept])
    for counts, source, where, doc in kept:
        if is_human(source):  # a person's label stands; the claims it names may have changed
            doc.update({name: source.get(name) for name in STANCE_FIELDS})
            with_claim_stances(doc, incident)
            counts.human += 1
        fields = {name: doc[name] for name in (*_DECIDED, *STANCE_FIELDS)}
        fields["claim_stances"] = doc.get("claim_stances") or None
        fields.update(searchable_copies(source))
        if label.enricher is not None and source.get(PENDING) and not is_human(source):
            fields.update({PENDING: False, LABELLED_AT: utc_now().isoformat()})
        counts.stances[fields["stance"]] += 1
        reasons = _reasons(source, fields)
        if not reasons:
            writes.result.add(counts)  # nothing to write: counted at once
            continue
        counts.changed += 1
        counts.reasons.update(reasons)
        counts.moves[(source.get("stance") or "", fields["stance"])] += 1
        writes.decided(where["_id"], counts)
        yield {"_op_type": "update", **where, "doc": fields}


def _kept(source: dict[str, Any]) -> bool:
    """Kept by its spider without a match (a matched story's comments, a watched repo). Posts
    stored before the flag existed: matched nothing and were not official."""
    matched = source.get("matched") or {}
    if "kept" in matched:
        return bool(matched["kept"])
    official = bool((source.get("author") or {}).get("official"))
    return not (matched.get("queries") or matched.get("claims") or official)


def _why_detached(official: bool) -> str:
    if official:
        return "detached: an official source's post that matches nothing"
    return "detached: matches nothing any more"


def _detach(
    source: dict[str, Any], where: dict[str, str], incident: str, result: ReclassifyResult
) -> dict[str, Any]:
    remaining = [i for i in source.get("incident") or [] if i != incident]
    result.detached += 1
    if remaining:
        return {"_op_type": "update", **where, "doc": {"incident": remaining}}
    result.deleted += 1
    return {"_op_type": "delete", **where}


def _snapshot_actions(
    client: Elasticsearch, names: IndexNames, incident: str, posts: list[str]
) -> Iterator[dict[str, Any]]:
    """The engagement snapshots of detached posts follow them."""
    for start in range(0, len(posts), 500):
        query = {"bool": {"filter": [
            {"term": {"incident": incident}}, {"terms": {"post_id": posts[start : start + 500]}},
        ]}}  # fmt: skip
        for hit in helpers.scan(client, index=names.activity, query={"query": query}):
            remaining = [i for i in hit["_source"].get("incident") or [] if i != incident]
            where = {"_index": hit["_index"], "_id": hit["_id"]}
            if remaining:
                yield {"_op_type": "update", **where, "doc": {"incident": remaining}}
            else:
                yield {"_op_type": "delete", **where}


def official_now(source: dict[str, Any], incident: Incident) -> bool:
    """Official under the current file: an official account, domain or URL, or an item of a
    feed or page the file marks official."""
    author = source.get("author") or {}
    section = incident.official
    if section is not None and (
        section.is_official(source.get("platform") or "", author.get("handle"), author.get("id"))
        or section.is_official_url(source.get("url"))
    ):
        return True
    origin = _origin(source, incident)
    return bool(origin and origin[0])


def _origin(source: dict[str, Any], incident: Incident) -> tuple[bool, str] | None:
    """(official, kind) of the configured feed or page the post came from, if known."""
    spider = (source.get("source") or {}).get("spider")
    name = (source.get("source") or {}).get("query")
    if spider == "feeds" and incident.sources.feeds is not None:
        for feed in incident.sources.feeds.feeds:
            if name in (feed.name, feed.url):
                return feed.official, "statement" if feed.official else "article"
    if spider == "pages" and incident.sources.pages is not None:
        for page in incident.sources.pages.pages:
            if name == page.name:
                return page.official or page.kind == "statement", page.kind
    return None


_DECIDED = ("author", "kind", "matched")


def recomputed(
    source: dict[str, Any], match: MatchResult, incident: Incident, official: bool, pinned: bool
) -> dict[str, Any]:
    """The stored post with the fields its incident file decides as they should be now (the
    stance is the labeller's, per chunk)."""
    origin = _origin(source, incident)
    kind = origin[1] if origin else source.get("kind") or "post"
    author = {**(source.get("author") or {}), "official": official}
    matched: dict[str, Any] = {"queries": match.queries, "claims": match.claims}
    matched["official"] = official
    if pinned:
        matched["statement"] = True
    elif not match.matched:
        matched["kept"] = True
    return {**source, "author": author, "kind": kind, "matched": matched}


def _reasons(source: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    """What changed in one post, in words (empty: nothing to write)."""
    reasons = []
    was = bool((source.get("author") or {}).get("official"))
    if was != fields["author"]["official"]:
        reasons.append("official source → not official" if was else "now an official source")
    if (source.get("kind") or "post") != fields["kind"]:
        reasons.append(f"kind {source.get('kind')} → {fields['kind']}")
    before, after = source.get("matched") or {}, fields["matched"]
    if any(list(before.get(k) or []) != after[k] for k in ("queries", "claims")):
        reasons.append("matched queries or claims changed")
    if bool(before.get("statement")) != bool(after.get("statement")):
        reasons.append("pinned as a statement" if after.get("statement") else "no longer pinned")
    if source.get("stance") != fields["stance"]:
        reasons.append(f"stance {source.get('stance') or '(none)'} → {fields['stance']}")
    elif any(source.get(k) != fields[k] for k in STANCE_FIELDS if k != "stance_cues"):
        reasons.append("stance confidence or source changed")
    if list(source.get("claim_stances") or []) != list(fields["claim_stances"] or []):
        reasons.append("stance towards a claim changed")
    if source.get(PENDING) and fields.get(PENDING) is False:
        reasons.append("provisional label replaced by the model's")
    if any(source.get(name) != fields[name] for name in STEMMED_FIELDS.values()):
        reasons.append("searchable copies refreshed")
    return reasons


def searchable_copies(source: dict[str, Any]) -> dict[str, str | None]:
    """The stemmed copies the writer would store for this text now (None: no such field). Posts
    written by an older version (before traditional Chinese was searched as simplified, or
    before a stemmer changed) keep stale copies until a crawl rewrites them; reclassify does."""
    fresh = with_stems({name: source.get(name) for name in ("text", "title", "lang")})
    return {name: fresh.get(name) for name in STEMMED_FIELDS.values()}
