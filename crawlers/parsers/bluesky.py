"""Bluesky post views (`searchPosts`), profiles (`getProfiles`) and Jetstream commit events.

A post is stored under its `at://` URI; replies, quotes and reposts point at the URI they
answer, quote or repost, so the spread graph joins across the search API and the live stream.
A quote is an embedded *post* (an embedded feed generator, list or starter pack is not one).
What a post embeds is read from its record, the same in both: a link card's address is a link
(and the post's domain), images and videos are media whose alt texts join the text, so an
image-only post is kept with what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crawlers.items import Author, Engagement, Post
from crawlers.parsers.common import (
    ParseError,
    embedded,
    from_iso,
    need,
    opt_int,
    record_parser,
)
from spreadwatch.urls import domain_of

PLATFORM = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
REPOST_COLLECTION = "app.bsky.feed.repost"
#: Where Bluesky's app serves a post's blobs (the record names only the blob's CID).
IMAGE_URL = "https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg"
VIDEO_URL = "https://video.bsky.app/watch/{did}/{cid}/playlist.m3u8"


def parse_search(payload: Any) -> tuple[list[Post], str | None]:
    """Posts of one `searchPosts` page and its cursor (None when there is no next page)."""
    views = need(payload, "posts", list, "bluesky searchPosts")
    cursor = payload.get("cursor") if isinstance(payload.get("cursor"), str) else None
    return [post for view in views for post in parse_post_views(view)], cursor or None


def parse_post_views(view: Any) -> list[Post]:
    """A post view and, first, the post it quotes where the view embeds it (a quoted post is
    kept when it matches, like a boosted one elsewhere). A quoted record the view shows in an
    unexpected shape is left out; the quote's edge (`quote_of`) stays."""
    post = parse_post_view(view)
    quoted = _quoted_view(view.get("embed")) if post.quote_of else None
    if quoted is None or f"{PLATFORM}:{quoted.get('uri')}" != post.quote_of:
        return [post]
    original = embedded(lambda: parse_post_view(quoted), f"bluesky quote in {post.native_id}")
    return [original, post] if original else [post]


def _quoted_view(embed: Any) -> dict[str, Any] | None:
    """The quoted post of an `app.bsky.embed.record#view` (or `recordWithMedia#view`) as a
    post view: its `viewRecord` holds the author and the record (`value`)."""
    if not isinstance(embed, dict):
        return None
    holder = embed.get("record")
    if str(embed.get("$type", "")).startswith("app.bsky.embed.recordWithMedia"):
        holder = holder.get("record") if isinstance(holder, dict) else None
    if not isinstance(holder, dict) or not isinstance(holder.get("value"), dict):
        return None
    return {
        "uri": holder.get("uri"),
        "author": holder.get("author"),
        "record": holder["value"],
        **{
            k: holder[k]
            for k in ("likeCount", "repostCount", "replyCount", "quoteCount")
            if k in holder
        },
    }


@record_parser
def parse_post_view(view: Any) -> Post:
    uri = need(view, "uri", str, "bluesky postView")
    author = need(view, "author", dict, f"bluesky post {uri}")
    record = need(view, "record", dict, f"bluesky post {uri}")
    handle = author.get("handle") if isinstance(author.get("handle"), str) else None
    post = _from_record(uri, record, handle or need(author, "did", str, f"bluesky post {uri}"))
    post.author = Author(
        id=author.get("did"),
        handle=handle,
        name=author.get("displayName") or None,
        url=f"https://bsky.app/profile/{handle or author.get('did')}",
        followers=opt_int(author.get("followersCount")),
    )
    post.engagement = Engagement(
        likes=opt_int(view.get("likeCount")),
        reposts=opt_int(view.get("repostCount")),
        replies=opt_int(view.get("replyCount")),
        quotes=opt_int(view.get("quoteCount")),
    )
    return post


