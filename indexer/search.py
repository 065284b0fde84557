"""Ad-hoc search over posts: Lucene query-string syntax plus filters, sorted, as stable rows.

`search_posts(client, names, SearchRequest) -> SearchResult`. The query runs over `text`,
`title`, `author.handle` and `author.name` (and the language subfields of text and title when
the cluster has them) with AND as the default operator (so "8000 H100"
means both); field names (`platform:reddit`, `stance:denial`, `reach:>1000`) and the full syntax
of Elasticsearch's `query_string` work. A query Elasticsearch cannot parse raises
`QuerySyntaxError` carrying the column it stopped at; so does a query naming a field posts do
not have (`platfrom:reddit`, the object `author:x`), which Elasticsearch would answer with no
posts, naming the closest fields. `parse_when` reads the CLI's times.

Word forms: each word of the query is written as typed and as its stems, each stem searched in
the copies of posts in the language it is a stem of (`indexer.stemming.word_forms_query`:
`interns` is also `intern` in English copies), and the query runs over the exact fields and the
stemmed copies of text and title in one clause, so `interns` finds `intern` and `Praktikanten`
finds `Praktikant` on any cluster — and an excluded word excludes every form it would find:
`ByteDance -interns` (or `NOT intern`, `-"model trained"`) leaves out the post saying `intern`.
A CamelCase hashtag's words are in the copies too, so `Sydney` and `"Martin Place"` find
`#SydneySiege` and `#MartinPlace` (`indexer.matching.hashtag_readings`, as the incident's
queries read them).
A word or phrase of a `text` or `title` clause or group (`title:Praktikanten`, `text:"…"`,
`title:(a OR b)`) is written in its forms in that field and that field's copy alone, so
`title:Praktikanten` finds a title saying `Praktikant` and not a text saying it; other fields'
clauses (`author.handle:x`, `platform:reddit`) search as written.

Chinese in either script: the copies hold Chinese as simplified (`indexer.chinese`); a query's
traditional words are written in both scripts too (`indexer.stemming.both_scripts_query`:
`(字節 OR 字节)`), so 字节跳动 and 字節跳動 find the same posts, and an excluded word (`召回
-汽車`, `-汽车`) excludes it in both scripts. Posts stored before the copies read Chinese as
simplified keep their traditional copy until crawled again or reclassified (a traditional query
still finds them). A Chinese word of the query is searched as a phrase
(`indexer.stemming.cjk_phrases_query`; in a field clause too, `title:字节`): the standard
analyzer splits Chinese into characters, and unquoted `字节` would find a post with `字` and `节`
anywhere in it. Rows show the text as
written.

The request body is a plain dict, not `elasticsearch.dsl`: `spreadwatch search` is a whole
process per query and the DSL's import alone costs ~0.2 s of the one second it may take.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from elasticsearch import BadRequestError, Elasticsearch

from indexer.connection import IndexNames
from indexer.evidence_queries import archived_link, status_of
from indexer.stemming import (
    STEMMED_FIELDS,
    both_scripts_query,
    cjk_phrases_query,
    word_forms_query,
)
from spreadwatch.durations import parse_when
from spreadwatch.names import did_you_mean

__all__ = [
    "EmptyWindowError",
    "QuerySyntaxError",
    "SearchRequest",
    "SearchResult",
    "parse_when",
    "search_posts",
]

TIMESTAMP = "@timestamp"
SEARCH_FIELDS = ["text", "title", "author.handle", "author.name"]
#: Language subfields searched too when the posts mapping has them (clusters with the
#: analysis-common module: stemming for en/de, bigrams for CJK; see `indexer.templates`).
LANGUAGE_FIELDS = [f"{field}.{lang}" for field in ("text", "title") for lang in ("en", "de", "cjk")]
MAX_LIMIT = 10_000
#: The fields an error about an unknown one lists first.
USUAL_FIELDS = (
    "text", "title", "author.handle", "author.name", "platform", "stance", "lang", "reach",
    "@timestamp", "engagement.likes", "hashtags", "domain", "url",
)  # fmt: skip

#: The columns of every output format, in order (the CLI's contract: add at the end only).
COLUMNS = (
    "time", "platform", "kind", "stance", "author", "reach", "id", "url", "text",
    "lang", "title", "claims", "confidence", "likes", "reposts", "replies", "views", "status",
    "archived",
)  # fmt: skip
#: The time column's heading where people read it (the table, CSV and XLSX): times are UTC.
TIME_HEADER = "time (UTC)"
#: Columns holding counts (typed as numbers in spreadsheets).
NUMERIC_COLUMNS = ("reach", "likes", "reposts", "replies", "views")

#: The last keys make every order total (a post is `{platform}:{native_id}`), so equal times or
#: reach come back in the same order on every run and page.
TIE_BREAK: list[dict[str, Any]] = [{"platform": "asc"}, {"native_id": "asc"}]
SORTS: dict[str, list[dict[str, Any]]] = {
    "newest": [{TIMESTAMP: "desc"}, *TIE_BREAK],
    "oldest": [{TIMESTAMP: "asc"}, *TIE_BREAK],
    "reach": [{"reach": {"order": "desc", "missing": "_last"}}, {TIMESTAMP: "desc"}, *TIE_BREAK],
}

_COLUMN = re.compile(r"line (\d+), column (\d+)")
#: The query-string syntax as Lucene's classic parser reads it, far enough to find field names:
#: phrases, regular expressions and ranges are skipped whole (a time in them has colons); a
#: term followed by a colon names a field (`platform:`, `author.handle :`, `a\ b:`).
_SYNTAX = re.compile(
    r'"(?:\\.|[^"\\])*"?'
    r"|/(?:\\.|[^/\\])*/?"
    r'|[\[{](?:\\.|"(?:\\.|[^"\\])*"?|[^\]}"\\])*[\]}]?'
    r'|((?:\\.|[^\s+\-!():^\[\]"{}~\\/])(?:\\.|[^\s!():^\[\]"{}~\\/])*)(\s*:)?'
    r"|\\.|.",
    re.DOTALL,
)
#: `_exists_:FIELD`: its value names a field too.
EXISTS = "_exists_"


class QuerySyntaxError(ValueError):
    """Elasticsearch could not parse the query; `column` (1-based) is where it stopped, if known."""

    def __init__(self, query: str, reason: str, column: int | None) -> None:
        where = f" at column {column}" if column else ""
        super().__init__(f"cannot parse query{where}: {reason}")
        self.query = query
        self.reason = reason
        self.column = column


class EmptyWindowError(ValueError):
    """`since` is not before `until`: no post could match, whatever the query."""


@dataclass(frozen=True)
class SearchRequest:
    query: str = "*"
    incident: str | None = None
    platform: list[str] = field(default_factory=list)
    stance: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    sort: Literal["newest", "oldest", "reach"] = "newest"
    limit: int = 20


@dataclass(frozen=True)
class Row:
    """One post as every output format shows it (see `COLUMNS`)."""

    time: datetime
    platform: str
    kind: str
    stance: str
    author: str
    reach: int
    id: str
    url: str
    text: str
    lang: str = ""
    title: str = ""
    claims: str = ""  # claim names, "; "-separated
    confidence: float | None = None  # the stance's confidence, 0-1
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    views: int | None = None
    status: str = ""  # deleted (how) / edited (n earlier), see docs/evidence.md
    archived: str = ""  # where the archived copy is

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMNS} | {"time": self.time.isoformat()}


@dataclass(frozen=True)
class SearchResult:
    total: int
    rows: list[Row]


def known_fields(mapping: dict[str, Any]) -> set[str]:
    """Every field a query may name, given the posts index's `get_mapping` answer: the mapped
    leaves (`author.handle`, not the object `author`), their subfields (`author.name.keyword`)
    and runtime fields."""
    known: set[str] = set()

    def walk(properties: dict[str, Any], prefix: str) -> None:
        for name, spec in properties.items():
            path = prefix + name
            if "properties" in spec:
                walk(spec["properties"], path + ".")
            if spec.get("type") not in (None, "object", "nested"):
                known.add(path)
                known.update(f"{path}.{sub}" for sub in spec.get("fields") or {})

    for index in mapping.values():
        mappings = index.get("mappings") or {}
        walk(mappings.get("properties") or {}, "")
        known.update(mappings.get("runtime") or {})
    return known


def named_fields(query: str) -> list[tuple[str, int]]:
    """The fields a query names (`platform:x`, and the FIELD of `_exists_:FIELD`), unescaped,
    each with its 1-based column."""
    named: list[tuple[str, int]] = []
    after_exists = False
    for match in _SYNTAX.finditer(query):
        term, colon = match.group(1), match.group(2)
        if term is not None and (colon or after_exists):
            named.append((re.sub(r"\\(.)", r"\1", term), match.start(1) + 1))
        if not match.group().isspace():
            after_exists = term == EXISTS and bool(colon)
    return named


def check_fields(query: str, known: set[str]) -> None:
    """Refuse a query naming a field the posts do not have: Elasticsearch matches nothing for
    it, silently, and a typo (`platfrom:reddit`, `author:x`) would read as "no posts". Its own
    fields (`_id`, `_exists_`) and field patterns matching a known field (`author.\\*`) pass."""
    for name, column in named_fields(query):
        if name.startswith("_") or name == "*" or name in known:
            continue
        if any(c in name for c in "*?") and fnmatch.filter(known, name):
            continue
        tail = sorted(f for f in known if f.endswith(f".{name}"))
        hint = _any_of(tail) or did_you_mean(name, known)
        reason = f"unknown field {name!r}{hint} (a post has {_listed(known)})"
        raise QuerySyntaxError(query, reason, column)


def _any_of(names: list[str]) -> str:
    return "; did you mean " + " or ".join(repr(n) for n in names[:3]) + "?" if names else ""


def _listed(known: set[str]) -> str:
    """The fields an analyst searches most, then how many more there are."""
    shown = [f for f in USUAL_FIELDS if f in known]
    more = len(known) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def fields_for(mapping: dict[str, Any]) -> list[str]:
    """The fields a query runs over, given the posts index's `get_mapping` answer."""
    for index in mapping.values():
        if (index.get("mappings", {}).get("_meta") or {}).get("language_subfields"):
            return SEARCH_FIELDS + LANGUAGE_FIELDS
    return list(SEARCH_FIELDS)


