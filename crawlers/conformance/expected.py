"""What each recorded response should become, read from the platforms' documented fields.

Written apart from `crawlers/parsers/` (it imports none of them): its own HTML reading (the
standard library's `html.parser`), its own time parsing and field picking, so a parser's mistake
is not repeated here. Only the storage contracts of the normalise stage are shared: URLs are
compared in the forms `spreadwatch.urls` gives them (the address kept, links as join keys).

A `Want` is one document a record should produce, with the fields to compare; a field whose
truth the record does not hold (a reply to a status on another server) is left out of it.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import hashlib
import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from crawlers.conformance.corpus import Record, feed_document

#: The fields a wrong value of fails the check (on a current shape): the issue's list.
GATING = ("id", "time", "url", "text", "links", "reply_to", "repost_of", "quote_of", "thread")


@dataclass
class Want:
    doc_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    #: Nothing a reader could see (no words, media, link or repost): an `empty` drop is right.
    empty: bool = False


@dataclass
class Expectation:
    wants: list[Want] = field(default_factory=list)
    #: A shape of today's API (old shapes may be refused with a counted drop).
    current: bool = True
    #: Activities (stars, forks, events) the record should give; only counted.
    activities: bool = False


# -- reading HTML and times, independently ---------------------------------------------------

_SKIP = {"script", "style", "noscript", "template", "iframe", "object", "embed", "head"}
_BREAK = {"p", "div", "li", "br", "tr", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}


class _Reader(HTMLParser):
    def __init__(self, alt: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.alt, self.skipping = alt, 0
        self.parts: list[str] = []
        self.anchors: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BREAK:
            self.parts.append("\n")
        if tag == "a":
            self.anchors.append({k: v or "" for k, v in attrs})
        if tag == "img" and self.alt:
            self.parts.append(dict(attrs).get("alt") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_text(markup: str | None, alt: bool = False) -> tuple[str, list[dict[str, str]]]:
    """Visible text and the attributes of every `<a>` of an HTML fragment."""
    reader = _Reader(alt)
    reader.feed(markup or "")
    reader.close()
    return "".join(reader.parts), reader.anchors


def comparable(text: str | None) -> str:
    """Text as two readers would agree on it: NFKC, invisible and control characters (and the
    escapes the index shows them as) removed, any run of spaces or breaks one space."""
    import unicodedata  # noqa: PLC0415

    value = unicodedata.normalize("NFKC", text or "")
    value = re.sub(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4})", "", value)
    value = "".join(c for c in value if unicodedata.category(c) not in ("Cf", "Cc") or c in "\n\t ")  # fmt: skip
    return " ".join(value.split())


def iso_time(value: Any) -> datetime | None:
    """An ISO 8601 time; fractions past microseconds are cut, as a datetime holds them."""
    if not isinstance(value, str):
        return None
    found = re.fullmatch(
        r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?", value.strip()
    )
    if not found:
        return None
    base, fraction, zone = found.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    offset = "+00:00" if zone in (None, "Z") else zone
    try:
        moment = datetime.fromisoformat(f"{base}{offset}")
        return moment.replace(microsecond=micros).astimezone(UTC)
    except (ValueError, OverflowError):  # year 0, month 13: a time no reader can place
        return None


def epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, UTC)


#: An address ends at a space, a quote, a bracket, or CJK/full-width punctuation (`，` `。`).
_URL = re.compile("https?://[^\\s<>\"'`()\\[\\]{}\u3000-\u303f\uff00-\uffef]+")


def plain_links(text: Any) -> list[str]:
    """Web addresses written in plain text or markdown, without the punctuation after them."""
    if not isinstance(text, str):
        return []
    return [m.group(0).rstrip(".,;:!?*_~") for m in _URL.finditer(text)]


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _obj(holder: Any, key: str) -> dict[str, Any]:
    value = holder.get(key) if isinstance(holder, dict) else None
    return value if isinstance(value, dict) else {}


def _text(holder: Any, key: str) -> str:
    value = holder.get(key) if isinstance(holder, dict) else None
    return value if isinstance(value, str) else ""


def _counts(**counts: Any) -> dict[str, int]:
    """Engagement as stored: whole non-negative counts; what a record lacks is left out."""
    return {
        k: int(v)
        for k, v in counts.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
    }


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in (part.strip() for part in parts) if p)


# -- Mastodon ------------------------------------------------------------------------------------


def mastodon_index(records: list[Record]) -> dict[tuple[str, str], str]:
    """(instance, instance-local id) → status URI, for every status in the folder: a reply's
    parent is known where the folder holds it."""
    index: dict[tuple[str, str], str] = {}

    def visit(status: Any, instance: str) -> None:
        if not isinstance(status, dict):
            return
        ident, uri = _str(status.get("id")), status.get("uri")
        if ident and isinstance(uri, str):
            index[(instance, ident)] = uri
        visit(status.get("reblog"), instance)
        quote = status.get("quote")
        if isinstance(quote, dict):
            visit(quote.get("quoted_status"), instance)

    for record in records:
        instance = _origin(str(record.meta.get("instance") or ""))
        for status in _statuses(record):
            visit(status, instance)
    return index


def _origin(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return f"{parts.scheme}://{parts.netloc}"


def _statuses(record: Record) -> list[Any]:
    payload = record.payload
    if record.kind == "status":
        return [payload]
    if record.kind == "search":
        found = payload.get("statuses") if isinstance(payload, dict) else None
        return found if isinstance(found, list) else []
    return payload if isinstance(payload, list) else []


def mastodon(record: Record, index: dict[tuple[str, str], str]) -> Expectation:
    instance = _origin(str(record.meta.get("instance") or ""))
    wants: list[Want] = []
    for status in _statuses(record):
        if not _is_status(status):
            continue
        reblog = status.get("reblog")
        shown = reblog if isinstance(reblog, dict) and _is_status(reblog) else status
        quoted = _obj(_obj(shown, "quote"), "quoted_status")
        if _is_status(quoted):  # a quote carries the status it quotes: kept too
            wants.append(_mastodon_status(quoted, instance, index))
        if isinstance(reblog, dict) and _is_status(reblog):
            original = _mastodon_status(reblog, instance, index)
            boost = _mastodon_status(status, instance, index)
            boost.fields.update(
                kind="repost",
                repost_of=f"mastodon:{reblog['uri']}",
                text=original.fields["text"],
                links=original.fields["links"],
                reply_to=None,
                quote_of=None,
            )
            boost.empty = original.empty
            wants += [original, boost]
        else:
            wants.append(_mastodon_status(status, instance, index))
    return Expectation(wants)


def _is_status(status: Any) -> bool:
    return (
        isinstance(status, dict)
        and isinstance(status.get("uri"), str)
        and isinstance(status.get("account"), dict)
        and iso_time(status.get("created_at")) is not None
    )


def _mastodon_status(status: dict[str, Any], instance: str, index: dict[tuple[str, str], str]) -> Want:  # fmt: skip
    content, anchors = html_text(_text(status, "content"))  # fmt: skip
    poll = _obj(status, "poll")
    options = [o.get("title") for o in poll.get("options") or [] if isinstance(o, dict)]
    media = [m for m in status.get("media_attachments") or [] if isinstance(m, dict)]
    described = [m.get("description") for m in media]
    spoiler = _text(status, "spoiler_text")
    text = _join(
        spoiler,
        content,
        "\n".join(o for o in options if isinstance(o, str)),
        "\n".join(d for d in described if isinstance(d, str)),
    )
    links = [
        a["href"]
        for a in anchors
        if a.get("href") and not {"mention", "hashtag"} & set(a.get("class", "").split())
    ]
    reply = _str(status.get("in_reply_to_id"))
    fields: dict[str, Any] = {
        "kind": "comment" if reply else "post",
        "time": iso_time(status["created_at"]),
        "url": status["url"] if isinstance(status.get("url"), str) else status["uri"],
        "text": text,
        "links": links,
        "repost_of": None,
        "author": _acct(status["account"], instance),
        "engagement": _counts(
            likes=status.get("favourites_count"),
            reposts=status.get("reblogs_count"),
            replies=status.get("replies_count"),
        ),
    }
    if reply is None:
        fields["reply_to"] = None
    elif (instance, reply) in index:
        fields["reply_to"] = f"mastodon:{index[(instance, reply)]}"
    quote = status.get("quote")
    quoted = quote.get("quoted_status") if isinstance(quote, dict) else None
    fields["quote_of"] = f"mastodon:{quoted['uri']}" if isinstance(quoted, dict) and isinstance(quoted.get("uri"), str) else None  # fmt: skip
    has_media = any(isinstance(m.get("url"), str) for m in media)
    empty = not (text.strip() or links or has_media or fields["quote_of"])
    return Want(f"mastodon:{status['uri']}", fields, empty=empty)


def _acct(account: dict[str, Any], instance: str) -> str | None:
    acct = account.get("acct")
    if not isinstance(acct, str) or not acct:
        return None
    return acct if "@" in acct else f"{acct}@{urlsplit(instance).netloc}"


# -- Bluesky -------------------------------------------------------------------------------------


def bluesky(record: Record) -> Expectation:
    payload = record.payload
    if record.kind == "postview" and isinstance(payload, dict):
        author = _obj(payload, "author")
        profile = author.get("handle") or author.get("did")
        post = payload.get("record")
        if isinstance(payload.get("uri"), str) and isinstance(post, dict) and isinstance(profile, str):  # fmt: skip
            want = _bluesky_post(payload["uri"], post, profile)
            if want is None:
                return Expectation()
            quoted = _bluesky_quoted(payload.get("embed"), want.fields.get("quote_of"))
            want.fields["author"] = author.get("handle")
            want.fields["engagement"] = _counts(
                likes=payload.get("likeCount"),
                reposts=payload.get("repostCount"),
                replies=payload.get("replyCount"),
                quotes=payload.get("quoteCount"),
            )
            return Expectation([*quoted, want])
        return Expectation()
    if record.kind != "jetstream" or not isinstance(payload, dict) or payload.get("kind") != "commit":  # fmt: skip
        return Expectation()
    commit = _obj(payload, "commit")
    did, rkey, collection = payload.get("did"), commit.get("rkey"), commit.get("collection")
    if not (isinstance(did, str) and isinstance(rkey, str)):
        return Expectation()
    uri = f"at://{did}/{collection}/{rkey}"
    post = commit.get("record")
    if commit.get("operation") == "delete" and collection == "app.bsky.feed.post":
        return Expectation([Want(f"bluesky:{uri}", {})])
    if commit.get("operation") != "create" or not isinstance(post, dict):
        return Expectation()
    if collection == "app.bsky.feed.post":
        want = _bluesky_post(uri, post, did)
        return Expectation([want] if want else [])
    if collection == "app.bsky.feed.repost":
        subject = _obj(post, "subject")
        fields = {
            "kind": "repost",
            "time": iso_time(post.get("createdAt")),
            "url": f"https://bsky.app/profile/{did}",
            "repost_of": f"bluesky:{subject.get('uri')}",
        }
        return Expectation([Want(f"bluesky:{uri}", fields)])
    return Expectation()


def _bluesky_post(uri: str, post: dict[str, Any], profile: str) -> Want | None:
    if not isinstance(post.get("text"), str) or iso_time(post.get("createdAt")) is None:
        return None  # refused: a post needs its text and a real time
    links: list[str] = []
    for facet in post.get("facets") or []:
        for feature in (facet.get("features") if isinstance(facet, dict) else None) or []:
            if isinstance(feature, dict) and str(feature.get("$type", "")).endswith("#link"):
                links.append(_text(feature, "uri"))
    embed = _obj(post, "embed")
    kind = str(embed.get("$type", ""))
    media_part = (
        _obj(embed, "media") if kind.startswith("app.bsky.embed.recordWithMedia") else embed
    )
    quoted = None
    if kind.startswith("app.bsky.embed.record"):
        holder = _obj(embed, "record")
        ref = (
            _obj(holder, "record") if kind.startswith("app.bsky.embed.recordWithMedia") else holder
        )
        target = ref.get("uri") if isinstance(ref, dict) else None
        if isinstance(target, str) and target.startswith("at://") and target.split("/")[3] == "app.bsky.feed.post":  # fmt: skip
            quoted = f"bluesky:{target}"
    alts, has_media = _bluesky_media(media_part if isinstance(media_part, dict) else {})
    card_holder = media_part if isinstance(media_part, dict) else {}
    external = card_holder.get("external") if str(card_holder.get("$type", "")).startswith("app.bsky.embed.external") else None  # fmt: skip
    card = external.get("uri") if isinstance(external, dict) else None
    if isinstance(card, str) and card.startswith(("http://", "https://")):
        links.append(card)
    reply = _obj(post, "reply")
    text = _join(post["text"], *alts)
    fields = {
        "kind": "comment" if reply else "post",
        "time": iso_time(post.get("createdAt")),
        "url": f"https://bsky.app/profile/{profile}/post/{uri.rsplit('/', 1)[-1]}",
        "text": text,
        "links": [link for link in links if link],
        "reply_to": _at(reply.get("parent")),
        "thread": _at(reply.get("root")),
        "quote_of": quoted,
        "repost_of": None,
    }
    empty = not (text.strip() or fields["links"] or has_media or quoted)
    return Want(f"bluesky:{uri}", fields, empty=empty)


def _bluesky_quoted(embed: Any, quote_of: Any) -> list[Want]:
    """The quoted post a view shows (`embed.record#view`: a `viewRecord` with the author and the
    record as `value`), when it is the post quoted."""
    kind = str(_text(embed, "$type"))
    holder = _obj(embed, "record")
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        holder = _obj(holder, "record")
    value, author = _obj(holder, "value"), _obj(holder, "author")
    uri, profile = holder.get("uri"), author.get("handle") or author.get("did")
    if not (isinstance(uri, str) and f"bluesky:{uri}" == quote_of and isinstance(profile, str)):
        return []
    want = _bluesky_post(uri, value, profile)
    if want is None:
        return []
    want.fields["author"] = author.get("handle")
    return [want]


def _bluesky_media(media: dict[str, Any]) -> tuple[list[str], bool]:
    kind = str(media.get("$type", ""))
    if kind.startswith("app.bsky.embed.images"):
        images = [i for i in media.get("images") or [] if isinstance(i, dict)]
        alts = [i["alt"] for i in images if isinstance(i.get("alt"), str)]
        return alts, any(_blob(i.get("image")) for i in images)
    if kind.startswith("app.bsky.embed.video"):
        alt = media.get("alt")
        return ([alt] if isinstance(alt, str) else []), _blob(media.get("video"))
    return [], False


def _blob(blob: Any) -> bool:
    ref = blob.get("ref") if isinstance(blob, dict) else None
    return isinstance(ref, dict) and isinstance(ref.get("$link"), str)


def _at(ref: Any) -> str | None:
    uri = ref.get("uri") if isinstance(ref, dict) else None
    return f"bluesky:{uri}" if isinstance(uri, str) and uri.startswith("at://") else None


# -- Reddit --------------------------------------------------------------------------------------

REDDIT = "https://www.reddit.com"


def reddit(record: Record) -> Expectation:
    things = [record.payload]
    if record.kind == "listing":
        data = record.payload.get("data") if isinstance(record.payload, dict) else None
        found = data.get("children") if isinstance(data, dict) else None
        things = found if isinstance(found, list) else []
    wants: list[Want] = []
    for thing in things:
        data = thing.get("data") if isinstance(thing, dict) else None
        parents = data.get("crosspost_parent_list") if isinstance(data, dict) else None
        shared = data.get("crosspost_parent") if isinstance(data, dict) else None
        for parent in parents if isinstance(parents, list) else []:
            if isinstance(parent, dict) and parent.get("name") == shared:
                wants += [w for w in [_reddit_thing({"kind": "t3", "data": parent})] if w]
                break
        wants += [w for w in [_reddit_thing(thing)] if w]
    return Expectation(wants)


def _reddit_thing(thing: Any) -> Want | None:
    if not isinstance(thing, dict) or thing.get("kind") not in ("t1", "t3"):
        return None
    data = thing.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    permalink = REDDIT + data["permalink"] if isinstance(data.get("permalink"), str) else None
    markdown = "selftext" if thing["kind"] == "t3" else "body"
    body = _text(data, markdown)
    body = "" if body in ("[removed]", "[deleted]") else html.unescape(body)
    rendered = data.get(f"{markdown}_html")
    anchors = html_text(html.unescape(rendered))[1] if isinstance(rendered, str) else []
    links = [urljoin(REDDIT, a["href"]) for a in anchors if a.get("href")]
    fields: dict[str, Any] = {
        "time": epoch(data.get("created_utc")),
        "url": permalink,
        "text": body,
        "author": data["author"] if data.get("author") not in (None, "[deleted]") else None,
        "engagement": _counts(score=data.get("score")),
    }
    if thing["kind"] == "t3":
        url = data.get("url")
        target = urljoin(REDDIT, url) if isinstance(url, str) and url else None
        if target and permalink and target.rstrip("/") != permalink.rstrip("/"):
            links.insert(0, target)
        crosspost = data.get("crosspost_parent")
        fields.update(
            kind="repost" if isinstance(crosspost, str) else "post",
            title=html.unescape(data["title"]) if isinstance(data.get("title"), str) else None,
            repost_of=f"reddit:{crosspost}" if isinstance(crosspost, str) else None,
        )
    else:
        parent, story = data.get("parent_id"), data.get("link_id")
        fields.update(
            kind="comment",
            reply_to=f"reddit:{parent}" if isinstance(parent, str) else None,
            thread=f"reddit:{story}" if isinstance(story, str) else None,
        )
    fields["links"] = links
    return Want(f"reddit:{data['name']}", fields)


# -- Hacker News ---------------------------------------------------------------------------------

HN = "https://news.ycombinator.com/"


def hackernews(record: Record) -> Expectation:
    payload = record.payload
    if record.kind == "search":
        hits = payload.get("hits") if isinstance(payload, dict) else None
        return Expectation([w for w in map(_hn_hit, hits if isinstance(hits, list) else []) if w])
    if record.kind == "hit":
        want = _hn_hit(payload)
        return Expectation([want] if want else [])
    if record.kind == "item_tree" and isinstance(payload, dict):
        return Expectation(_hn_tree(payload))
    return Expectation()


def _hn_text(markup: Any) -> tuple[str, list[str]]:
    if not isinstance(markup, str):
        return "", []
    if "<pre" not in markup:  # the old site's texts hold breaks as the characters \n
        markup = markup.replace("\\n", "\n").replace("\\t", " ")
    text, anchors = html_text(markup)
    return text, [urljoin(HN, a["href"]) for a in anchors if a.get("href")]


def _hn_hit(hit: Any) -> Want | None:
    if not isinstance(hit, dict) or _str(hit.get("objectID")) is None:
        return None
    ident = str(hit["objectID"])
    comment = "comment" in (hit.get("_tags") or []) or bool(hit.get("comment_text"))
    text, links = _hn_text(hit.get("comment_text") if comment else hit.get("story_text"))
    if isinstance(hit.get("url"), str) and hit["url"]:
        links.insert(0, hit["url"])
    parent, story = _str(hit.get("parent_id")), _str(hit.get("story_id"))
    fields = {
        "kind": "comment" if comment else "post",
        "time": epoch(hit.get("created_at_i")),
        "url": f"{HN}item?id={ident}",
        "text": text,
        "links": links,
        "reply_to": f"hackernews:{parent}" if comment and parent else None,
        "thread": f"hackernews:{story}" if story and story != ident else None,
        "author": hit.get("author") if isinstance(hit.get("author"), str) else None,
        "engagement": _counts(score=hit.get("points"), replies=hit.get("num_comments")),
    }
    return Want(f"hackernews:{ident}", fields, empty=not (text.strip() or hit.get("title")))


def _hn_tree(root: dict[str, Any]) -> list[Want]:
    wants: list[Want] = []
    stack = [(child, root.get("id")) for child in root.get("children") or []]
    while stack:
        node, parent = stack.pop()
        if not isinstance(node, dict) or node.get("type") != "comment" or not node.get("text"):
            continue
        text, links = _hn_text(node.get("text"))
        story = _str(node.get("story_id"))
        fields = {
            "kind": "comment",
            "time": epoch(node.get("created_at_i")),
            "url": f"{HN}item?id={node.get('id')}",
            "text": text,
            "links": links,
            "reply_to": f"hackernews:{parent}",
            "thread": f"hackernews:{story}" if story else None,
        }
        wants.append(Want(f"hackernews:{node.get('id')}", fields))
        stack.extend((child, node.get("id")) for child in node.get("children") or [])
    return wants


# -- Weibo ---------------------------------------------------------------------------------------


def weibo(record: Record) -> Expectation:
    if record.kind == "mblog":
        return Expectation(_weibo_mblog(record.payload))
    data = record.payload.get("data") if isinstance(record.payload, dict) else None
    cards = data.get("cards") if isinstance(data, dict) else None
    wants: list[Want] = []
    for mblog in _weibo_cards(cards if isinstance(cards, list) else []):
        wants += _weibo_mblog(mblog)
    return Expectation(wants)


def _weibo_cards(cards: list[Any]) -> list[Any]:
    found: list[Any] = []
    for card in cards:
        if isinstance(card, dict) and card.get("card_type") == 9 and isinstance(card.get("mblog"), dict):  # fmt: skip
            found.append(card["mblog"])
        elif isinstance(card, dict) and isinstance(card.get("card_group"), list):
            found += _weibo_cards(card["card_group"])
    return found


def _weibo_mblog(mblog: Any) -> list[Want]:
    if not isinstance(mblog, dict) or not isinstance(mblog.get("user"), dict):
        return []
    wants: list[Want] = []
    original = mblog.get("retweeted_status")
    if isinstance(original, dict) and isinstance(original.get("user"), dict):
        wants += _weibo_mblog({**original, "retweeted_status": None})
    ident = _str(mblog.get("id")) or _str(mblog.get("mid"))
    text, anchors = html_text(_text(mblog, "text"), alt=True)  # fmt: skip
    fields: dict[str, Any] = {
        "url": f"https://m.weibo.cn/detail/{ident}",
        "text": text,
        "links": _weibo_links(anchors),
        "repost_of": wants[0].doc_id if wants else None,
        "kind": "repost" if wants else "post",
        "author": _str(mblog["user"].get("screen_name")),
    }
    # "3分钟前", "昨天 12:00" are relative to a moment the record does not hold exactly: unchecked.
    with contextlib.suppress(ValueError):
        written = str(mblog.get("created_at"))
        fields["time"] = datetime.strptime(written, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    return [*wants, Want(f"weibo:{ident}", fields)]


def _weibo_links(anchors: list[dict[str, str]]) -> list[str]:
    links: list[str] = []
    for anchor in anchors:
        target = anchor.get("data-url") or anchor.get("href") or ""
        parts = urlsplit(urljoin("https://m.weibo.cn/", target))
        host = (parts.hostname or "").lower()
        weibo_site = host in ("weibo.cn", "weibo.com") or host.endswith((".weibo.cn", ".weibo.com"))  # fmt: skip
        if weibo_site and parts.path.rstrip("/") == "/sinaurl":
            links += parse_qs(parts.query).get("u", [])[:1]
        elif not weibo_site and parts.scheme in ("http", "https"):
            links.append(target)
    return links


# -- GitHub --------------------------------------------------------------------------------------


def github(record: Record) -> Expectation:
    payload, kind = record.payload, record.kind
    if not isinstance(payload, dict):
        return Expectation(current=False)
    current = "node_id" in payload or kind in ("search_commits",)
    if kind in ("star", "star_plain", "fork", "event"):
        return _github_activity(payload, kind, record.meta.get("repo"))
    repo = record.meta.get("repo")
    if kind == "search_issues":
        # The repository, from `repository_url` or, where a search answer lacks it, the html_url
        # of the issue (github.com/o/r/issues/12).
        api = payload.get("repository_url")
        page = payload.get("html_url")
        if not isinstance(api, str) and isinstance(page, str) and "github.com/" in page:
            api = "/repos/" + page.split("github.com/", 1)[1]
        repo = "/".join(api.split("/repos/", 1)[1].split("/")[:2]) if isinstance(api, str) and "/repos/" in api else None  # fmt: skip
    if kind in ("issue", "search_issues") and isinstance(repo, str):
        return Expectation([_github_issue(payload, repo.lower())], current)
    if kind == "comment" and isinstance(repo, str):
        return Expectation([_github_comment(payload, repo.lower())], current)
    if kind in ("repo", "search_repos") and isinstance(payload.get("full_name"), str):
        name = payload["full_name"].lower()
        fields = {
            "kind": "repo",
            "time": iso_time(payload.get("created_at")),
            "url": payload.get("html_url"),
            "title": payload["full_name"],
            "text": payload.get("description") or "",
        }
        return Expectation([Want(f"github:{name}", fields)], current)
    if kind == "search_commits":
        return Expectation(_github_commit(payload), current)
    if kind == "readme" and isinstance(repo, str):
        try:
            text = base64.b64decode(str(payload.get("content"))).decode("utf-8", "replace")
        except ValueError:
            return Expectation(current=current)
        fields = {"kind": "article", "url": payload.get("html_url"), "text": text, "links": plain_links(text)}  # fmt: skip
        return Expectation([Want(f"github:{repo.lower()}:readme", fields)], current)
    return Expectation(current=False)


def _github_activity(record: dict[str, Any], kind: str, repo: Any) -> Expectation:
    """Stars, forks and events are activity points: their id (a star is `<repo>:<login>`, a
    fork its full name, also when an event reports them) and time are checked."""
    want: Want | None = None
    login = _obj(record, "user").get("login")
    if kind == "star" and isinstance(repo, str) and isinstance(login, str):
        want = Want(f"github:{repo.lower()}:{login.lower()}", {"time": iso_time(record.get("starred_at"))})  # fmt: skip
    elif kind == "fork" and isinstance(record.get("full_name"), str):
        want = Want(f"github:{record['full_name'].lower()}", {"time": iso_time(record.get("created_at"))})  # fmt: skip
    elif kind == "event" and isinstance(record.get("id"), str):
        name, actor = _obj(record, "repo").get("name"), _obj(record, "actor").get("login")
        forkee = _obj(_obj(record, "payload"), "forkee").get("full_name")
        ident = record["id"]
        if record.get("type") == "WatchEvent" and isinstance(name, str) and isinstance(actor, str):
            ident = f"{name.lower()}:{actor.lower()}"
        elif record.get("type") == "ForkEvent" and isinstance(forkee, str):
            ident = forkee.lower()
        want = Want(f"github:{ident}", {"time": iso_time(record.get("created_at"))})
    # A stargazer listed without `starred_at` (the API before 2012's star media type) is old.
    return Expectation([want] if want else [], current=want is not None, activities=True)


def _github_issue(issue: dict[str, Any], repo: str) -> Want:
    pull = _obj(issue, "pull_request")
    body = _text(issue, "body")
    fields = {
        "kind": "pull_request" if pull.get("html_url") or pull.get("url") else "issue",
        "time": iso_time(issue.get("created_at")),
        "url": issue.get("html_url"),
        "title": issue.get("title"),
        "text": body,
        "links": plain_links(body),
        "reply_to": f"github:{repo}",
        "engagement": _counts(replies=issue.get("comments")),
        "author": (issue.get("user") or {}).get("login")
        if isinstance(issue.get("user"), dict)
        else None,
    }
    return Want(f"github:{repo}#{issue.get('number')}", fields)


def _github_comment(comment: dict[str, Any], repo: str) -> Want:
    issue_url = str(comment.get("issue_url") or "")
    number = issue_url.rstrip("/").rsplit("/", 1)[-1]
    body = _text(comment, "body")
    fields = {
        "kind": "comment",
        "time": iso_time(comment.get("created_at")),
        "url": comment.get("html_url"),
        "text": body,
        "links": plain_links(body),
        "reply_to": f"github:{repo}#{number}",
        "thread": f"github:{repo}#{number}",
    }
    return Want(f"github:{repo}#{number}/comment-{comment.get('id')}", fields)


def _github_commit(item: dict[str, Any]) -> list[Want]:
    inner = _obj(item, "commit")
    repository = _obj(item, "repository")
    name = repository.get("full_name")
    if not isinstance(name, str) or not isinstance(item.get("sha"), str):
        return []
    message = _text(inner, "message")
    written = _obj(inner, "author")
    fields = {
        "kind": "commit",
        "time": iso_time(written.get("date")),
        "url": item.get("html_url"),
        "text": message,
        "links": plain_links(message),
        "reply_to": f"github:{name.lower()}",
    }
    return [Want(f"github:{name.lower()}@{item['sha']}", fields)]


# -- feeds ---------------------------------------------------------------------------------------

GOOGLE_NEWS = "news.google.com"


def feeds(record: Record, folder: Path) -> Expectation:
    if record.kind != "google_news":
        return Expectation(current=False)  # feedparser's own cases: robustness only
    root = ET.fromstring(feed_document(folder, record))
    wants: dict[str, Want] = {}
    for item in root.iter("item"):
        want = _news_item(item)
        wants.setdefault(want.doc_id, want)  # the spider keeps a guid's first item
    return Expectation(list(wants.values()))


def _news_item(item: ET.Element) -> Want:
    guid = item.findtext("guid") or item.findtext("link") or ""
    link = (item.findtext("link") or "").strip()
    description = item.findtext("description") or ""
    source = item.find("source")
    publisher = source.text if source is not None else None
    title = item.findtext("title") or ""
    if publisher and title.endswith(f" - {publisher}"):
        title = title[: -len(f" - {publisher}")]
    url, via = link, None
    if urlsplit(link).hostname == GOOGLE_NEWS:
        anchors = html_text(description)[1]
        outside = [a["href"] for a in anchors if a.get("href", "").startswith("http") and urlsplit(a["href"]).hostname != GOOGLE_NEWS]  # fmt: skip
        inside = _google_article(urlsplit(link).path.rsplit("/", 1)[-1])
        if outside or inside:
            url, via = (outside[0] if outside else str(inside)), link
    published = item.findtext("pubDate")
    fields = {
        "kind": "article",
        "time": email.utils.parsedate_to_datetime(published).astimezone(UTC) if published else None,
        "url": url,
        "via": via,
        "title": title,
        "text": html_text(description)[0] or title,
        "links": [url],
    }
    return Want(f"news:{hashlib.sha1(guid.encode()).hexdigest()}", fields)


def _google_article(token: str) -> str | None:
    """The article URL a `CBMi…` token carries: read as protobuf fields, the first string
    that is an http(s) address."""
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        if key & 7 == 0:
            _, at = _varint(data, at)
        elif key & 7 == 2:
            size, at = _varint(data, at)
            chunk = data[at : at + size]
            at += size
            if chunk.startswith((b"http://", b"https://")) and len(chunk) == size:
                return chunk.decode("utf-8", "replace")
        else:
            return None
    return None


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while at < len(data):
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
    return value, at


def expect(record: Record, folder: Path, index: dict[tuple[str, str], str]) -> Expectation:
    if record.platform == "mastodon":
        return mastodon(record, index)
    if record.platform == "feeds":
        return feeds(record, folder)
    reader = {"bluesky": bluesky, "reddit": reddit, "hackernews": hackernews, "weibo": weibo, "github": github}  # fmt: skip
    return reader[record.platform](record)
