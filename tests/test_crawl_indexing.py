"""A real spider (feeds) against its replay server, through `crawlers.run` into the real node.

The spider's own behaviour is tested with its replay fixtures elsewhere; this checks the seam:
what it yields passes the pipelines and lands in the posts index once, however often it runs.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from email.utils import format_datetime
from pathlib import Path

import pytest
from replay_helpers import DENIAL_DAY, write_incident

from spreadwatch.replay import ReplayServer
from spreadwatch.replay.feeds import FeedsData, FeedsReplay

pytest_plugins = ["conftest_crawl"]
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def rss_item(guid: str, title: str, hours: int, publisher: str) -> dict:
    when = DENIAL_DAY.replace(hour=hours)
    return {
        "title": f"{title} - {publisher}",
        "link": f"https://news.example/{guid}?utm_source=rss&utm_medium=feed",
        "guid": {"text": guid, "isPermaLink": "false"},
        "pubDate": format_datetime(when, usegmt=True),
        "description": f"<p>{title}</p><script>alert('{guid}')</script>",
        "source": {"text": publisher, "url": f"https://www.{publisher.lower()}.com"},
    }


@pytest.fixture
def news() -> Iterator[ReplayServer]:
    data = FeedsData(
        feeds={
            "/rss.xml": {
                "title": "Tech Desk",
                "link": "https://news.example/",
                "items": [
                    rss_item("A1", "ByteDance intern sacked over sabotage", 2, "Reuters"),
                    rss_item("A2", "字节跳动 实习生 投毒 传闻", 3, "Sina"),
                    rss_item("A3", "Quarterly results of a bakery", 4, "Local"),
                ],
            }
        }
    )
    with ReplayServer(FeedsReplay(data)) as server:
        yield server


def article_id(guid: str) -> str:
    return "news:" + hashlib.sha1(guid.encode()).hexdigest()


def test_feed_articles_are_indexed_once_across_two_crawls(
    crawl_runner, crawl_env, news, tmp_path: Path, stored_posts
):
    incident = write_incident(
        tmp_path, {"feeds": {"feeds": [{"url": "https://news.example/rss.xml"}]}}
    )
    env = {**crawl_env, "SPREADWATCH_FEEDS_BASE_URL": news.url}
    first = crawl_runner(env, "--incident", str(incident), "--source", "feeds")
    second = crawl_runner(env, "--incident", str(incident), "--source", "feeds")
    assert (first.code, second.code) == (0, 0), first.stderr[-2000:]
    posts = stored_posts()
    assert sorted(posts) == sorted([article_id("A1"), article_id("A2")])
    assert first.summary["drops"] == {"no_match": 1}
    texts = [p.get("text", "") + (p.get("title") or "") for p in posts.values()]
    assert not any("alert(" in t or "<script" in t for t in texts)


def test_plain_scrapy_crawl_indexes_and_records_its_run(
    crawl_env, news, tmp_path: Path, stored_posts, stored_runs
):
    incident = write_incident(
        tmp_path, {"feeds": {"feeds": [{"url": "https://news.example/rss.xml"}]}}
    )
    env = {**os.environ, **crawl_env, "SPREADWATCH_FEEDS_BASE_URL": news.url}
    scrapy = Path(sys.executable).parent / "scrapy"
    done = subprocess.run(
        [str(scrapy), "crawl", "feeds", "-a", f"incident={incident}"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(stored_posts()) == sorted([article_id("A1"), article_id("A2")])
    runs = stored_runs()
    assert [(r["source"], r["status"], r["items_indexed"]) for r in runs] == [("feeds", "ok", 2)]
