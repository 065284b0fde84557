"""Reddit listings (OAuth API or public JSON: the same `Listing` shape) as posts and comments.

Texts are markdown in which HTML entities stand as typed (`&#37;`, and `&amp;` everywhere when
the request lacks `raw_json=1`): they are decoded. A link post's `url` may be relative (a
crosspost names its parent's permalink `/r/…`); links, like those in `selftext_html`, are
resolved against the site, so a link to another thread is kept as an address. A crosspost is
kind `repost` of the post it shares (`repost_of`), which `parse_things` yields first.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from crawlers.items import Author, Engagement, Post
from crawlers.normalise import read_html
from crawlers.parsers.common import (
    ParseError,
    embedded,
    from_epoch,
    need,
    opt_int,
    record_id,
    record_parser,
)
from spreadwatch.urls import clean_url, domain_of

PLATFORM = "reddit"
SITE = "https://www.reddit.com"


def parse_listing(payload: Any) -> tuple[list[Post], str | None]:
    """Posts of one listing page and its `after` cursor (None on the last page)."""
    if not isinstance(payload, dict) or payload.get("kind") != "Listing":
        raise ParseError(f"reddit: expected a Listing, got {str(payload)[:80]!r}")
    data = need(payload, "data", dict, "reddit listing")
    children = need(data, "children", list, "reddit listing data")
    after = data.get("after") if isinstance(data.get("after"), str) else None
    return [parse_thing(child) for child in children], after


def parse_things(thing: Any) -> list[Post]:
    """A thing and, for a crosspost, first the post it shares (Reddit sends it along in
    `crosspost_parent_list`): the original is kept like a boosted or reposted one elsewhere."""
    post = parse_thing(thing)
    parents = thing["data"].get("crosspost_parent_list") if post.repost_of else None
    shared = [
        parent
        for parent in (parents if isinstance(parents, list) else [])
        if isinstance(parent, dict) and f"{PLATFORM}:{parent.get('name')}" == post.repost_of
    ]
    if not shared:
        return [post]
    where = f"reddit crosspost {post.native_id}"
    original = embedded(lambda: parse_thing({"kind": "t3", "data": shared[0]}), where)
    return [original, post] if original else [post]


@record_parser
def parse_thing(thing: Any) -> Post:
    """A `t3` link (post) or `t1` comment."""
    kind = need(thing, "kind", str, "reddit thing")
    data = need(thing, "data", dict, f"reddit {kind}")
    if kind == "t3":
        return _link(data)
    if kind == "t1":
        return _comment(data)
    raise ParseError(f"reddit: unexpected thing kind {kind!r}")


def _link(data: dict[str, Any]) -> Post:
    name = need(data, "name", str, "reddit t3")
    permalink = _permalink(data)
    url = clean_url(data.get("url") if isinstance(data.get("url"), str) else None, SITE)
    external = url if url and url != clean_url(permalink) else None
    crosspost = data.get("crosspost_parent")
    links = _html_links(data, "selftext_html")
    return Post(
        platform=PLATFORM,
        native_id=name,
        timestamp=from_epoch(data.get("created_utc"), f"reddit {name} created_utc"),
        kind="repost" if isinstance(crosspost, str) else "post",
        url=permalink,
        author=_author(data),
        title=html.unescape(data["title"]) if isinstance(data.get("title"), str) else None,
        text=_body(data, "selftext"),
        deleted_how=gone(data, "selftext"),
        links=[external, *links] if external else links,
        domain=domain_of(external),
        repost_of=f"{PLATFORM}:{crosspost}" if isinstance(crosspost, str) else None,
        hashtags=[f"r/{data['subreddit']}"] if isinstance(data.get("subreddit"), str) else [],
        engagement=Engagement(
            score=opt_int(data.get("score")),
            replies=opt_int(data.get("num_comments")),
            reposts=opt_int(data.get("num_crossposts")),
        ),
    )


def _comment(data: dict[str, Any]) -> Post:
    name = need(data, "name", str, "reddit t1")
    parent, link = data.get("parent_id"), data.get("link_id")
    return Post(
        platform=PLATFORM,
        native_id=name,
        timestamp=from_epoch(data.get("created_utc"), f"reddit {name} created_utc"),
        kind="comment",
        url=_permalink(data),
        author=_author(data),
        text=_body(data, "body"),
        deleted_how=gone(data, "body"),
        links=_html_links(data, "body_html"),
        reply_to=f"{PLATFORM}:{parent}" if isinstance(parent, str) else None,
        thread=f"{PLATFORM}:{link}" if isinstance(link, str) else None,
        engagement=Engagement(score=opt_int(data.get("score"))),
    )


def listing_data(payload: Any) -> dict[str, Any] | None:
    """The `data` of a `Listing` (children, `after`), None when the answer has none."""
    data = payload.get("data") if isinstance(payload, dict) else None
    return data if isinstance(data, dict) else None


def listing_children(payload: Any) -> list[Any] | None:
    """The things of a `Listing`, None when it holds no list of them."""
    children = (listing_data(payload) or {}).get("children")
    return children if isinstance(children, list) else None


def comment_things(payload: Any) -> tuple[list[Any], list[str], list[ParseError]]:
    """The comments (`t1` things, for `parse_thing`) of a `/comments/{article}` answer — a
    `[link listing, comment listing]` pair whose comments nest under `replies` — the ids its
    `more` stubs stand for (to ask `/api/morechildren`), and the errors of the nested parts it
    could not read (one comment's unreadable replies are one drop; the rest is read)."""
    if not isinstance(payload, list) or len(payload) != 2:
        raise ParseError(f"reddit: expected [link, comments] listings, got {str(payload)[:80]!r}")
    comments = need(need(payload[1], "data", dict, "reddit comments"), "children", list, "reddit comments")  # fmt: skip
    found = _Found()
    found.walk(comments)
    return found.things, found.more, found.errors


def more_things(payload: Any) -> tuple[list[Any], list[str], list[ParseError]]:
    """The comments of an `/api/morechildren` answer (flat, under `json.data.things`), the
    ids of the `more` stubs among them, and the errors of the parts it could not read."""
    body = need(payload, "json", dict, "reddit morechildren")
    errors = body.get("errors")
    if errors:
        raise ParseError(f"reddit morechildren: {str(errors)[:120]}")
    things = need(need(body, "data", dict, "reddit morechildren"), "things", list, "reddit morechildren")  # fmt: skip
    found = _Found()
    found.walk(things)
    return found.things, found.more, found.errors


@dataclass
class _Found:
    things: list[Any] = field(default_factory=list)
    more: list[str] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)

    def walk(self, children: list[Any]) -> None:
        for child in children:
            kind = child.get("kind") if isinstance(child, dict) else None
            data = child.get("data") if isinstance(child, dict) else None
            if kind == "more" and isinstance(data, dict):
                # "continue this thread" stubs carry no ids (count 0); their depth is not followed.
                ids = data.get("children")
                if isinstance(ids, list):
                    self.more += [i for i in ids if isinstance(i, str)]
                elif ids is not None:
                    self.errors.append(ParseError(f"reddit more {record_id(child)}: field 'children' should be list, got {ids!r:.80}"))  # fmt: skip
                continue
            self.things.append(child)
            replies = data.get("replies") if isinstance(data, dict) else None
            if replies in (None, ""):  # "": no replies
                continue
            nested = listing_children(replies)
            if nested is None:
                self.errors.append(ParseError(f"reddit {record_id(child)}: field 'replies' should be a Listing, got {replies!r:.80}"))  # fmt: skip
                continue
            self.walk(nested)


