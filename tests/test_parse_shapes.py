"""Shapes real platforms send that parsers used to read wrong (#11): one test per shape.

The records are written here, modelled on the shapes of recorded API traffic (boosts, content
warnings, polls, link cards, image-only posts, Weibo emoticons and topic links, Reddit
crossposts and entities, old HN texts); each expectation is what a reader of the post sees.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crawlers.ingest import Dropped, IngestContext, validate
from crawlers.items import Post
from crawlers.parsers import ParseError
from crawlers.parsers.bluesky import parse_jetstream_event, parse_post_view, parse_post_views
from crawlers.parsers.common import from_epoch, from_iso
from crawlers.parsers.github import issue_post, repo_of_api_url, search_issue_repo_url
from crawlers.parsers.hackernews import parse_hit
from crawlers.parsers.mastodon import parse_status
from crawlers.parsers.reddit import parse_thing, parse_things
from crawlers.parsers.telegram import parse_channel_page
from crawlers.parsers.weibo import parse_mblog, with_long_text
from spreadwatch.incident import Incident

INSTANCE = "https://toot.example"


def account(ident: str, username: str, acct: str | None = None) -> dict[str, Any]:
    host = acct.split("@")[1] if acct and "@" in acct else "toot.example"
    return {
        "id": ident,
        "username": username,
        "acct": acct or username,
        "url": f"https://{host}/@{username}",
        "display_name": username.title(),
        "followers_count": 10,
    }


def status(ident: str, content: str, who: dict[str, Any], **fields: Any) -> dict[str, Any]:
    host = who["url"].split("/")[2]
    values: dict[str, Any] = {
        "id": ident,
        "uri": f"https://{host}/users/{who['username']}/statuses/{ident}",
        "url": f"https://{host}/@{who['username']}/{ident}",
        "created_at": "2024-10-19T08:15:30.125Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "spoiler_text": "",
        "content": content,
        "language": "en",
        "account": who,
        "mentions": [],
        "tags": [],
        "media_attachments": [],
        "poll": None,
        "reblog": None,
        "favourites_count": 0,
        "reblogs_count": 0,
        "replies_count": 0,
    }
    values.update(fields)
    return values


ANNA = account("101", "anna")
BEN = account("102", "ben")
REMOTE = account("903", "cleo", "cleo@far.example")


@pytest.fixture
def kept(settings_for: Any) -> Any:
    """Whether validation keeps an item (the first stage every spider's items go through)."""
    incident = Incident.model_validate(
        {
            "id": "shapes",
            "title": "t",
            "window": {"start": "2024-10-01T00:00:00Z"},
            "queries": [{"name": "q", "any": ["intern"]}],
        }
    )
    context = IngestContext.build(settings_for(), incident, spider_name="shapes")

    def check(post: Post) -> bool:
        try:
            validate(post, context)
        except Dropped:
            return False
        return True

    return check


# -- Mastodon ------------------------------------------------------------------------------------


def test_a_boost_is_a_repost_of_the_originals_document_never_an_empty_drop(kept: Any) -> None:
    original = status("200", "<p>The intern broke 8,000 GPUs</p>", REMOTE)
    boost = status("201", "", ANNA, reblog=original)
    boost["uri"] = "https://toot.example/users/anna/statuses/201/activity"
    first, second = parse_status(boost, INSTANCE)
    assert first.native_id == "https://far.example/users/cleo/statuses/200"
    assert (second.kind, second.repost_of) == ("repost", f"mastodon:{first.native_id}")
    assert second.text == "The intern broke 8,000 GPUs"
    assert second.author.handle == "anna@toot.example"
    assert kept(second) and kept(first)


def test_content_warning_poll_options_and_media_descriptions_are_in_the_text() -> None:
    poll = {"options": [{"title": "sabotage", "votes_count": 3}, {"title": "a bug", "votes_count": 9}]}  # fmt: skip
    media = [{"type": "image", "url": "https://files.toot.example/a.png", "description": "a GPU rack on fire"}]  # fmt: skip
    post = parse_status(
        status(
            "300",
            "<p>What happened?</p>",
            ANNA,
            spoiler_text="ByteDance rumour",
            poll=poll,
            media_attachments=media,
        ),
        INSTANCE,
    )[0]
    assert (
        post.text == "ByteDance rumour\n\nWhat happened?\n\nsabotage\na bug\n\na GPU rack on fire"
    )
    assert post.media == ["https://files.toot.example/a.png"]


def test_an_image_only_status_is_kept(kept: Any) -> None:
    media = [{"type": "image", "url": "https://files.toot.example/b.png", "description": None}]
    post = parse_status(status("301", "", ANNA, media_attachments=media), INSTANCE)[0]
    assert (post.text, post.media) == ("", ["https://files.toot.example/b.png"])
    assert kept(post)


def test_replies_point_at_their_parents_uri_and_mentions_carry_their_host() -> None:
    mention = {"id": BEN["id"], "username": "ben", "acct": "ben", "url": BEN["url"]}
    remote_mention = {"id": REMOTE["id"], "username": "cleo", "acct": "cleo@far.example", "url": REMOTE["url"]}  # fmt: skip
    to_ben = status("400", "<p>@ben no</p>", ANNA, in_reply_to_id="399", in_reply_to_account_id=BEN["id"], mentions=[mention, remote_mention])  # fmt: skip
    thread = status("401", "<p>and more</p>", ANNA, in_reply_to_id="400", in_reply_to_account_id=ANNA["id"])  # fmt: skip
    to_remote = status("402", "<p>@cleo hm</p>", ANNA, in_reply_to_id="398", in_reply_to_account_id=REMOTE["id"], mentions=[remote_mention])  # fmt: skip
    first, second, third = (parse_status(s, INSTANCE)[0] for s in (to_ben, thread, to_remote))
    assert first.reply_to == "mastodon:https://toot.example/users/ben/statuses/399"
    assert first.mentions == ["ben@toot.example", "cleo@far.example"]
    assert second.reply_to == f"mastodon:{parse_status(to_ben, INSTANCE)[0].native_id}"
    # 398 is this instance's id for a status on far.example: its URI is not in the record.
    assert (third.kind, third.reply_to) == ("comment", None)


# -- Bluesky -------------------------------------------------------------------------------------

DID = "did:plc:abcdefghijklmnopqrstuvwx"
CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def post_view(record: dict[str, Any], rkey: str = "3l6xyzabc2k2a") -> dict[str, Any]:
    return {
        "uri": f"at://{DID}/app.bsky.feed.post/{rkey}",
        "cid": "bafyreib",
        "author": {"did": DID, "handle": "watcher.bsky.social", "followersCount": 42},
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": "2024-10-19T08:00:00.000Z",
            "langs": ["en"],
            **record,
        },
        "likeCount": 1,
        "repostCount": 0,
        "replyCount": 0,
        "quoteCount": 0,
        "indexedAt": "2024-10-19T08:00:01.000Z",
    }


