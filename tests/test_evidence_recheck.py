"""The re-check job against every platform's replay server: a deletion is seen the way each
platform says it (404, 410, 451, 422, Weibo's error code, Bluesky's NotFound, Reddit's
`[removed]`, Telegram's "Post not found"), an edit becomes a new version, and a login wall or
refusal is never taken for a deletion.

One scenario: posts of interest are stored, the replayed platforms delete and edit some of them,
`evidence.recheck.prepare` picks the targets from the index and one `crawlers.run --source
recheck` re-checks them all; each test reads its platform's outcome.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest_crawl import PROJECT_ROOT, TESTS, run_crawl
from elasticsearch import Elasticsearch
from github_fixture import CONFESSION, FAKE_CALL, founding_world
from social_crawl import write_incident
from social_fixtures import FIXTURES

from evidence.recheck import prepare
from indexer.connection import IndexNames
from indexer.templates import delete_all, init
from spreadwatch.replay import ReplayServer
from spreadwatch.replay.bluesky import BlueskyData, BlueskyReplay
from spreadwatch.replay.github import GithubReplay
from spreadwatch.replay.hackernews import HackerNewsData, HackerNewsReplay
from spreadwatch.replay.mastodon import MastodonData, MastodonReplay
from spreadwatch.replay.pages import PagesData, PagesReplay
from spreadwatch.replay.reddit import RedditData, RedditReplay
from spreadwatch.replay.telegram import TelegramData, TelegramReplay
from spreadwatch.replay.weibo import WeiboData, WeiboReplay

MASTODON = "https://mastodon.social/users/aiwatch/statuses/"
#: GitHub documents are keyed by case-folded names (the GitHub spider's ids).
KEY = CONFESSION.lower()
BSKY = "at://did:plc:"

#: (post id, how it must be found gone) — one or more per platform.
DELETED = {
    "github-repo": (f"github:{FAKE_CALL}", "github:repo_gone_or_private"),
    "github-dmca": ("github:mirror0/bytedance-intern-0", "github:blocked"),
    "github-commit": (f"github:{KEY}@abc123", "github:commit_force_pushed_away"),
    "mastodon": (f"mastodon:{MASTODON}113329333862400200", "mastodon:deleted"),
    "bluesky": (f"bluesky:{BSKY}skept1c9q/app.bsky.feed.post/3l6wb7xyz11a", "bluesky:not_found"),
    "reddit-removed": ("reddit:t1_lsq9x77", "reddit:removed"),
    "reddit-gone": ("reddit:t3_1g7b2cd", "reddit:not_found"),
    "weibo": ("weibo:5091234567890002", "weibo:deleted"),
    "hackernews": ("hackernews:41880601", "hackernews:not_found"),
    "telegram": ("telegram:aifrontline/1202", "telegram:not_found"),
    "pages": ("toutiao:statement-2", "web:not_found"),
    "news": ("news:article-gone", "web:not_found"),
}
#: (post id, the text it must have now) — the replay edits them before the re-check.
EDITED = {
    "github": (
        f"github:{KEY}#1",
        "Edited: the recording was removed at the author's request.",
    ),
    "mastodon": (
        f"mastodon:{MASTODON}113329333862400100",
        "Edited: the ByteDance intern story is unconfirmed.",
    ),
    "bluesky": (
        f"bluesky:{BSKY}ai4news5k2x/app.bsky.feed.post/3l6vzq2abc22k",
        "Edited: ByteDance intern rumour, now disputed.",
    ),
    "reddit": ("reddit:t3_1g6z9ab", "Edited: ByteDance denies the intern report."),
    "weibo": ("weibo:5091234567890001", "更正：字节跳动实习生传言已被官方否认"),
    "hackernews": ("hackernews:41875000", "Ask HN: ByteDance GPU cluster (edited title)"),
    "telegram": ("telegram:aifrontline/1201", "Edited: ByteDance intern rumour denied."),
}


@dataclass
class Outcome:
    posts: dict[str, dict[str, Any]]
    summary: dict[str, Any]
    targets: int


def _seed(doc_id: str, kind: str, url: str | None, **extra: Any) -> dict[str, Any]:
    platform, _, native = doc_id.partition(":")
    return {
        "@timestamp": "2024-10-18T12:00:00+00:00",
        "incident": ["bytedance-test"],
        "platform": platform,
        "native_id": native,
        "kind": kind,
        "url": url,
        "text": "as first seen",
        "title": "as first seen",
        "author": {"official": True, "handle": "someone"},
        "first_seen": "2024-10-18T12:05:00+00:00",
        "last_seen": "2024-10-18T12:05:00+00:00",
        **extra,
    }


def _stored_posts() -> list[dict[str, Any]]:
    mastodon = "https://mastodon.social/@aiwatch/"
    return [
        _seed(f"github:{FAKE_CALL}", "repo", f"https://github.com/{FAKE_CALL}", repo=FAKE_CALL),
        _seed(
            "github:mirror0/bytedance-intern-0",
            "repo",
            "https://github.com/mirror0/bytedance-intern-0",
        ),
        _seed(f"github:{KEY}@abc123", "commit", None, repo=KEY),
        _seed(f"github:{KEY}#1", "issue", None, repo=KEY),
        _seed(DELETED["mastodon"][0], "post", mastodon + "113329333862400200"),
        _seed(EDITED["mastodon"][0], "post", mastodon + "113329333862400100"),
        _seed(DELETED["bluesky"][0], "post", None),
        _seed(EDITED["bluesky"][0], "post", None),
        _seed("reddit:t1_lsq9x77", "comment", None),
        _seed("reddit:t3_1g7b2cd", "post", None),
        _seed("reddit:t3_1g6z9ab", "post", None),
        _seed("weibo:5091234567890002", "post", None),
        _seed("weibo:5091234567890001", "post", None),
        _seed("hackernews:41880601", "comment", None),
        _seed("hackernews:41875000", "post", None),
        _seed("telegram:aifrontline/1202", "post", "https://t.me/aifrontline/1202"),
        _seed("telegram:aifrontline/1201", "post", "https://t.me/aifrontline/1201"),
        _seed("toutiao:statement-2", "statement", "https://www.toutiao.com/article/2/"),
        _seed("toutiao:statement-1", "statement", "https://www.toutiao.com/article/1/"),
        _seed("news:article-gone", "article", "https://news.example/ai/gone.html"),
        _seed("news:article-here", "article", "https://news.example/ai/here.html"),
    ]


def _replays() -> dict[str, Any]:
    github = founding_world(stars=3, mirrors=1)
    github.repos = [r for r in github.repos if r["full_name"] != FAKE_CALL]
    github.blocked = {"mirror0/bytedance-intern-0": {"reason": "dmca", "created_at": "2024-10-21T00:00:00Z", "html_url": "https://github.com/github/dmca/blob/master/2024/10/2024-10-21-bytedance.md"}}  # fmt: skip
    github.commits = []
    github.issues[CONFESSION][0]["body"] = EDITED["github"][1]

    mastodon = MastodonData.load(FIXTURES / "mastodon.json", "mastodon.social")
    original = next(s for s in mastodon.statuses if s["id"] == "113329333862400100")
    original["content"] = f"<p>{EDITED['mastodon'][1]}</p>"

    bluesky = BlueskyData.load(FIXTURES / "bluesky.json")
    bluesky.posts = [p for p in bluesky.posts if "3l6wb7xyz11a" not in p["uri"]]
    bluesky.posts[0]["record"]["text"] = EDITED["bluesky"][1]

    reddit = RedditData.load(FIXTURES / "reddit.json")
    reddit.things = [t for t in reddit.things if t["data"]["name"] != "t3_1g7b2cd"]
    next(t for t in reddit.things if t["data"]["name"] == "t3_1g6z9ab")["data"]["selftext"] = EDITED["reddit"][1]  # fmt: skip

    weibo = WeiboData.load(FIXTURES / "weibo.json")
    weibo.mblogs = [m for m in weibo.mblogs if m["id"] != "5091234567890002"]
    weibo.mblogs[0]["text"] = EDITED["weibo"][1]

    hackernews = HackerNewsData.load(FIXTURES / "hackernews.json")
    hackernews.hits = [h for h in hackernews.hits if h["objectID"] != "41880601"]
    next(h for h in hackernews.hits if h["objectID"] == "41875000")["title"] = EDITED["hackernews"][1]  # fmt: skip

    telegram = TelegramData.load(FIXTURES / "telegram.json")
    channel = telegram.channels["aifrontline"]
    channel["messages"] = [m for m in channel["messages"] if m["id"] != 1202]
    next(m for m in channel["messages"] if m["id"] == 1201)["html"] = EDITED["telegram"][1]

    page = "<html><body><article><p>Still here.</p></article></body></html>"
    pages = PagesData(pages={"/article/1/": page, "/ai/here.html": page})
    return {
        "GITHUB": GithubReplay(github),
        "MASTODON": MastodonReplay(mastodon),
        "BLUESKY_PUBLIC": BlueskyReplay(bluesky),
        "REDDIT": RedditReplay(reddit),
        "WEIBO": WeiboReplay(weibo),
        "HACKERNEWS": HackerNewsReplay(hackernews),
        "TELEGRAM": TelegramReplay(telegram),
        "PAGES": PagesReplay(pages),
    }


@pytest.fixture(scope="module")
def outcome(
    es_settings: Any, es_client: Elasticsearch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Outcome]:
    folder = tmp_path_factory.mktemp("recheck")
    names = IndexNames(f"{es_settings.index_prefix}-{uuid.uuid4().hex[:6]}")
    init(es_client, names)
    for seed in _stored_posts():
        doc = {k: v for k, v in seed.items() if v is not None}
        es_client.index(index=names.posts, id=f"{doc['platform']}:{doc['native_id']}", document=doc)
    es_client.indices.refresh(index=names.posts)
    incident = write_incident(folder, {"mastodon": {"terms": ["bytedance"], "instances": [{"url": "https://mastodon.social", "hashtags": ["bytedance"]}]}})  # fmt: skip
    data_dir = folder / "data"
    targets = prepare(es_client, names, data_dir, "bytedance-test", min_reach=10_000)
    with contextlib.ExitStack() as stack:
        servers = {k: stack.enter_context(ReplayServer(app)) for k, app in _replays().items()}
        env = {f"SPREADWATCH_{k}_BASE_URL": s.url for k, s in servers.items()}
        env |= {
            "SPREADWATCH_REDDIT_AUTH_BASE_URL": servers["REDDIT"].url,
            "SPREADWATCH_REDDIT_CLIENT_ID": "replay-client",
            "SPREADWATCH_REDDIT_CLIENT_SECRET": "replay-secret",
            "SPREADWATCH_WEIBO_COOKIE": "SUB=_2A25replay",
            "SPREADWATCH_FEEDS_BASE_URL": servers["PAGES"].url,
            "SPREADWATCH_ES_URL": es_client.transport.node_pool.get().base_url,
            "SPREADWATCH_INDEX_PREFIX": names.prefix,
            "SPREADWATCH_DATA_DIR": str(data_dir),
            "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(TESTS)]),
        }
        done = run_crawl(env, "--incident", str(incident), "--source", "recheck")
    assert done.code == 0, done.stderr[-4000:]
    es_client.indices.refresh(index=names.posts)
    hits = es_client.search(index=names.posts, size=200)["hits"]["hits"]
    yield Outcome({h["_id"]: h["_source"] for h in hits}, done.summary, targets)
    delete_all(es_client, names)


@pytest.mark.parametrize("case", sorted(DELETED))
def test_a_deleted_post_is_marked_with_how_the_platform_said_so(
    outcome: Outcome, case: str
) -> None:
    doc_id, how = DELETED[case]
    post = outcome.posts[doc_id]
    assert (post.get("deleted_how"), post["text"]) == (how, "as first seen")
    assert post["deleted_at"] >= post["first_seen"]
    assert post["deleted_evidence"]["record_id"].startswith("<urn:uuid:")


@pytest.mark.parametrize("case", sorted(EDITED))
def test_an_edited_post_gets_its_new_text_and_keeps_the_old(outcome: Outcome, case: str) -> None:
    doc_id, text = EDITED[case]
    post = outcome.posts[doc_id]
    assert text in (post.get("title") or "") + (post.get("text") or "")
    assert post.get("edited_at")
    assert [v["text"] for v in post["versions"]] == ["as first seen"]
    assert "deleted_at" not in post


def test_posts_still_there_are_neither_deleted_nor_edited(outcome: Outcome) -> None:
    for doc_id in ("toutiao:statement-1", "news:article-here"):
        assert "deleted_at" not in outcome.posts[doc_id], doc_id


def test_the_run_counts_what_it_found(outcome: Outcome) -> None:
    assert outcome.targets == len(_stored_posts())
    assert outcome.summary["deleted"] == len(DELETED)
    assert outcome.summary["edited"] == len(EDITED)


def test_a_login_wall_is_never_taken_for_a_deletion() -> None:
    from crawlers.recheck import Reply, Target, checker

    target, now = Target("weibo", "5091234567890001", "post"), datetime(2024, 10, 20, tzinfo=UTC)
    for reply in (
        Reply(432, b"", received_at=now),
        Reply(200, b'{"ok": -100, "url": "https://passport.weibo.com/"}', received_at=now),
    ):
        verdict = checker("weibo").judge(target, reply)
        assert (verdict.gone, verdict.unverifiable) == (None, "login_needed")
    reddit = checker("reddit").judge(
        Target("reddit", "t3_x", "post"), Reply(403, b"{}", received_at=now)
    )
    assert reddit.gone is None and reddit.unverifiable == "http_403"


@pytest.mark.parametrize("data", [b"null", b"[]", b'"x"'], ids=["null", "list", "text"])
def test_a_reddit_answer_without_a_listing_is_unverifiable_not_a_crash(data: bytes) -> None:
    from crawlers.recheck import Reply, Target, checker

    body = b'{"kind": "Listing", "data": ' + data + b"}"
    reply = Reply(200, body, received_at=datetime(2024, 10, 20, tzinfo=UTC))
    verdict = checker("reddit").judge(Target("reddit", "t3_x", "post"), reply)
    assert (verdict.gone, verdict.unverifiable) == (None, "bad_shape")


@pytest.mark.parametrize(
    "body",
    [b"{}", b'{"children": []}', b'{"id": 41880602, "author": null, "text": null}', b"[]"],
    ids=["empty", "no-id", "another-item", "list"],
)
def test_a_hacker_news_answer_that_is_not_the_item_is_not_taken_for_a_deletion(
    body: bytes,
) -> None:
    from crawlers.recheck import Reply, Target, checker

    reply = Reply(200, body, received_at=datetime(2024, 10, 20, tzinfo=UTC))
    verdict = checker("hackernews").judge(Target("hackernews", "41880601", "comment"), reply)
    assert (verdict.gone, verdict.unverifiable) == (None, "bad_shape")


def test_a_hacker_news_item_without_author_and_text_is_a_deleted_comment() -> None:
    from crawlers.recheck import Reply, Target, checker

    body = (
        b'{"id": 41880601, "created_at": "2024-10-19T03:40:02.000Z", "type": "comment", '
        b'"author": null, "title": null, "url": null, "text": null, "points": null, '
        b'"parent_id": 41875000, "story_id": 41875000, "children": [], "options": []}'
    )
    reply = Reply(200, body, received_at=datetime(2024, 10, 20, tzinfo=UTC))
    verdict = checker("hackernews").judge(Target("hackernews", "41880601", "comment"), reply)
    assert verdict.gone == "hackernews:deleted"
