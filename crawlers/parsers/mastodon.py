"""Mastodon statuses (hashtag timelines, `/api/v2/search`) as posts.

A status is stored under its ActivityPub `uri`, which is the same on every instance, so the same
toot fetched from two instances is one document. A boost is a status of its own whose `reblog`
holds the original: both are kept, the boost as a repost of the original. `in_reply_to_id` is an
id local to the instance it came from; `reply_to` keeps it as `mastodon:<host>/<id>`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from crawlers.items import Author, Engagement, Post
from crawlers.normalise import read_html
from crawlers.parsers.common import ParseError, from_iso, need, opt_int, record_parser

PLATFORM = "mastodon"


def parse_statuses(payload: Any, instance: str) -> list[Post]:
    """Every status of a timeline page (boosted originals included), newest first."""
    if not isinstance(payload, list):
        raise ParseError(
            f"mastodon {instance}: expected a list of statuses, got {str(payload)[:80]!r}"
        )
    posts: list[Post] = []
    for status in payload:
        posts.extend(parse_status(status, instance))
    return posts


def parse_search(payload: Any, instance: str) -> list[Post]:
    """Statuses of a `/api/v2/search` answer (`{accounts, statuses, hashtags}`)."""
    statuses = need(payload, "statuses", list, f"mastodon {instance} search")
    return parse_statuses(statuses, instance)


@record_parser
def parse_status(status: Any, instance: str) -> list[Post]:
    """A status, and for a boost also the boosted original (first)."""
    reblog = status.get("reblog") if isinstance(status, dict) else None
    if isinstance(reblog, dict):
        original = _post(reblog, instance)
        boost = _post(status, instance)
        boost.repost_of = original.doc_id
        boost.text = ""
        return [original, boost]
    return [_post(status, instance)]


def page_ids(payload: Any) -> list[str]:
    """The instance-local ids of a page (for `since_id`/`max_id` paging)."""
    if not isinstance(payload, list):
        return []
    return [s["id"] for s in payload if isinstance(s, dict) and isinstance(s.get("id"), str)]


def _post(status: Any, instance: str) -> Post:
    uri = need(status, "uri", str, f"mastodon {instance} status")
    account = need(status, "account", dict, f"mastodon status {uri}")
    read = read_html(status.get("content") if isinstance(status.get("content"), str) else "")
    text, links = read.text, read.links
    reply = status.get("in_reply_to_id")
    return Post(
        platform=PLATFORM,
        native_id=uri,
        timestamp=from_iso(status.get("created_at"), f"mastodon status {uri} created_at"),
        kind="comment" if reply else "post",
        url=status.get("url") if isinstance(status.get("url"), str) else uri,
        author=_author(account, instance),
        text=text,
        lang=status.get("language") if isinstance(status.get("language"), str) else None,
        hashtags=[
            t["name"] for t in status.get("tags") or [] if isinstance(t, dict) and "name" in t
        ],
        mentions=[
            m["acct"] for m in status.get("mentions") or [] if isinstance(m, dict) and "acct" in m
        ],
        links=[link for link in links if not _is_tag_or_mention(link)],
        reply_to=f"{PLATFORM}:{_host(instance)}/{reply}" if reply else None,
        quote_of=_quote(status),
        engagement=Engagement(
            likes=opt_int(status.get("favourites_count")),
            reposts=opt_int(status.get("reblogs_count")),
            replies=opt_int(status.get("replies_count")),
            quotes=opt_int(status.get("quotes_count")),
        ),
    )


def _author(account: dict[str, Any], instance: str) -> Author:
    acct = account.get("acct") if isinstance(account.get("acct"), str) else None
    if acct and "@" not in acct:
        acct = f"{acct}@{_host(instance)}"  # local accounts are written without their host
    return Author(
        id=account.get("url") if isinstance(account.get("url"), str) else None,
        handle=acct,
        name=account.get("display_name") or None,
        url=account.get("url") if isinstance(account.get("url"), str) else None,
        followers=opt_int(account.get("followers_count")),
        verified=None,
    )


def _quote(status: dict[str, Any]) -> str | None:
    """Mastodon 4.4+ quotes: `quote{state, quoted_status}`; only accepted quotes count."""
    quote = status.get("quote")
    if not isinstance(quote, dict) or not isinstance(quote.get("quoted_status"), dict):
        return None
    uri = quote["quoted_status"].get("uri")
    return f"{PLATFORM}:{uri}" if isinstance(uri, str) else None


def _is_tag_or_mention(link: str) -> bool:
    path = urlsplit(link).path
    return path.startswith("/tags/") or (path.startswith("/@") and "/" not in path[2:].strip("/"))


def _host(instance: str) -> str:
    return urlsplit(instance if "://" in instance else f"https://{instance}").netloc or instance


__all__ = ["PLATFORM", "ParseError", "page_ids", "parse_search", "parse_status", "parse_statuses"]