def test_a_link_card_is_a_link_and_the_domain() -> None:
    card = {"$type": "app.bsky.embed.external", "external": {"uri": "https://www.example-news.com/a/1?utm_source=bsky", "title": "Intern", "description": "d"}}  # fmt: skip
    post = parse_post_view(post_view({"text": "Read this", "embed": card}))
    assert post.links == ["https://www.example-news.com/a/1?utm_source=bsky"]
    assert post.domain == "example-news.com"


@pytest.mark.parametrize(
    ("collection", "quoted"),
    [
        ("app.bsky.feed.post", True),
        ("app.bsky.feed.generator", False),
        ("app.bsky.graph.list", False),
        ("app.bsky.graph.starterpack", False),
    ],
)
def test_only_an_embedded_post_is_a_quote(collection: str, quoted: bool) -> None:
    target = f"at://did:plc:other/{collection}/3kq"
    embed = {"$type": "app.bsky.embed.record", "record": {"uri": target, "cid": "bafyreic"}}
    post = parse_post_view(post_view({"text": "look", "embed": embed}))
    assert post.quote_of == (f"bluesky:{target}" if quoted else None)


def test_an_image_only_post_is_kept_with_its_alt_text_and_a_quote_with_media_too(kept: Any) -> None:
    image = {"alt": "Screenshot: 8000 H100 claim", "image": {"$type": "blob", "ref": {"$link": CID}, "mimeType": "image/jpeg", "size": 1}}  # fmt: skip
    only = parse_post_view(post_view({"text": "", "embed": {"$type": "app.bsky.embed.images", "images": [image]}}))  # fmt: skip
    assert only.text == "Screenshot: 8000 H100 claim"
    assert only.media == [f"https://cdn.bsky.app/img/feed_fullsize/plain/{DID}/{CID}@jpeg"]
    assert kept(only)
    quoted = "at://did:plc:other/app.bsky.feed.post/3kq"
    both = {"$type": "app.bsky.embed.recordWithMedia", "record": {"$type": "app.bsky.embed.record", "record": {"uri": quoted, "cid": "c"}}, "media": {"$type": "app.bsky.embed.images", "images": [{**image, "alt": ""}]}}  # fmt: skip
    post = parse_post_view(post_view({"text": "", "embed": both}))
    assert (post.quote_of, post.text, len(post.media)) == (f"bluesky:{quoted}", "", 1)
    assert kept(post)