def parse_profiles(payload: Any) -> dict[str, int]:
    """Follower counts by DID (and by handle) from `app.bsky.actor.getProfiles`."""
    profiles = need(payload, "profiles", list, "bluesky getProfiles")
    counts: dict[str, int] = {}
    for profile in profiles:
        followers = opt_int(profile.get("followersCount")) if isinstance(profile, dict) else None
        if followers is None:
            continue
        for key in ("did", "handle"):
            if isinstance(profile.get(key), str):
                counts[profile[key]] = followers
    return counts


@record_parser
def parse_jetstream_event(event: Any) -> Post | None:
    """A Jetstream `commit` creating a post or repost as a Post; None for everything else.

    The deletion of a post is a Post with `deleted_how` (and no text), for the ingest to mark a
    stored post deleted. Identity and account events, other deletes and other collections are
    not posts: they are skipped, not errors. A create with a malformed record is a `ParseError`
    (whatever inside the record the reading trips on: the consumer counts a `ParseError` and
    goes on, anything else would stop the stream and stop it again at the same event on restart).
    """
    if not isinstance(event, dict) or event.get("kind") != "commit":
        return None
    commit = event.get("commit")
    if isinstance(commit, dict) and commit.get("operation") == "delete":
        return _deletion(event, commit)
    if not isinstance(commit, dict) or commit.get("operation") != "create":
        return None
    collection = commit.get("collection")
    if collection not in (POST_COLLECTION, REPOST_COLLECTION):
        return None
    did = need(event, "did", str, "jetstream event")
    rkey = need(commit, "rkey", str, f"jetstream commit of {did}")
    record = need(commit, "record", dict, f"jetstream commit {did}/{rkey}")
    uri = f"at://{did}/{collection}/{rkey}"
    if collection == REPOST_COLLECTION:
        post = _repost(uri, record, did)
    else:
        post = _from_record(uri, record, did)
    post.author = Author(id=did, url=f"https://bsky.app/profile/{did}")
    return post


def _deletion(event: dict[str, Any], commit: dict[str, Any]) -> Post | None:
    did, rkey, cursor = event.get("did"), commit.get("rkey"), jetstream_cursor(event)
    if commit.get("collection") != POST_COLLECTION or not isinstance(did, str) or not isinstance(rkey, str) or cursor is None:  # fmt: skip
        return None
    return Post(
        platform=PLATFORM,
        native_id=f"at://{did}/{POST_COLLECTION}/{rkey}",
        timestamp=datetime.fromtimestamp(cursor / 1_000_000, UTC),
        kind="post",
        deleted_how="bluesky:deleted",
    )


