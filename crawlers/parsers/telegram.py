"""Public Telegram channel previews (`t.me/s/<channel>`) as posts.

The preview is HTML made for browsers: each message is a `div.tgme_widget_message` with
`data-post="<channel>/<id>"`. Older messages are one `?before=<smallest id>` away.
"""

from __future__ import annotations

import re
from typing import Any

from parsel import Selector

from crawlers.items import Author, Engagement, Post
from crawlers.normalise import read_html
from crawlers.parsers.common import ParseError, from_iso
from spreadwatch.urls import domain_of

PLATFORM = "telegram"
_VIEWS = re.compile(r"^(\d+(?:\.\d+)?)([KMB]?)$", re.I)
_SCALE = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}


def parse_channel_page(html: str, channel: str) -> tuple[list[Post], int | None]:
    """The messages of one preview page and the `before` cursor for the older page.

    Returns ([], None) for a page without messages (the end, or a private channel); a message
    without id or time raises `ParseError`.
    """
    posts, before, errors = parse_channel_messages(html, channel)
    if errors:
        raise errors[0]
    return posts, before


def parse_channel_messages(html: str, channel: str) -> tuple[list[Post], int | None, list[ParseError]]:  # fmt: skip
    """Like `parse_channel_page`, but a bad message is returned as an error, not raised."""
    posts: list[Post] = []
    errors: list[ParseError] = []
    ids: list[int] = []
    for node in Selector(text=html).css("div.tgme_widget_message[data-post]"):
        number = node.attrib.get("data-post", "").rpartition("/")[2]
        if number.isdigit():
            ids.append(int(number))
        try:
            posts.append(_message(node, channel))
        except ParseError as error:
            errors.append(error)
    return posts, (min(ids) if ids else None), errors


def parse_views(value: str | None) -> int | None:
    """`1.2K` → 1200; `5M` → 5,000,000; unreadable → None."""
    match = _VIEWS.match((value or "").strip())
    if not match:
        return None
    return round(float(match.group(1)) * _SCALE[match.group(2).upper()])


def _message(node: Selector, channel: str) -> Post:
    data_post = node.attrib.get("data-post", "")
    name, _, number = data_post.partition("/")
    if not number.isdigit():
        raise ParseError(f"telegram {channel}: message without a numeric data-post: {data_post!r}")
    moment = node.css(".tgme_widget_message_date time::attr(datetime)").get()
    read = read_html(node.css(".tgme_widget_message_bubble > .tgme_widget_message_text").get())
    text, links = read.text, read.links
    owner = node.css(".tgme_widget_message_owner_name ::text").get()
    forwarded = node.css("a.tgme_widget_message_forwarded_from_name::attr(href)").get()
    reply = node.css("a.tgme_widget_message_reply::attr(href)").get()
    return Post(
        platform=PLATFORM,
        native_id=f"{name.lower()}/{number}",
        timestamp=from_iso(moment, f"telegram {data_post} time"),
        kind="repost" if _ref(forwarded) else "post",  # a forward shares another message
        media=_photos(node),
        url=f"https://t.me/{data_post}",
        author=Author(id=name.lower(), handle=name, name=owner, url=f"https://t.me/{name}"),
        text=text,
        links=links,
        domain=domain_of(links[0]) if links else None,
        hashtags=re.findall(r"#(\w+)", text),
        repost_of=_ref(forwarded),
        reply_to=_ref(reply),
        engagement=Engagement(
            views=parse_views(node.css(".tgme_widget_message_views::text").get())
        ),
    )


_BACKGROUND = re.compile(r"background-image:\s*url\(['\"]?([^'\")]+)")


def _photos(node: Selector) -> list[str]:
    """A message's photos: the page shows each as a link's background image."""
    styles = node.css("a.tgme_widget_message_photo_wrap::attr(style)").getall()
    return [m.group(1) for m in map(_BACKGROUND.search, styles) if m]


def _ref(href: Any) -> str | None:
    """`https://t.me/<channel>/<id>` as the document id of that message."""
    match = re.match(r"^https?://t\.me/(?:s/)?([\w]+)/(\d+)", href or "")
    return f"{PLATFORM}:{match.group(1).lower()}/{match.group(2)}" if match else None


__all__ = ["PLATFORM", "ParseError", "parse_channel_messages", "parse_channel_page", "parse_views"]