def test_a_jetstream_repost_is_a_repost_kept_without_text(kept: Any) -> None:
    event = {
        "did": DID,
        "time_us": 1729325000000000,
        "kind": "commit",
        "commit": {
            "operation": "create",
            "collection": "app.bsky.feed.repost",
            "rkey": "3l7r",
            "record": {
                "$type": "app.bsky.feed.repost",
                "createdAt": "2024-10-19T08:03:20Z",
                "subject": {"uri": f"at://{DID}/app.bsky.feed.post/3l6xyzabc2k2a", "cid": "c"},
            },
        },
    }
    post = parse_jetstream_event(event)
    assert post is not None
    assert (post.kind, post.repost_of) == ("repost", f"bluesky:at://{DID}/app.bsky.feed.post/3l6xyzabc2k2a")  # fmt: skip
    assert kept(post)


# -- Weibo ---------------------------------------------------------------------------------------

WEIBO_TEXT = (
    '<a  href="https://m.weibo.cn/search?containerid=231522type%3D1%26q%3D%23字节实习生%23" data-hide="">'
    '<span class="surl-text">#字节实习生#</span></a>听说训练被破坏了'
    '<span class="url-icon"><img alt=[doge] src="//h5.sinaimg.cn/m/emoticon/icon/others/d_doge.png" /></span>'
    '<a href="/n/吃瓜群众">@吃瓜群众</a> '
    '<a data-url="http://t.cn/A6abcdE" href="https://m.weibo.cn/p/index?containerid=2304&object_type=video">'
    '<span class="surl-text">视频</span></a> '
    '<a href="https://weibo.cn/sinaurl?u=https%3A%2F%2Fwww.example-news.com%2Fa%2F2">网页链接</a> '
    '<a href="/status/4383404751066167">全文</a>'
)


def test_weibo_keeps_emoticons_and_only_the_links_its_author_shared() -> None:
    mblog = {
        "id": "4383404751066167",
        "created_at": "Sat Oct 19 16:00:00 +0800 2024",
        "text": WEIBO_TEXT,
        "user": {"id": 1669879400, "screen_name": "围观者", "followers_count": "12万"},
        "pics": [
            {
                "pid": "p1",
                "url": "https://wx1.sinaimg.cn/orj360/p1.jpg",
                "large": {"url": "https://wx1.sinaimg.cn/large/p1.jpg"},
            }
        ],
    }
    post = parse_mblog(mblog, datetime(2024, 10, 20, tzinfo=UTC))[0]
    assert post.kind == "post"
    assert "听说训练被破坏了[doge]@吃瓜群众" in post.text
    assert post.links == ["http://t.cn/A6abcdE", "https://www.example-news.com/a/2"]
    assert post.hashtags == ["字节实习生"] and post.mentions == ["吃瓜群众"]
    assert post.media == ["https://wx1.sinaimg.cn/large/p1.jpg"]


def test_a_weibo_repost_is_a_repost_of_its_original() -> None:
    user = {"id": 7, "screen_name": "转发者", "followers_count": 3}
    original = {"id": "4383400000000001", "created_at": "Sat Oct 19 15:00:00 +0800 2024", "text": "原文", "user": {"id": 8, "screen_name": "原作者"}}  # fmt: skip
    repost = {"id": "4383400000000002", "created_at": "Sat Oct 19 16:00:00 +0800 2024", "text": "转发微博", "user": user, "retweeted_status": original}  # fmt: skip
    first, second = parse_mblog(repost, datetime(2024, 10, 20, tzinfo=UTC))
    assert (first.kind, second.kind, second.repost_of) == ("post", "repost", "weibo:4383400000000001")  # fmt: skip
    assert second.text == "转发微博"  # its own words are kept


