"""Mastodon statuses (hashtag timelines, `/api/v2/search`) as posts.

A status is stored under its ActivityPub `uri`, which is the same on every instance, so the same
toot fetched from two instances is one document. A boost is a status of its own whose `reblog`
holds the original: both are kept, the boost as kind `repost` of the original's document, with
the original's words as its text (a boost says nothing of its own; what it spreads is the
original, and it is matched and classified as that). The text is what a reader sees: the content
warning, the content, the poll's options and the media's descriptions.

`in_reply_to_id` is an id local to the instance the status was read from; the parent's `uri`
(its document id) is known when the parent is by a local account — the status's own author (a
thread) or a mentioned local account: `<actor uri>/statuses/<id>`. A parent on
another server cannot be named from the record: `unnamed_parents` lists those replies, and the
spider asks the instance for the parent (`/api/v1/statuses/<id>`) before it yields them.
Mentions and authors are `user@host`, as the author's handle is written.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from crawlers.items import Author, Engagement, Post
from crawlers.normalise import read_html
from crawlers.parsers.common import (
    ParseError,
    embedded,
    from_iso,
    need,
    opt_int,
    opt_str,
    record_parser,
)

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
    """A status, and first what it carries of others: for a boost the boosted original, for a
    quote the quoted status (each kept when it matches, like the post itself)."""
    reblog = status.get("reblog") if isinstance(status, dict) else None
    if isinstance(reblog, dict):
        original = _post(reblog, instance)
        boost = _post(status, instance)
        boost.kind = "repost"
        boost.repost_of = original.doc_id
        boost.text, boost.links, boost.media = original.text, original.links, []
        boost.hashtags, boost.mentions, boost.lang = (
            original.hashtags,
            original.mentions,
            original.lang,
        )
        boost.reply_to = boost.quote_of = None
        return [*_quoted(reblog, instance), original, boost]
    return [*_quoted(status, instance), _post(status, instance)]


def _quoted(status: dict[str, Any], instance: str) -> list[Post]:
    quote = status.get("quote")
    quoted = quote.get("quoted_status") if isinstance(quote, dict) else None
    if not isinstance(quoted, dict):
        return []
    post = embedded(lambda: _post(quoted, instance), f"mastodon quote in {status.get('uri')!r:.80}")  # fmt: skip
    return [post] if post else []


def unnamed_parents(status: Any, instance: str) -> dict[str, str]:
    """Document id → instance-local parent id, for the replies in `status` (itself, or what it
    boosts) whose parent the record cannot name: the spider asks the instance for those."""
    found: dict[str, str] = {}
    reblog = status.get("reblog") if isinstance(status, dict) else None
    boost = isinstance(reblog, dict)
    for one, answers in ((status, not boost), (reblog, boost)):  # a boost answers nothing
        if not answers or not isinstance(one, dict) or not isinstance(one.get("uri"), str):
            continue
        reply = opt_str(one.get("in_reply_to_id"))
        if reply and _parent(one, reply, instance) is None:
            found[f"{PLATFORM}:{one['uri']}"] = reply
    return found


def page_ids(payload: Any) -> list[str]:
    """The instance-local ids of a page (for `since_id`/`max_id` paging)."""
    if not isinstance(payload, list):
        return []
    return [s["id"] for s in payload if isinstance(s, dict) and isinstance(s.get("id"), str)]


def _post(status: Any, instance: str) -> Post:
    uri = need(status, "uri", str, f"mastodon {instance} status")
    account = need(status, "account", dict, f"mastodon status {uri}")
    read = read_html(status.get("content") if isinstance(status.get("content"), str) else "")
    media = [m for m in status.get("media_attachments") or [] if isinstance(m, dict)]
    reply = opt_str(status.get("in_reply_to_id"))
    return Post(
        platform=PLATFORM,
        native_id=uri,
        timestamp=from_iso(status.get("created_at"), f"mastodon status {uri} created_at"),
        kind="comment" if reply else "post",
        url=status.get("url") if isinstance(status.get("url"), str) else uri,
        author=_author(account, instance),
        text=_text(status, read.text, media),
        lang=status.get("language") if isinstance(status.get("language"), str) else None,
        hashtags=[
            t["name"] for t in status.get("tags") or [] if isinstance(t, dict) and "name" in t
        ],
        mentions=[
            _acct(m["acct"], instance)
            for m in status.get("mentions") or []
            if isinstance(m, dict) and isinstance(m.get("acct"), str)
        ],
        links=[link for link in read.links if not _is_tag_or_mention(link)],
        media=[m["url"] for m in media if isinstance(m.get("url"), str)],
        reply_to=_parent(status, reply, instance) if reply else None,
        quote_of=_quote_of(status),
        engagement=Engagement(
            likes=opt_int(status.get("favourites_count")),
            reposts=opt_int(status.get("reblogs_count")),
            replies=opt_int(status.get("replies_count")),
            quotes=opt_int(status.get("quotes_count")),
        ),
    )


def _text(status: dict[str, Any], content: str, media: list[dict[str, Any]]) -> str:
    """Content warning, content, poll options and media descriptions, as a reader sees them:
    a claim written in any of them is in the post."""
    warning = status.get("spoiler_text")
    warning = warning if isinstance(warning, str) else ""
    poll = status.get("poll")
    choices = poll.get("options") if isinstance(poll, dict) else None
    options = [
        o["title"] for o in choices or [] if isinstance(o, dict) and isinstance(o.get("title"), str)
    ]
    described = [m["description"] for m in media if isinstance(m.get("description"), str)]
    parts = [warning.strip(), content, "\n".join(options), "\n".join(described)]
    return "\n\n".join(part for part in parts if part)


def _parent(status: dict[str, Any], reply: str, instance: str) -> str | None:
    """The document id of the status this one answers, where it can be named (see above)."""
    parent_account = opt_str(status.get("in_reply_to_account_id"))
    own: dict[str, Any] = status["account"] if isinstance(status.get("account"), dict) else {}
    for account in [own, *(status.get("mentions") or [])]:
        if isinstance(account, dict) and opt_str(account.get("id")) == parent_account:
            actor = _actor_uri(account, own, instance)
            return f"{PLATFORM}:{actor}/statuses/{reply}" if actor else None
    return None


def _actor_uri(account: dict[str, Any], own: dict[str, Any], instance: str) -> str | None:
    """A local account's ActivityPub id: its `uri` where the record has it, else the form the
    server gives its accounts — `/ap/users/<id>` (Mastodon 4.4+, seen on the author's own
    `uri`) or `/users/<username>` — on the host of its profile `url` (a server's own domain,
    which the address it was read through need not be); None for an account elsewhere."""
    acct, username = account.get("acct"), account.get("username")
    if not isinstance(acct, str) or "@" in acct:
        return None
    if isinstance(account.get("uri"), str):
        return str(account["uri"])
    profile = account.get("url")
    origin = (
        _origin(profile) if isinstance(profile, str) and "://" in profile else _origin(instance)
    )
    own_uri = own.get("uri")
    if isinstance(own_uri, str) and "/ap/users/" in own_uri and opt_str(account.get("id")):
        return f"{origin}/ap/users/{account['id']}"
    return f"{origin}/users/{username}" if isinstance(username, str) else None


def _author(account: dict[str, Any], instance: str) -> Author:
    acct = account.get("acct") if isinstance(account.get("acct"), str) else None
    return Author(
        id=account.get("url") if isinstance(account.get("url"), str) else None,
        handle=_acct(acct, instance) if acct else None,
        name=account.get("display_name") or None,
        url=account.get("url") if isinstance(account.get("url"), str) else None,
        followers=opt_int(account.get("followers_count")),
        verified=None,
    )


def _quote_of(status: dict[str, Any]) -> str | None:
    """Mastodon 4.4+ quotes: `quote{state, quoted_status}`; only accepted quotes count."""
    quote = status.get("quote")
    if not isinstance(quote, dict) or not isinstance(quote.get("quoted_status"), dict):
        return None
    uri = quote["quoted_status"].get("uri")
    return f"{PLATFORM}:{uri}" if isinstance(uri, str) else None


def _is_tag_or_mention(link: str) -> bool:
    path = urlsplit(link).path
    return path.startswith("/tags/") or (path.startswith("/@") and "/" not in path[2:].strip("/"))


def _acct(acct: str, instance: str) -> str:
    """`user@host`: local accounts are written without their host, remote ones with it."""
    acct = acct.lstrip("@")
    return acct if "@" in acct else f"{acct}@{_host(instance)}"


def _origin(instance: str) -> str:
    """`scheme://host[:port]` of the instance, as its statuses' URIs begin."""
    parts = urlsplit(instance if "://" in instance else f"https://{instance}")
    return f"{parts.scheme}://{parts.netloc}"


def _host(instance: str) -> str:
    return urlsplit(instance if "://" in instance else f"https://{instance}").netloc or instance


__all__ = [
    "PLATFORM",
    "ParseError",
    "page_ids",
    "parse_search",
    "parse_status",
    "parse_statuses",
    "unnamed_parents",
]