def jetstream_cursor(event: Any) -> int | None:
    """The event's `time_us`, the cursor a consumer resumes from."""
    value = event.get("time_us") if isinstance(event, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _from_record(uri: str, record: dict[str, Any], profile: str) -> Post:
    text = record.get("text")
    if not isinstance(text, str):
        raise ParseError(f"bluesky post {uri}: field 'text' should be str, got {text!r:.80}")
    hashtags, mentions, links = _facets(record)
    embed = _embedded(record.get("embed"), uri.split("/")[2])
    links = list(dict.fromkeys([*links, *embed.links]))
    langs = record.get("langs")
    reply: dict[str, Any] = record["reply"] if isinstance(record.get("reply"), dict) else {}
    return Post(
        platform=PLATFORM,
        native_id=uri,
        timestamp=from_iso(record.get("createdAt"), f"bluesky post {uri} createdAt"),
        kind="comment" if reply else "post",
        url=f"https://bsky.app/profile/{profile}/post/{uri.rsplit('/', 1)[-1]}",
        text="\n\n".join(part for part in (text, *embed.alt_texts) if part.strip()),
        lang=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
        hashtags=hashtags,
        mentions=mentions,
        links=links,
        media=embed.media,
        domain=domain_of(links[0]) if links else None,
        reply_to=_ref(reply.get("parent")),
        thread=_ref(reply.get("root")),
        quote_of=embed.quote_of,
    )


def _repost(uri: str, record: dict[str, Any], did: str) -> Post:
    subject = _ref(record.get("subject"))
    if subject is None:
        raise ParseError(f"bluesky repost {uri}: no subject uri")
    return Post(
        platform=PLATFORM,
        native_id=uri,
        timestamp=from_iso(record.get("createdAt"), f"bluesky repost {uri} createdAt"),
        kind="repost",
        url=f"https://bsky.app/profile/{did}",
        repost_of=subject,
    )


def _facets(record: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    hashtags: list[str] = [t for t in record.get("tags") or [] if isinstance(t, str)]
    mentions: list[str] = []
    links: list[str] = []
    for facet in record.get("facets") or []:
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features or []:
            kind = feature.get("$type", "") if isinstance(feature, dict) else ""
            if kind.endswith("#tag") and isinstance(feature.get("tag"), str):
                hashtags.append(feature["tag"])
            elif kind.endswith("#mention") and isinstance(feature.get("did"), str):
                mentions.append(feature["did"])
            elif kind.endswith("#link") and isinstance(feature.get("uri"), str):
                links.append(feature["uri"])
    return hashtags, mentions, links


@dataclass
class _Embed:
    """What a post's `embed` adds: links (a card), media with alt texts, a quoted post."""

    links: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)
    alt_texts: list[str] = field(default_factory=list)
    quote_of: str | None = None


def _embedded(embed: Any, did: str) -> _Embed:
    found = _Embed()
    if not isinstance(embed, dict):
        return found
    kind = embed.get("$type")
    kind = kind if isinstance(kind, str) else ""
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        inner = embed.get("record")
        found = _embedded(embed.get("media"), did)
        found.quote_of = _quoted_post(inner.get("record") if isinstance(inner, dict) else None)
    elif kind.startswith("app.bsky.embed.record"):
        found.quote_of = _quoted_post(embed.get("record"))
    elif kind.startswith("app.bsky.embed.external"):
        external = embed.get("external")
        card = external.get("uri") if isinstance(external, dict) else None
        if isinstance(card, str) and card.startswith(("http://", "https://")):
            found.links.append(card)
    elif kind.startswith("app.bsky.embed.images"):
        for image in embed.get("images") or []:
            if isinstance(image, dict):
                _add_media(found, image, image.get("image"), did, IMAGE_URL)
    elif kind.startswith("app.bsky.embed.video"):
        _add_media(found, embed, embed.get("video"), did, VIDEO_URL)
    return found


def _add_media(found: _Embed, holder: dict[str, Any], blob: Any, did: str, address: str) -> None:
    alt = holder.get("alt")
    if isinstance(alt, str) and alt.strip():
        found.alt_texts.append(alt.strip())
    ref = blob.get("ref") if isinstance(blob, dict) else None
    cid = ref.get("$link") if isinstance(ref, dict) else None
    if isinstance(cid, str) and cid:
        found.media.append(address.format(did=did, cid=cid))


def _quoted_post(strong_ref: Any) -> str | None:
    """The quoted post's id; None when the embedded record is not a post."""
    ref = _ref(strong_ref)
    return ref if ref and ref.split("/")[3] == POST_COLLECTION else None


def _ref(strong_ref: Any) -> str | None:
    uri = strong_ref.get("uri") if isinstance(strong_ref, dict) else None
    return f"{PLATFORM}:{uri}" if isinstance(uri, str) and uri.startswith("at://") else None


def time_us(moment: datetime) -> int:
    """A Jetstream cursor for a moment (microseconds since the epoch)."""
    return int(moment.astimezone(UTC).timestamp() * 1_000_000)


__all__ = [
    "PLATFORM",
    "ParseError",
    "jetstream_cursor",
    "parse_jetstream_event",
    "parse_post_view",
    "parse_post_views",
    "parse_profiles",
    "parse_search",
    "time_us",
]
