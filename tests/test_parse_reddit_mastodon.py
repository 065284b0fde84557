"""Reddit listings and Mastodon statuses become posts with their relations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from social_fixtures import load

from crawlers.parsers import ParseError
from crawlers.parsers.mastodon import parse_search, parse_statuses
from crawlers.parsers.reddit import parse_listing

REDDIT = load("reddit.json")["things"]
MASTODON = load("mastodon.json")["instances"]["mastodon.social"]["statuses"]


def _listing(children: list[object], after: str | None = None) -> dict[str, object]:
    return {
        "kind": "Listing",
        "data": {"after": after, "dist": len(children), "children": children, "before": None},
    }


def _reddit() -> dict[str, object]:
    posts, _ = parse_listing(_listing(REDDIT))
    return {p.native_id: p for p in posts}


def test_a_reddit_self_post_keeps_title_text_score_and_subreddit() -> None:
    post = _reddit()["t3_1g6z9ab"]
    assert post.title == "[D] ByteDance intern sabotaged LLM training?"
    assert (
        post.text == "Reports say an intern injected code into the training cluster. 8,000 H100s?"
    )
    assert post.engagement.score == 412 and post.engagement.replies == 2
    assert post.hashtags == ["r/MachineLearning"]
    assert post.timestamp == datetime(2024, 10, 18, 23, 0, tzinfo=UTC)
    assert post.links == []


def test_a_reddit_link_post_points_at_the_article() -> None:
    post = _reddit()["t3_1g7b2cd"]
    assert post.links == [
        "https://www.reuters.com/technology/bytedance-intern-sabotage-2024-10-19/"
    ]
    assert post.domain == "reuters.com"


def test_a_crosspost_is_a_repost_of_its_parent() -> None:
    assert _reddit()["t3_1g7c3ef"].repost_of == "reddit:t3_1g6z9ab"


def test_reddit_comments_reply_to_their_parent_in_their_thread() -> None:
    posts = _reddit()
    assert posts["t1_lsq9x01"].reply_to == "reddit:t3_1g6z9ab"
    assert posts["t1_lsq9x77"].reply_to == "reddit:t1_lsq9x01"
    assert posts["t1_lsq9x77"].thread == "reddit:t3_1g6z9ab"
    assert posts["t1_lsq9x77"].author.handle is None  # [deleted]


def test_the_after_cursor_is_returned_for_the_next_page() -> None:
    assert parse_listing(_listing(REDDIT[:1], after="t3_1g6z9ab"))[1] == "t3_1g6z9ab"


@pytest.mark.parametrize(
    "payload",
    [
        {"message": "Forbidden", "error": 403},
        {"kind": "Listing", "data": {"children": "none"}},
        _listing([{"kind": "t3", "data": {"name": "t3_x", "created_utc": "today"}}]),
        _listing([{"kind": "t5", "data": {}}]),
    ],
)
def test_reddit_answers_of_the_wrong_shape_are_parse_errors(payload: object) -> None:
    with pytest.raises(ParseError):
        parse_listing(payload)


def _mastodon() -> dict[str, object]:
    return {p.native_id: p for p in parse_statuses(MASTODON, "https://mastodon.social")}


def test_a_status_is_stored_under_its_uri_with_html_made_text() -> None:
    post = _mastodon()["https://mastodon.social/users/aiwatch/statuses/113329333862400100"]
    assert post.text == (
        "A GitHub user https://github.com/JusticeFighter110 claims a #ByteDance intern sabotaged "
        "8,000 GPUs.\nUnconfirmed & unverified."
    )
    assert post.links == ["https://github.com/JusticeFighter110"]
    assert post.hashtags == ["bytedance"]
    assert post.author.handle == "aiwatch@mastodon.social"
    assert post.author.followers == 5120
    assert (post.engagement.likes, post.engagement.reposts, post.engagement.replies) == (9, 4, 1)


def test_a_reply_points_at_its_parents_document_and_string_counts() -> None:
    posts = _mastodon()
    reply = posts["https://chaos.social/users/kritisch/statuses/113330999"]
    parent = posts["https://mastodon.social/users/aiwatch/statuses/113329333862400100"]
    assert reply.kind == "comment"
    assert reply.reply_to == parent.doc_id  # joinable: the parent is keyed by its URI
    assert reply.mentions == [parent.author.handle] == ["aiwatch@mastodon.social"]
    assert reply.author.followers == 310
    assert reply.lang == "de"


def test_a_boost_is_a_repost_and_the_original_is_kept_too() -> None:
    posts = _mastodon()
    original = posts["https://techhub.social/users/newsdesk/statuses/777"]
    boost = posts["https://mastodon.social/users/booster/statuses/113333383987200102/activity"]
    assert boost.repost_of == original.doc_id
    assert (boost.kind, boost.text) == ("repost", original.text)  # it spreads the original
    assert original.author.followers == 20400
    assert "exaggerated" in original.text


def test_search_answers_hold_statuses() -> None:
    posts = parse_search(
        {"accounts": [], "hashtags": [], "statuses": MASTODON[:1]}, "mastodon.social"
    )
    assert [p.author.handle for p in posts] == ["aiwatch@mastodon.social"]


@pytest.mark.parametrize(
    "payload",
    [
        {"error": "This API requires an authenticated user"},
        [{"id": "1"}],
        [{"uri": "x", "account": {}, "created_at": 5}],
    ],
)
def test_mastodon_answers_of_the_wrong_shape_are_parse_errors(payload: object) -> None:
    with pytest.raises(ParseError):
        parse_statuses(payload, "mastodon.social")