# -- Reddit --------------------------------------------------------------------------------------


def reddit_link(**data: Any) -> dict[str, Any]:
    values = {
        "name": "t3_1abcd",
        "id": "1abcd",
        "created_utc": 1729325000.0,
        "subreddit": "technology",
        "author": "someone",
        "title": "Intern &amp; the GPUs",
        "selftext": "",
        "selftext_html": None,
        "permalink": "/r/technology/comments/1abcd/intern_the_gpus/",
        "url": "https://www.reddit.com/r/technology/comments/1abcd/intern_the_gpus/",
        "score": 5,
        "num_comments": 1,
    }
    values.update(data)
    return {"kind": "t3", "data": values}


def test_a_crosspost_is_a_repost_after_its_original_and_keeps_the_relative_link() -> None:
    original = reddit_link(name="t3_1zzz", id="1zzz", subreddit="MachineLearning", title="Original", permalink="/r/MachineLearning/comments/1zzz/original/", url="https://www.example-news.com/a/3")["data"]  # fmt: skip
    thing = reddit_link(
        url="/r/MachineLearning/comments/1zzz/original/",
        crosspost_parent="t3_1zzz",
        crosspost_parent_list=[original],
    )
    first, post = parse_things(thing)
    assert (first.native_id, first.links) == ("t3_1zzz", ["https://www.example-news.com/a/3"])
    assert post.links == ["https://www.reddit.com/r/MachineLearning/comments/1zzz/original/"]
    assert (post.kind, post.repost_of) == ("repost", first.doc_id)
    assert post.domain == "reddit.com"
    assert parse_things(reddit_link()) == [parse_thing(reddit_link())]  # not a crosspost


def test_relative_links_in_selftext_resolve_and_typed_entities_are_decoded() -> None:
    html = '&lt;div class="md"&gt;&lt;p&gt;See &lt;a href="/r/ML/comments/9x/"&gt;this&lt;/a&gt;&lt;/p&gt;&lt;/div&gt;'  # fmt: skip
    post = parse_thing(reddit_link(selftext="Loss went up 40&#37; &amp; more", selftext_html=html))
    assert post.text == "Loss went up 40% & more"
    assert post.title == "Intern & the GPUs"
    assert post.links == ["https://www.reddit.com/r/ML/comments/9x/"]  # a self post: no url link


def test_a_comment_body_has_its_entities_decoded_and_its_links_read() -> None:
    body_html = '&lt;div class="md"&gt;&lt;p&gt;5 &amp;lt; 8000, &lt;a href="/r/t/wiki/"&gt;wiki&lt;/a&gt; &lt;a href="https://example.org/x"&gt;x&lt;/a&gt;&lt;/p&gt;&lt;/div&gt;'  # fmt: skip
    comment = {"kind": "t1", "data": {"name": "t1_c1", "created_utc": 1729325000, "body": "5 &lt; 8000 &gt; 3", "body_html": body_html, "parent_id": "t3_1abcd", "link_id": "t3_1abcd", "author": "x", "permalink": "/r/t/comments/1abcd/x/c1/"}}  # fmt: skip
    post = parse_thing(comment)
    assert post.text == "5 < 8000 > 3"
    assert post.links == ["https://www.reddit.com/r/t/wiki/", "https://example.org/x"]


# -- Hacker News ---------------------------------------------------------------------------------


def test_old_hn_texts_have_their_literal_line_breaks_read() -> None:
    hit = {"objectID": "363", "created_at_i": 1175714200, "author": "pg", "_tags": ["comment"], "comment_text": "first line.\\nsecond line\\n\\tthird", "parent_id": 1, "story_id": 1}  # fmt: skip
    assert parse_hit(hit).text == "first line.\nsecond line\nthird"
    code = {**hit, "comment_text": '<pre><code>print("a\\nb")</code></pre>'}
    assert "\\n" in parse_hit(code).text  # inside code it stays what it is


# -- GitHub --------------------------------------------------------------------------------------


