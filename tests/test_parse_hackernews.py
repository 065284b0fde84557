"""Algolia hits and item trees become Hacker News posts and comments."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from social_fixtures import load

from crawlers.parsers import ParseError
from crawlers.parsers.hackernews import parse_hit, parse_item_tree, parse_search

DATA = load("hackernews.json")


def _by_id() -> dict[str, object]:
    posts, _ = parse_search({"hits": DATA["hits"], "nbPages": 1})
    return {p.native_id: p for p in posts}


def test_a_story_hit_keeps_title_link_score_and_time() -> None:
    story = _by_id()["41880512"]
    assert story.kind == "post"
    assert story.title == "ByteDance intern allegedly sabotaged AI training"
    assert story.links == ["https://www.theregister.com/2024/10/19/bytedance_intern_sabotage/"]
    assert story.domain == "theregister.com"
    assert story.engagement.score == 118
    assert story.engagement.replies == 3
    assert story.timestamp == datetime(2024, 10, 19, 3, 12, 40, tzinfo=UTC)
    assert story.url == "https://news.ycombinator.com/item?id=41880512"


def test_a_comment_hit_is_a_reply_in_its_story_with_html_turned_to_text() -> None:
    comment = _by_id()["41880601"]
    assert comment.kind == "comment"
    assert comment.reply_to == "hackernews:41880512"
    assert comment.thread == "hackernews:41880512"
    assert comment.text.startswith("The 8,000 GPU figure looks inflated.\nByteDance says")
    assert "<" not in comment.text
    assert comment.links == ["https://www.toutiao.com/article/7427458466/"]


def test_script_in_story_text_ends_up_as_inert_text() -> None:
    ask = _by_id()["41875000"]
    assert "<script>" not in ask.text
    assert ask.links == []


def test_the_comment_tree_gives_every_live_comment_with_its_parent() -> None:
    comments, errors = parse_item_tree(DATA["items"]["41880512"])
    assert errors == []
    parents = {c.native_id: c.reply_to for c in comments}
    assert parents == {"41880601": "hackernews:41880512", "41880650": "hackernews:41880601"}
    assert all(c.thread == "hackernews:41880512" for c in comments)


@pytest.mark.parametrize(
    "hit",
    [
        {"objectID": "1", "created_at_i": "yesterday", "_tags": ["story"]},
        {"created_at_i": 1729307560},
        "not an object",
    ],
)
def test_hits_of_the_wrong_shape_are_parse_errors(hit: object) -> None:
    with pytest.raises(ParseError):
        parse_hit(hit)


def test_a_search_answer_without_hits_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="hits"):
        parse_search({"message": "Invalid syntax"})