def build_body(request: SearchRequest, fields: list[str] | None = None) -> dict[str, Any]:
    """The search body a request stands for (no I/O)."""
    if not 1 <= request.limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {request.limit}")
    if request.sort not in SORTS:
        raise ValueError(f"unknown sort {request.sort!r}; use one of {', '.join(SORTS)}")
    if request.since and request.until and request.since >= request.until:
        raise EmptyWindowError(
            f"the time window is empty: since {request.since.isoformat()} is not before until "
            f"{request.until.isoformat()}"
        )
    filters: list[dict[str, Any]] = []
    if request.incident:
        filters.append({"term": {"incident": request.incident}})
    if request.platform:
        filters.append({"terms": {"platform": request.platform}})
    if request.stance:
        filters.append({"terms": {"stance": request.stance}})
    window = {}
    if request.since:
        window["gte"] = request.since.isoformat()
    if request.until:
        window["lt"] = request.until.isoformat()
    if window:
        filters.append({"range": {TIMESTAMP: window}})
    boolean: dict[str, Any] = {"filter": filters}
    query = request.query.strip() or "*"
    if query != "*":
        boolean["must"] = [_match(query, fields or SEARCH_FIELDS)]
    return {
        "query": {"bool": boolean},
        "sort": SORTS[request.sort],
        "size": request.limit,
        "track_total_hits": True,
    }