def test_a_search_result_without_repository_url_names_its_repo_by_its_own_url() -> None:
    item = {"url": "https://api.github.com/repos/Octo-Cat/Hello-World/issues/1347", "number": 1347, "title": "Found a bug", "body": "See https://example.org/bug-report.", "created_at": "2024-10-19T08:00:00Z", "html_url": "https://github.com/Octo-Cat/Hello-World/issues/1347", "user": {"login": "octocat"}}  # fmt: skip
    repo = repo_of_api_url(search_issue_repo_url(item))
    post = issue_post(item, repo)
    assert (repo, post.native_id) == ("Octo-Cat/Hello-World", "octo-cat/hello-world#1347")
    assert post.links == ["https://example.org/bug-report"]  # markdown links are links
    with_it = {**item, "repository_url": "https://api.github.com/repos/Octo-Cat/Hello-World"}
    assert repo_of_api_url(search_issue_repo_url(with_it)) == repo


# -- Telegram ------------------------------------------------------------------------------------

TELEGRAM_PAGE = """<section class="tgme_channel_history">
<div class="tgme_widget_message" data-post="aifrontline/3001"><div class="tgme_widget_message_bubble">
 <div class="tgme_widget_message_forwarded_from">Forwarded from <a class="tgme_widget_message_forwarded_from_name" href="https://t.me/technews_cn/8841">Tech News CN</a></div>
 <div class="tgme_widget_message_text">ByteDance denies the 8,000 GPU claim</div>
 <a class="tgme_widget_message_date" href="https://t.me/aifrontline/3001"><time datetime="2024-10-19T05:10:00+00:00">05:10</time></a>
</div></div>
<div class="tgme_widget_message" data-post="aifrontline/3002"><div class="tgme_widget_message_bubble">
 <a class="tgme_widget_message_photo_wrap" href="https://t.me/aifrontline/3002" style="width:800px;background-image:url('https://cdn4.telesco.pe/file/abc123.jpg')"></a>
 <a class="tgme_widget_message_date" href="https://t.me/aifrontline/3002"><time datetime="2024-10-19T05:12:00+00:00">05:12</time></a>
</div></div>
</section>"""


def test_a_telegram_forward_is_a_repost_and_a_photo_only_message_is_kept(kept: Any) -> None:
    forward, photo = parse_channel_page(TELEGRAM_PAGE, "aifrontline")[0]
    assert (forward.kind, forward.repost_of) == ("repost", "telegram:technews_cn/8841")
    assert (photo.kind, photo.text, photo.media) == ("post", "", ["https://cdn4.telesco.pe/file/abc123.jpg"])  # fmt: skip
    assert kept(photo)


def test_a_weibo_long_text_is_read_like_the_post_itself() -> None:
    mblog = {"id": "4383404751066199", "created_at": "Sat Oct 19 16:00:00 +0800 2024", "isLongText": True, "text": "#字节实习生# 开头…<a href=\"/status/4383404751066199\">全文</a>", "user": {"id": 1, "screen_name": "长文作者"}}  # fmt: skip
    post = parse_mblog(mblog, datetime(2024, 10, 20, tzinfo=UTC))[0]
    full = '#字节实习生# 开头，后面还有<span class="url-icon"><img alt=[吃瓜] src="//h5.sinaimg.cn/x.png"></span> <a href="/n/知情人">@知情人</a> <a data-url="http://t.cn/A6xyz" href="https://m.weibo.cn/p/index?containerid=1">网页链接</a>'  # fmt: skip
    with_long_text(post, {"ok": 1, "data": {"ok": 1, "longTextContent": full}})
    assert post.text.startswith("#字节实习生# 开头，后面还有[吃瓜] @知情人")
    assert (post.links, post.mentions, post.hashtags) == (["http://t.cn/A6xyz"], ["知情人"], ["字节实习生"])  # fmt: skip


