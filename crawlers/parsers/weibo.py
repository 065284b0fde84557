"""m.weibo.cn container pages (search and user timelines) as posts.

Cards of type 9 hold one `mblog`; cards of type 11 group more cards (the first search page wraps
posts this way). Page furniture (album and photo entries, tips, headers, hot-search lists) is
no post; a card of any other type is one the parser does not know, which the spider counts
(`unknown_cards`) instead of skipping it silently. A repost carries its original in `retweeted_status`: both are kept, the repost
as kind `repost` (with its own words, often just "转发微博") linked by `repost_of`. `isLongText` posts are truncated here; the spider fetches the full text.

The text keeps Weibo's emoticons as their names (`[doge]`, an `<img alt>` in the HTML). Links
are what the author shared: a card's `data-url` (a `t.cn` short link) or an outside `href`, and
a `sinaurl?u=` wrapper unwrapped; Weibo's own topic, search, profile and "全文" links are the
site's navigation, not shared links. Attached pictures are media.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from crawlers.items import Author, Engagement, Post
from crawlers.normalise import read_html
from crawlers.parsers.common import (
    ParseError,
    embedded,
    need,
    opt_int,
    opt_str,
    record_parser,
)
from crawlers.parsers.weibo_time import parse_count, parse_weibo_time
from spreadwatch.urls import split

PLATFORM = "weibo"
SITE = "https://m.weibo.cn/"
#: Weibo's own sites: links there are navigation (topics, searches, profiles), not shared.
_WEIBO_HOSTS = ("weibo.cn", "weibo.com")
_HASHTAG = re.compile(r"#([^#\n]{1,60})#")
_MENTION = re.compile(r"@([\w\-\u4e00-\u9fff]{1,30})")


#: Card types that are page furniture, not posts: tips (4), album and photo entries (8, 47),
#: hot-search lists (17), headers (42), "no more results" (58).
FURNITURE_CARDS = frozenset({4, 8, 17, 42, 47, 58})
_POST_CARD, _GROUP_CARD = 9, 11


class WeiboLoginRequiredError(ParseError):
    """Weibo answered `ok:-100` (or HTTP 432): the cookie is missing or expired."""


def check_ok(payload: Any, where: str) -> dict[str, Any]:
    """The `data` of an answer, or a clear error: login needed, or another refusal."""
    if not isinstance(payload, dict):
        raise ParseError(f"weibo {where}: expected an object, got {str(payload)[:80]!r}")
    status = payload.get("ok")
    if status == -100:
        raise WeiboLoginRequiredError(
            f"weibo {where}: cookie missing or expired (ok:-100); set the cookie variable"
        )
    if status != 1:
        message = payload.get("msg") or payload.get("message") or "no message"
        raise ParseError(f"weibo {where}: refused with ok:{status!r} ({message})")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ParseError(f"weibo {where}: field 'data' should be an object")
    return data


def parse_container(payload: Any, now: datetime) -> list[Post]:
    """Every post on a container page (originals of reposts included); [] at the end.

    Past the last page Weibo answers `{"ok": 0, "msg": "这里还没有内容"}`: the end, not an error.
    A post of the wrong shape raises `ParseError`; `parse_cards` keeps the rest instead.
    """
    posts, errors = parse_cards(payload, now)
    if errors:
        raise errors[0]
    return posts


def parse_cards(payload: Any, now: datetime) -> tuple[list[Post], list[ParseError]]:
    """The posts of a page, and the errors of the posts that could not be read.

    A refusal of the whole page (`ok:-100`, another `ok`, no `data`) still raises.
    """
    if isinstance(payload, dict) and payload.get("ok") == 0:
        return [], []
    data = check_ok(payload, "container")
    cards = data.get("cards")
    if cards is None:
        return [], []
    if not isinstance(cards, list):
        raise ParseError("weibo container: field 'cards' should be a list")
    posts: list[Post] = []
    errors: list[ParseError] = []
    for mblog in _mblogs(cards):
        try:
            posts.extend(parse_mblog(mblog, now))
        except ParseError as error:
            errors.append(error)
    return posts, errors


@record_parser
def parse_mblog(mblog: Any, now: datetime) -> list[Post]:
    """A post, and for a repost first its original."""
    original = mblog.get("retweeted_status") if isinstance(mblog, dict) else None
    post = _post(mblog, now)
    if not isinstance(original, dict) or not original.get("user"):  # deleted: no user
        return [post]
    post.kind = "repost"
    original_id = _post_id(original)
    post.repost_of = f"{PLATFORM}:{original_id}" if original_id else None
    read = embedded(lambda: _post(original, now), f"weibo repost {post.native_id}")
    return [read, post] if read else [post]


def parse_long_text(payload: Any) -> str:
    """The full text from `/statuses/extend?id=` (`data.longTextContent`, HTML)."""
    return _read(_long_html(payload))[0]


def with_long_text(post: Post, payload: Any) -> Post:
    """`post` with the full text of `/statuses/extend?id=`, read like a post's own HTML: its
    links, topics and mentions too (the page's copy was cut)."""
    text, links = _read(_long_html(payload))
    post.text = text
    post.links = list(dict.fromkeys([*post.links, *links]))
    post.hashtags, post.mentions = _HASHTAG.findall(text), _MENTION.findall(text)
    return post


def _long_html(payload: Any) -> str:
    data = check_ok(payload, "long text")
    return str(need(data, "longTextContent", str, "weibo long text"))


def _read(html: str) -> tuple[str, list[str]]:
    """Text (emoticons as their names) and the links the author shared, of Weibo HTML."""
    read = read_html(html, base=SITE, link_attrs=("data-url", "href"), alt_text=True)
    return read.text, shared_links(read.links)


def is_long_text(post_mblog: Any) -> bool:
    return isinstance(post_mblog, dict) and post_mblog.get("isLongText") is True


def long_text_ids(cards_payload: Any) -> list[str]:
    """Ids of truncated posts on a container page, whose full text needs a second request."""
    data = cards_payload.get("data") if isinstance(cards_payload, dict) else None
    cards = data.get("cards") if isinstance(data, dict) else None
    found: list[str] = []
    for mblog in _mblogs(cards if isinstance(cards, list) else []):
        for item in (mblog, mblog.get("retweeted_status")):
            if isinstance(item, dict) and is_long_text(item) and opt_str(item.get("id")):
                found.append(str(item["id"]))
    return found


def unknown_cards(payload: Any) -> list[str]:
    """The types of a page's cards that are neither posts, groups nor known furniture."""
    data = payload.get("data") if isinstance(payload, dict) else None
    cards = data.get("cards") if isinstance(data, dict) else None
    return _unknown(cards) if isinstance(cards, list) else []


def _unknown(cards: list[Any]) -> list[str]:
    found: list[str] = []
    for card in cards:
        kind = card.get("card_type") if isinstance(card, dict) else None
        if isinstance(card, dict) and isinstance(card.get("card_group"), list):
            found.extend(_unknown(card["card_group"]))
        elif kind not in (_POST_CARD, *FURNITURE_CARDS):
            found.append(repr(kind))
    return found


def _mblogs(cards: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for card in cards:
        if not isinstance(card, dict):
            continue
        if card.get("card_type") == _POST_CARD and isinstance(card.get("mblog"), dict):
            found.append(card["mblog"])
        elif isinstance(card.get("card_group"), list):
            found.extend(_mblogs(card["card_group"]))
    return found


def _post_id(mblog: dict[str, Any]) -> str | None:
    """A post's own id: `id`, or `mid` where a page gives only that."""
    return opt_str(mblog.get("id")) or opt_str(mblog.get("mid"))


def _post(mblog: dict[str, Any], now: datetime) -> Post:
    post_id = _post_id(mblog)
    if post_id is None:
        raise ParseError(f"weibo mblog: no id in {str(mblog)[:80]!r}")
    user = need(mblog, "user", dict, f"weibo mblog {post_id}")
    html = mblog.get("text")
    text, links = _read(html if isinstance(html, str) else "")
    return Post(
        platform=PLATFORM,
        native_id=post_id,
        timestamp=parse_weibo_time(mblog.get("created_at"), now),  # type: ignore[arg-type]
        url=f"https://m.weibo.cn/detail/{post_id}",
        author=_author(user),
        text=text,
        hashtags=_HASHTAG.findall(text),
        mentions=_MENTION.findall(text),
        links=links,
        media=_pictures(mblog),
        engagement=Engagement(
            reposts=parse_count(mblog.get("reposts_count")),
            replies=parse_count(mblog.get("comments_count")),
            likes=parse_count(mblog.get("attitudes_count")),
        ),
    )


def shared_links(links: list[str]) -> list[str]:
    """The links an author shared, without Weibo's own navigation (see the module docstring)."""
    shared: list[str] = []
    for link in links:
        parts = split(link)
        if parts is None:
            continue
        host = parts.hostname or ""
        own = host in _WEIBO_HOSTS or host.endswith(tuple(f".{h}" for h in _WEIBO_HOSTS))
        if own and parts.path.rstrip("/") == "/sinaurl":
            target = parse_qs(parts.query).get("u") or parse_qs(parts.query).get("toasturl")
            if target and split(target[0]) is not None:
                shared.append(target[0])
        elif not own:
            shared.append(link)
    return shared


def _pictures(mblog: dict[str, Any]) -> list[str]:
    pictures: list[str] = []
    for pic in mblog.get("pics") or []:
        if not isinstance(pic, dict):
            continue
        large = pic.get("large")
        url = (large if isinstance(large, dict) else pic).get("url")
        if isinstance(url, str):
            pictures.append(url)
    return pictures


def _author(user: dict[str, Any]) -> Author:
    user_id = opt_str(user.get("id"))
    return Author(
        id=user_id,
        handle=opt_str(user.get("screen_name")),
        name=opt_str(user.get("screen_name")),
        url=f"https://m.weibo.cn/u/{user_id}" if user_id else None,
        followers=parse_count(user.get("followers_count")),
        verified=user.get("verified") if isinstance(user.get("verified"), bool) else None,
    )


__all__ = [
    "PLATFORM",
    "ParseError",
    "WeiboLoginRequiredError",
    "check_ok",
    "long_text_ids",
    "opt_int",
    "parse_cards",
    "parse_container",
    "parse_long_text",
    "parse_mblog",
    "with_long_text",
]