def _match(query: str, fields: list[str]) -> dict[str, Any]:
    """The query with its words in all their forms, over the exact fields and the copies in one
    clause: a word and its forms stand or fall together, so an exclusion holds for every form."""
    return _query_string(_in_all_forms(query), [*fields, *STEMMED_FIELDS.values()])


def _in_all_forms(query: str) -> str:
    """The query as sent: Chinese words as phrases in both scripts, every word in all its
    forms."""
    query = cjk_phrases_query(query) or query
    query = both_scripts_query(query) or query
    return word_forms_query(query) or query


def _query_string(query: str, fields: list[str]) -> dict[str, Any]:
    return {"query_string": {"query": query, "fields": fields, "default_operator": "and"}}


def search_posts(
    client: Elasticsearch, names: IndexNames, request: SearchRequest, replay_url: str | None = None
) -> SearchResult:
    """Run a search; a query Elasticsearch cannot parse becomes `QuerySyntaxError`. Archived
    copies link through `replay_url` (a pywb collection) when given."""
    mapping = dict(client.indices.get_mapping(index=names.posts))
    body = build_body(request, fields_for(mapping))
    check_fields(request.query, known_fields(mapping))  # before asking: the answer would be 0
    try:
        response = client.search(index=names.posts, **body)
    except BadRequestError as error:
        raise _query_error(request.query, _as_written(client, names, request, error)) from None
    hits = response["hits"]
    rows = [_row(hit["_id"], hit["_source"], replay_url) for hit in hits["hits"]]
    return SearchResult(total=int(hits["total"]["value"]), rows=rows)