def test_a_quote_comes_with_the_post_it_quotes_on_mastodon_and_bluesky() -> None:
    quoted = status("500", "<p>the intern story</p>", REMOTE)
    quoting = status("501", "<p>this is false</p>", ANNA, quote={"state": "accepted", "quoted_status": quoted})  # fmt: skip
    first, second = parse_status(quoting, INSTANCE)
    assert (first.native_id, first.text) == ("https://far.example/users/cleo/statuses/500", "the intern story")  # fmt: skip
    assert second.quote_of == f"mastodon:{first.native_id}"
    target = "at://did:plc:other/app.bsky.feed.post/3kq"
    view = post_view({"text": "not true", "embed": {"$type": "app.bsky.embed.record", "record": {"uri": target, "cid": "c"}}})  # fmt: skip
    view["embed"] = {"$type": "app.bsky.embed.record#view", "record": {"$type": "app.bsky.embed.record#viewRecord", "uri": target, "cid": "c", "author": {"did": "did:plc:other", "handle": "other.bsky.social"}, "value": {"$type": "app.bsky.feed.post", "text": "8000 GPUs wiped", "createdAt": "2024-10-18T20:00:00Z"}, "likeCount": 4}}  # fmt: skip
    original, post = parse_post_views(view)
    assert (original.native_id, original.text, original.author.handle) == (target, "8000 GPUs wiped", "other.bsky.social")  # fmt: skip
    assert post.quote_of == f"bluesky:{target}"
    view["embed"]["record"]["value"] = {"text": 5}  # a shape not expected: the quote stays an edge
    assert [p.native_id for p in parse_post_views(view)] == [post.native_id]


# -- An embedded original of the wrong shape -----------------------------------------------------


@pytest.mark.parametrize(
    "odd", [{"created_utc": "soon"}, {"created_utc": 1e20}], ids=["time-text", "time-huge"]
)
def test_a_crosspost_whose_original_is_unreadable_is_kept_as_a_repost(odd: dict[str, Any]) -> None:
    original = {**reddit_link(name="t3_1zzz", id="1zzz")["data"], **odd}
    thing = reddit_link(crosspost_parent="t3_1zzz", crosspost_parent_list=[original])
    [post] = parse_things(thing)
    assert (post.native_id, post.kind, post.repost_of) == ("t3_1abcd", "repost", "reddit:t3_1zzz")


@pytest.mark.parametrize(
    "odd", [{"created_at": 5}, {"account": "cleo"}], ids=["time-number", "account-text"]
)
def test_a_mastodon_quote_whose_quoted_status_is_unreadable_is_kept_with_its_edge(
    odd: dict[str, Any],
) -> None:
    quoted = {**status("500", "<p>the intern story</p>", REMOTE), **odd}
    quoting = status("501", "<p>this is false</p>", ANNA, quote={"state": "accepted", "quoted_status": quoted})  # fmt: skip
    [post] = parse_status(quoting, INSTANCE)
    assert post.text == "this is false"
    assert post.quote_of == "mastodon:https://far.example/users/cleo/statuses/500"


@pytest.mark.parametrize("odd", [{"created_at": "sometime"}, {"user": {"id": []}, "created_at": None}], ids=["time-text", "time-null"])  # fmt: skip
def test_a_weibo_repost_whose_original_is_unreadable_is_kept_as_a_repost(
    odd: dict[str, Any],
) -> None:
    original = {"id": "4383400000000001", "created_at": "Sat Oct 19 15:00:00 +0800 2024", "text": "原文", "user": {"id": 8, "screen_name": "原作者"}, **odd}  # fmt: skip
    repost = {"id": "4383400000000002", "created_at": "Sat Oct 19 16:00:00 +0800 2024", "text": "转发微博", "user": {"id": 7}, "retweeted_status": original}  # fmt: skip
    [post] = parse_mblog(repost, datetime(2024, 10, 20, tzinfo=UTC))
    assert (post.native_id, post.kind, post.repost_of) == ("4383400000000002", "repost", "weibo:4383400000000001")  # fmt: skip


@pytest.mark.parametrize(
    ("read", "value"),
    [
        (from_iso, "9999-12-31T23:59:59-01:00"),
        (from_iso, "0001-01-01T00:00:00+01:00"),
        (from_epoch, 10**20),
        (from_epoch, -(10**20)),
        (from_epoch, float("nan")),
    ],
    ids=[
        "iso-past-9999-in-utc",
        "iso-before-year-1-in-utc",
        "epoch-huge",
        "epoch-huge-negative",
        "epoch-nan",
    ],
)
def test_a_time_past_the_calendars_ends_is_a_parse_error_naming_the_field(read, value) -> None:
    with pytest.raises(ParseError, match="post 7 created"):
        read(value, "post 7 created")
