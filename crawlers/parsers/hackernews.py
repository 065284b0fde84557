"""Hacker News through Algolia: `search_by_date` hits and `/items/:id` comment trees."""

from __future__ import annotations

from typing import Any

from crawlers.items import Author, Engagement, Post
from crawlers.normalise import read_html
from crawlers.parsers.common import (
    ParseError,
    from_epoch,
    need,
    opt_int,
    record_parser,
)
from spreadwatch.urls import domain_of

PLATFORM = "hackernews"
SITE = "https://news.ycombinator.com/"
ITEM_URL = SITE + "item?id={}"


def parse_search(payload: Any) -> tuple[list[Post], int]:
    """Posts of one `search_by_date` page and `nbPages` (how many pages the query has).

    A hit of the wrong shape raises `ParseError`; use `parse_hits` to count and skip them.
    """
    hits = need(payload, "hits", list, "algolia search")
    pages = opt_int(payload.get("nbPages")) or 0
    return [parse_hit(hit) for hit in hits], pages


@record_parser
def parse_hit(hit: Any) -> Post:
    """One story or comment hit; comments point at their parent and their story."""
    object_id = str(need(hit, "objectID", (str, int), "algolia hit"))
    tags = hit.get("_tags") or []
    is_comment = "comment" in tags or bool(hit.get("comment_text"))
    html = hit.get("comment_text") if is_comment else hit.get("story_text")
    text, links = _read(html)
    story_url = hit.get("url") if isinstance(hit.get("url"), str) else None
    if story_url:
        links.insert(0, story_url)
    parent, story = opt_int(hit.get("parent_id")), opt_int(hit.get("story_id"))
    return Post(
        platform=PLATFORM,
        native_id=object_id,
        timestamp=from_epoch(hit.get("created_at_i"), f"algolia hit {object_id} created_at_i"),
        kind="comment" if is_comment else "post",
        url=ITEM_URL.format(object_id),
        author=_author(hit.get("author")),
        title=None if is_comment else hit.get("title"),
        text=text,
        links=links,
        domain=domain_of(story_url),
        reply_to=f"{PLATFORM}:{parent}" if is_comment and parent else None,
        thread=f"{PLATFORM}:{story}" if story and str(story) != object_id else None,
        engagement=Engagement(
            score=opt_int(hit.get("points")), replies=opt_int(hit.get("num_comments"))
        ),
    )


def parse_item_tree(item: Any) -> tuple[list[Post], list[ParseError]]:
    """Every comment below a story from `/api/v1/items/:id`, each a reply to its parent, and
    the errors of the comments that could not be read: one comment of the wrong shape is its
    own drop, the rest of the discussion (its replies too, when its id is known) is kept."""
    root = need(item, "id", int, "algolia item")
    comments: list[Post] = []
    errors: list[ParseError] = []
    stack = [(child, root) for child in _children(item, errors)]
    while stack:
        node, parent = stack.pop()
        if not isinstance(node, dict) or node.get("type") != "comment" or not node.get("text"):
            continue  # deleted comments have no text and no author
        try:
            comments.append(_tree_comment(node, parent, root))
        except ParseError as error:
            errors.append(error)
        if isinstance(node.get("id"), int) and not isinstance(node["id"], bool):
            stack.extend((child, node["id"]) for child in _children(node, errors))
    return comments, errors


def _children(node: dict[str, Any], errors: list[ParseError]) -> list[Any]:
    children = node.get("children")
    if children is None or isinstance(children, list):
        return children or []
    errors.append(ParseError(f"algolia item {node.get('id')!r:.40}: field 'children' should be list, got {children!r:.80}"))  # fmt: skip
    return []


@record_parser
def parse_item(item: Any) -> Post | None:
    """The item itself from `/api/v1/items/:id` (a story or a comment), read as its search hit
    would be; None for a deleted comment (no text)."""
    node_id = need(item, "id", int, "algolia item")
    is_comment = item.get("type") == "comment"
    if is_comment and not item.get("text"):
        return None
    hit = {
        "objectID": str(node_id),
        "created_at_i": item.get("created_at_i"),
        "author": item.get("author"),
        "title": item.get("title"),
        "url": item.get("url"),
        "points": item.get("points"),
        "parent_id": item.get("parent_id"),
        "story_id": item.get("story_id"),
        "_tags": ["comment" if is_comment else "story"],
        "comment_text" if is_comment else "story_text": item.get("text"),
    }
    return parse_hit(hit)


@record_parser
def _tree_comment(node: dict[str, Any], parent: int, story: int) -> Post:
    node_id = need(node, "id", int, "algolia item child")
    text, links = _read(node.get("text"))
    return Post(
        platform=PLATFORM,
        native_id=str(node_id),
        timestamp=from_epoch(node.get("created_at_i"), f"algolia item {node_id} created_at_i"),
        kind="comment",
        url=ITEM_URL.format(node_id),
        author=_author(node.get("author")),
        text=text,
        links=links,
        reply_to=f"{PLATFORM}:{parent}",
        # The story the whole discussion hangs under (the tree fetched may start at a comment).
        thread=f"{PLATFORM}:{opt_int(node.get('story_id')) or story}",
        engagement=Engagement(score=opt_int(node.get("points"))),
    )


def _read(html: Any) -> tuple[str, list[str]]:
    """Text and links of an HN text; item links are relative to the site. Texts imported from
    the old site hold line breaks and tabs as the two characters `\\n`, `\\t`: in a text
    without a code block (where they may be code) they are read as what they stand for."""
    if not isinstance(html, str):
        return "", []
    if "<pre" not in html:
        html = html.replace("\\n", "\n").replace("\\t", "\t")
    read = read_html(html, base=SITE)
    return read.text, read.links


def _author(name: Any) -> Author:
    if not isinstance(name, str) or not name:
        return Author()
    return Author(id=name, handle=name, url=f"https://news.ycombinator.com/user?id={name}")


__all__ = ["PLATFORM", "ParseError", "parse_hit", "parse_item_tree", "parse_search"]