def _as_written(
    client: Elasticsearch, names: IndexNames, request: SearchRequest, error: BadRequestError
) -> BadRequestError:
    """The error for the query as the user wrote it: the query sent (all forms, both scripts)
    is longer, so its columns would not be the user's (else `error` itself)."""
    if _in_all_forms(request.query) == request.query:
        return error
    try:
        client.search(index=names.posts, size=0, query=_query_string(request.query, ["text"]))
    except BadRequestError as written:
        return written
    return error


def _row(doc_id: str, source: dict[str, Any], replay_url: str | None = None) -> Row:
    author = source.get("author") or {}
    engagement = source.get("engagement") or {}
    return Row(
        time=_time(source[TIMESTAMP]),
        platform=source.get("platform") or "",
        kind=source.get("kind") or "",
        stance=source.get("stance") or "",
        author=author.get("handle") or author.get("name") or author.get("id") or "",
        reach=int(source.get("reach") or 0),
        id=doc_id,
        url=source.get("url") or "",
        text=source.get("text") or source.get("title") or "",
        lang=source.get("lang") or "",
        title=source.get("title") or "",
        claims="; ".join(_claims(source)),
        confidence=_number(source.get("stance_confidence", source.get("stance_score")), float),
        likes=_number(engagement.get("likes"), int),
        reposts=_number(engagement.get("reposts"), int),
        replies=_number(engagement.get("replies"), int),
        views=_number(engagement.get("views"), int),
        status=status_of(source),
        archived=archived_link(
            source.get("evidence") or source.get("deleted_evidence"), replay_url
        ),
    )


def _claims(source: dict[str, Any]) -> list[str]:
    """Claim names a post makes (per-claim records if present, else the matched claims)."""
    named = [
        c.get("id") or c.get("name") for c in source.get("claims") or [] if isinstance(c, dict)
    ]
    found = [str(c) for c in named if c] or list((source.get("matched") or {}).get("claims") or [])
    return sorted(dict.fromkeys(str(c) for c in found))


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    if value is None or isinstance(value, bool):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


def _time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _query_error(query: str, error: BadRequestError) -> QuerySyntaxError | BadRequestError:
    reason = _deepest_reason(error.body if isinstance(error.body, dict) else {})
    if reason is None:
        return error
    first_line = reason.splitlines()[0]
    found = _COLUMN.search(first_line)
    column = int(found.group(2)) if found else None
    return QuerySyntaxError(query, first_line, column)


def _deepest_reason(body: dict[str, Any]) -> str | None:
    failure = body.get("error") or {}
    shards = failure.get("failed_shards") or []
    node = shards[0].get("reason", {}) if shards else failure
    reason = None
    while isinstance(node, dict) and node:
        reason = node.get("reason") or reason
        node = node.get("caused_by") or {}
    return reason


def indexed_values(
    client: Elasticsearch, names: IndexNames, field: str, size: int = 500
) -> list[str]:
    """The distinct values of a keyword field over all posts (to name known ones in an error)."""
    response = client.search(
        index=names.posts,
        size=0,
        aggs={"values": {"terms": {"field": field, "size": size}}},
    )
    return sorted(str(b["key"]) for b in response["aggregations"]["values"]["buckets"])