def gone(data: dict[str, Any], field: str) -> str | None:
    """How Reddit says a thing is gone: `[removed]` (moderators, admins, filters; with
    `removed_by_category`), `[deleted]` (by its author), or an author account deleted."""
    body, category = data.get(field), data.get("removed_by_category")
    if body == "[removed]" or (isinstance(category, str) and category):
        return (
            f"reddit:removed:{category}"
            if isinstance(category, str) and category
            else "reddit:removed"
        )
    if body == "[deleted]":
        return "reddit:deleted"
    if data.get("author") == "[deleted]":
        return "reddit:author_deleted"
    return None


def _body(data: dict[str, Any], field: str) -> str:
    """The text; empty when Reddit replaced it by a `[removed]`/`[deleted]` marker."""
    value = _str(data.get(field))
    return "" if value in ("[removed]", "[deleted]") else html.unescape(value)


def _html_links(data: dict[str, Any], field: str) -> list[str]:
    """Links of `selftext_html`/`body_html`: HTML-escaped HTML (without `raw_json=1`) or HTML;
    only its links are taken, the text is the markdown field."""
    value = data.get(field)
    return read_html(html.unescape(value), base=SITE).links if isinstance(value, str) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _permalink(data: dict[str, Any]) -> str | None:
    permalink = data.get("permalink")
    return SITE + permalink if isinstance(permalink, str) and permalink.startswith("/") else None


def _author(data: dict[str, Any]) -> Author:
    name = data.get("author")
    if not isinstance(name, str) or name == "[deleted]":
        return Author()
    author_id = data.get("author_fullname")
    return Author(
        id=author_id if isinstance(author_id, str) else name,
        handle=name,
        url=f"{SITE}/user/{name}",
    )


__all__ = [
    "PLATFORM",
    "ParseError",
    "comment_things",
    "gone",
    "listing_children",
    "listing_data",
    "more_things",
    "parse_listing",
    "parse_thing",
    "parse_things",
]
