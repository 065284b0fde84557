"""Social crawls through `crawlers.run`: the real spiders, pipelines and node; replayed platforms.

Assertions are on the documents in Elasticsearch and the run documents: what each platform's
posts become, engagement snapshots when a re-crawl sees new counts, and refusals on record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from social_crawl import write_incident
from social_fixtures import FIXTURES

from spreadwatch.replay import ReplayServer
from spreadwatch.replay.bluesky import BlueskyData, BlueskyReplay
from spreadwatch.replay.reddit import RedditData, RedditReplay
from spreadwatch.replay.telegram import TelegramData, TelegramReplay
from spreadwatch.replay.weibo import WeiboData, WeiboReplay

pytest_plugins = ["conftest_crawl"]

BLUESKY_LOGIN = {"SPREADWATCH_BLUESKY_HANDLE": "watcher.bsky.social", "SPREADWATCH_BLUESKY_APP_PASSWORD": "app-pass-word-1234"}  # fmt: skip
WEIBO_COOKIE = {"SPREADWATCH_WEIBO_COOKIE": "SUB=_2A25replay"}


def stored(es_client: Any, index: str) -> dict[str, dict[str, Any]]:
    es_client.indices.refresh(index=index)
    hits = es_client.search(index=index, size=1000)["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


def crawl_once(crawl_runner: Any, env: dict[str, str], incident: Path, source: str) -> Any:
    result = crawl_runner(env, "--incident", str(incident), "--source", source)
    assert result.code == 0, result.stderr[-3000:]
    return result


def test_weibo_posts_are_indexed_with_official_flag_followers_and_repost_relation(
    crawl_runner: Any, crawl_env: dict[str, str], tmp_path: Path, es_client: Any, index_names: Any
) -> None:
    incident = write_incident(tmp_path, {"weibo": {"terms": ["字节跳动"]}})
    with ReplayServer(WeiboReplay(WeiboData.load(FIXTURES / "weibo.json"))) as weibo:
        env = {**crawl_env, "SPREADWATCH_WEIBO_BASE_URL": weibo.url, **WEIBO_COOKIE}
        crawl_once(crawl_runner, env, incident, "weibo")
    posts = stored(es_client, index_names.posts)
    statement = posts["weibo:5091234567890003"]
    assert statement["author"] | {"official": True, "followers": 63_350_000} == statement["author"]
    assert statement["@timestamp"].startswith("2024-10-19T04:20:00")
    assert posts["weibo:5091234567890004"]["repost_of"] == "weibo:5091234567890003"
    assert posts["weibo:5091234567890001"]["lang"] == "zh"


def test_a_bluesky_recrawl_with_new_counts_adds_engagement_snapshots(
    crawl_runner: Any, crawl_env: dict[str, str], tmp_path: Path, es_client: Any, index_names: Any
) -> None:
    data = BlueskyData.load(FIXTURES / "bluesky.json")
    incident = write_incident(tmp_path, {"bluesky": {"terms": ["bytedance"]}})
    with ReplayServer(BlueskyReplay(data)) as pds:
        env = {**crawl_env, "SPREADWATCH_BLUESKY_BASE_URL": pds.url, **BLUESKY_LOGIN}
        crawl_once(crawl_runner, env, incident, "bluesky")
        data.posts[2]["likeCount"] = 900
        crawl_once(crawl_runner, env, incident, "bluesky")
    official = "bluesky:at://did:plc:bytedanceoff/app.bsky.feed.post/3l6xq1official"
    posts = stored(es_client, index_names.posts)
    assert posts[official]["engagement"]["likes"] == 900
    assert (
        posts[official]["quote_of"]
        == "bluesky:at://did:plc:ai4news5k2x/app.bsky.feed.post/3l6vzq2abc22k"
    )
    snapshots = [a for a in stored(es_client, index_names.activity).values() if a.get("post_id") == official]  # fmt: skip
    assert sorted(s["engagement"]["likes"] for s in snapshots) == [300, 900]


def test_a_reddit_refusal_without_credentials_is_on_the_run_record(
    crawl_runner: Any, crawl_env: dict[str, str], tmp_path: Path, es_client: Any, index_names: Any
) -> None:
    incident = write_incident(tmp_path, {"reddit": {"terms": ["bytedance"]}})
    with ReplayServer(RedditReplay(RedditData.load(FIXTURES / "reddit.json"), public_forbidden=True)) as reddit:  # fmt: skip
        env = {**crawl_env, **{f"SPREADWATCH_{u}_BASE_URL": reddit.url for u in ("REDDIT", "REDDIT_PUBLIC", "REDDIT_AUTH")}}  # fmt: skip
        result = crawl_once(crawl_runner, env, incident, "reddit")
    assert stored(es_client, index_names.posts) == {}
    (run,) = stored(es_client, index_names.runs).values()
    assert (run["source"], run["status"], result.summary["status"]) == (
        "reddit",
        "refused",
        "refused",
    )
    assert run["refusals"] == [{"key": "public_json_forbidden", "count": 1}]
    assert result.summary["items_indexed"] == 0


def test_telegram_messages_are_indexed_as_inert_text(
    crawl_runner: Any, crawl_env: dict[str, str], tmp_path: Path, es_client: Any, index_names: Any
) -> None:
    incident = write_incident(tmp_path, {"telegram": {"channels": ["aifrontline"]}})
    with ReplayServer(TelegramReplay(TelegramData.load(FIXTURES / "telegram.json"))) as telegram:
        env = {**crawl_env, "SPREADWATCH_TELEGRAM_BASE_URL": telegram.url}
        crawl_once(crawl_runner, env, incident, "telegram")
    posts = stored(es_client, index_names.posts)
    denial = posts["telegram:aifrontline/1202"]
    assert denial["engagement"]["views"] == 3_100_000
    # The author's escaped "&lt;b&gt;" stays literal text; the real <script> element is gone.
    assert "<b>8,000 GPU</b>" in denial["text"]
    assert "alert(" not in denial["text"] and "<script" not in denial["text"]
