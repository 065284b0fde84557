"""Bluesky post views and Jetstream events, Weibo cards and Telegram previews become posts."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from social_fixtures import load

from crawlers.parsers import ParseError
from crawlers.parsers.bluesky import parse_jetstream_event, parse_profiles, parse_search
from crawlers.parsers.telegram import parse_channel_page, parse_views
from crawlers.parsers.weibo import (
    WeiboLoginRequiredError,
    parse_container,
    parse_long_text,
    unknown_cards,
)

BLUESKY = load("bluesky.json")
WEIBO = load("weibo.json")
NOW = datetime(2024, 10, 19, 12, 0, tzinfo=UTC)
ROOT = "at://did:plc:ai4news5k2x/app.bsky.feed.post/3l6vzq2abc22k"


def _bluesky() -> dict[str, Any]:
    posts, cursor = parse_search({"posts": BLUESKY["posts"], "hitsTotal": 3, "cursor": "25"})
    assert cursor == "25"
    return {p.native_id: p for p in posts}


def test_a_bluesky_post_keeps_facets_counts_and_author() -> None:
    post = _bluesky()[ROOT]
    assert post.links == ["https://github.com/JusticeFighter110"]
    assert post.hashtags == ["AI"]
    assert post.author.handle == "ainews.bsky.social"
    assert post.url == "https://bsky.app/profile/ainews.bsky.social/post/3l6vzq2abc22k"
    assert (post.engagement.likes, post.engagement.reposts, post.engagement.quotes) == (40, 14, 1)
    assert post.timestamp == datetime(2024, 10, 18, 15, 2, 11, 512000, tzinfo=UTC)


def test_bluesky_replies_and_quotes_point_at_the_post_they_answer() -> None:
    posts = _bluesky()
    reply = posts["at://did:plc:skept1c9q/app.bsky.feed.post/3l6wb7xyz11a"]
    quote = posts["at://did:plc:bytedanceoff/app.bsky.feed.post/3l6xq1official"]
    assert (reply.kind, reply.reply_to, reply.thread) == (
        "comment",
        f"bluesky:{ROOT}",
        f"bluesky:{ROOT}",
    )
    assert quote.quote_of == f"bluesky:{ROOT}"


def test_followers_come_from_profiles_by_did_and_handle() -> None:
    counts = parse_profiles({"profiles": BLUESKY["profiles"]})
    assert counts["did:plc:ai4news5k2x"] == counts["ainews.bsky.social"] == 18230


def _event(collection: str = "app.bsky.feed.post", **record: Any) -> dict[str, Any]:
    return {
        "did": "did:plc:ai4news5k2x",
        "time_us": 1729263731512000,
        "kind": "commit",
        "commit": {"rev": "3l6vzq2", "operation": "create", "collection": collection,
                   "rkey": "3l6vzq2abc22k", "cid": "bafyreia1",
                   "record": {"$type": collection, "createdAt": "2024-10-18T15:02:11.512Z", **record}},
    }  # fmt: skip


def test_a_jetstream_post_event_is_the_same_document_as_the_search_result() -> None:
    post = parse_jetstream_event(_event(text="ByteDance intern rumour", langs=["en"]))
    assert post is not None
    assert post.doc_id == f"bluesky:{ROOT}"
    assert post.author.id == "did:plc:ai4news5k2x"


def test_a_jetstream_repost_event_is_a_repost_relation() -> None:
    post = parse_jetstream_event(_event("app.bsky.feed.repost", subject={"uri": ROOT, "cid": "x"}))
    assert post is not None and post.repost_of == f"bluesky:{ROOT}"


@pytest.mark.parametrize(
    "event",
    [
        {"did": "did:plc:x", "time_us": 1, "kind": "identity", "identity": {}},
        {
            "did": "did:plc:x",
            "time_us": 1,
            "kind": "commit",
            "commit": {"operation": "delete", "collection": "app.bsky.feed.like", "rkey": "a"},
        },
        _event("app.bsky.feed.like", subject={"uri": ROOT}),
    ],
)
def test_jetstream_events_that_are_not_new_posts_are_skipped(event: dict[str, Any]) -> None:
    assert parse_jetstream_event(event) is None


def test_a_jetstream_post_delete_is_a_deletion_of_that_post() -> None:
    event = {
        "did": "did:plc:x",
        "time_us": 1_729_263_600_000_000,
        "kind": "commit",
        "commit": {"operation": "delete", "collection": "app.bsky.feed.post", "rkey": "a"},
    }
    post = parse_jetstream_event(event)
    assert post is not None
    assert (post.native_id, post.deleted_how, post.text) == ("at://did:plc:x/app.bsky.feed.post/a", "bluesky:deleted", "")  # fmt: skip


def test_a_jetstream_post_with_a_non_text_body_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="text"):
        parse_jetstream_event(_event(text=["not", "text"]))


def _mblog(post_id: str) -> dict[str, Any]:
    mblog = copy.deepcopy(next(m for m in WEIBO["mblogs"] if m["id"] == post_id))
    mblog["user"] = WEIBO["users"][mblog.pop("user_id")]
    mblog.pop("long_text", None)
    if "retweeted_id" in mblog:
        mblog["retweeted_status"] = _mblog(mblog.pop("retweeted_id"))
    return mblog


def _first_page(*ids: str) -> dict[str, Any]:
    group = [{"card_type": 9, "itemid": "", "mblog": _mblog(i)} for i in ids]
    return {"ok": 1, "data": {"cardlistInfo": {"page": 2, "total": len(ids)},
                              "cards": [{"card_type": 11, "card_group": group}]}}  # fmt: skip


def test_weibo_cards_give_posts_with_chinese_counts_and_beijing_times() -> None:
    posts = parse_container(_first_page("5091234567890001"), NOW)
    (post,) = posts
    assert post.timestamp == datetime(2024, 10, 18, 2, 15, tzinfo=UTC)
    assert post.engagement.replies == 11000
    assert post.hashtags == ["字节跳动实习生", "AI"]
    assert "<span" not in post.text and "8000多张卡" in post.text
    assert post.author.followers == 48213


def test_a_weibo_repost_keeps_its_original_as_a_repost_relation() -> None:
    original, repost = parse_container(_first_page("5091234567890004"), NOW)
    assert repost.repost_of == original.doc_id == "weibo:5091234567890003"
    assert original.author.followers == 63_350_000
    assert original.author.verified is True


def test_a_later_weibo_page_of_plain_cards_is_read_too() -> None:
    page = {"ok": 1, "data": {"cards": [{"card_type": 9, "mblog": _mblog("5091234567890003")}]}}
    assert [p.native_id for p in parse_container(page, NOW)] == ["5091234567890003"]


def test_weibo_cards_of_an_unknown_type_are_named_and_furniture_is_not() -> None:
    page = _first_page("5091234567890003")
    album = {"card_type": 8, "title_sub": "赞过的图片", "itemid": "_-_photo_like"}  # real shapes
    photos = {"card_type": 47, "card_type_name": "组合", "pics": []}
    page["data"]["cards"] += [album, photos, {"card_type": 131, "itemid": "new-widget"}, {}]
    page["data"]["cards"][0]["card_group"].append({"card_type": "poll"})
    assert sorted(unknown_cards(page)) == ["'poll'", "131", "None"]
    assert [p.native_id for p in parse_container(page, NOW)] == ["5091234567890003"]


@pytest.mark.parametrize(
    "payload",
    [{"ok": 1, "data": {"cards": []}}, {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}],
)
def test_an_empty_weibo_page_or_the_end_of_results_has_no_posts(payload: object) -> None:
    assert parse_container(payload, NOW) == []


def test_weibo_long_text_is_read_from_extend() -> None:
    text = parse_long_text({"ok": 1, "data": {"ok": 1, "longTextContent": "全文<br />第二行"}})
    assert text == "全文\n第二行"


def test_weibo_ok_minus_100_is_a_cookie_error() -> None:
    with pytest.raises(WeiboLoginRequiredError, match="cookie missing or expired"):
        parse_container({"ok": -100, "url": "https://passport.weibo.com/sso/signin"}, NOW)


@pytest.mark.parametrize(
    "payload", [{"ok": -1, "msg": "请求过于频繁"}, {"ok": 1, "data": {"cards": "x"}}, "<html>"]
)
def test_other_weibo_refusals_and_shapes_are_parse_errors(payload: object) -> None:
    with pytest.raises(ParseError):
        parse_container(payload, NOW)


def test_telegram_preview_messages_with_views_forwards_and_replies() -> None:
    posts, before = parse_channel_page(load("telegram.html"), "aifrontline")
    first, second = posts
    assert before == 1201
    assert first.doc_id == "telegram:aifrontline/1201"
    assert first.engagement.views == 12400
    assert first.text.startswith("⚡️ Слух: стажёр ByteDance")
    assert first.links[0] == "https://github.com/JusticeFighter110"
    assert second.repost_of == "telegram:technews_cn/8841"
    assert second.reply_to == "telegram:aifrontline/1201"
    assert second.engagement.views == 3_100_000
    assert second.text.startswith("ByteDance denies") and "<script>" not in second.text
    assert second.timestamp == datetime(2024, 10, 19, 5, 10, tzinfo=UTC)


def test_a_telegram_page_without_messages_ends_paging() -> None:
    assert parse_channel_page("<html><body><div class='tgme_page'></div></body></html>", "x") == (
        [],
        None,
    )


@pytest.mark.parametrize(
    ("raw", "expected"), [("987", 987), ("1.2K", 1200), ("5M", 5_000_000), ("", None), (None, None)]
)
def test_telegram_view_counts(raw: str | None, expected: int | None) -> None:
    assert parse_views(raw) == expected
