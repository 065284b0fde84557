"""GitHub, feeds and pages crawls through `crawlers.run`: documents in the real Elasticsearch.

The real spiders, the real pipelines and the real node; only the outside world is replayed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from github_fixture import CONFESSION, FAKE_CALL, T0, founding_world
from replay_helpers import SettableClock, write_incident
from test_spider_feeds import SOURCES as FEED_SOURCES
from test_spider_feeds import guid_id, news_data
from test_spider_pages import STATEMENT_PAGE, site_data

from spreadwatch.replay import ReplayServer, faults
from spreadwatch.replay.feeds import FeedsReplay
from spreadwatch.replay.github import GithubReplay
from spreadwatch.replay.pages import PagesReplay

pytest_plugins = ["conftest_crawl"]

GITHUB_SOURCES = {
    "github": {"repos": [CONFESSION], "users": ["JusticeFighter110"], "terms": ["ByteDance intern"]}
}


@pytest.fixture
def github() -> Iterator[ReplayServer]:
    clock = SettableClock(T0 + timedelta(days=2))
    with ReplayServer(GithubReplay(founding_world(stars=120, mirrors=2)), clock=clock) as server:
        yield server


@pytest.fixture
def stored(es_client, index_names):  # type: ignore[no-untyped-def]
    """`stored("posts")`: the documents of this test's index of that kind, by id."""

    def read(kind: str) -> dict[str, dict]:
        index = getattr(index_names, kind)
        es_client.indices.refresh(index=index)
        hits = es_client.search(index=index, size=1000)["hits"]["hits"]
        return {h["_id"]: h["_source"] for h in hits}

    return read


@pytest.fixture
def crawl(crawl_runner, crawl_env, tmp_path: Path):  # type: ignore[no-untyped-def]
    """`crawl(source, sources, base_url, **incident_fields)`: one `crawlers.run` of the source
    at a replay server."""

    def run(source: str, sources: dict, base: str, **fields: object):  # type: ignore[no-untyped-def]
        incident = write_incident(tmp_path, sources, **fields)
        env = {**crawl_env, f"SPREADWATCH_{source.upper()}_BASE_URL": base}
        result = crawl_runner(env, "--incident", str(incident), "--source", source)
        assert result.code == 0, result.stderr[-3000:]
        return result

    return run


def test_a_github_crawl_indexes_posts_and_star_activity(
    crawl, github: ReplayServer, stored
) -> None:
    crawl("github", GITHUB_SOURCES, github.url)
    posts = stored("posts")
    key = CONFESSION.lower()
    assert {
        f"github:{key}",
        f"github:{key}:readme",
        f"github:{key}#1",
        f"github:{key}#1/comment-77",
        f"github:{key}@abc123",
        f"github:{FAKE_CALL}",
    } <= set(posts)
    assert posts[f"github:{key}"]["engagement"]["stars"] == 120
    assert posts[f"github:{key}#1/comment-77"]["url"].endswith("#issuecomment-77")
    activity = stored("activity")
    stars = [a for a in activity.values() if a.get("event") == "star"]
    assert len(stars) == 120


def test_a_second_github_crawl_duplicates_nothing_and_is_mostly_304s(
    crawl, github: ReplayServer, stored
) -> None:
    crawl("github", GITHUB_SOURCES, github.url)
    first = (stored("posts"), stored("activity"))
    github.clear_log()
    second = crawl("github", GITHUB_SOURCES, github.url)
    assert set(stored("posts")) == set(first[0])
    assert set(stored("activity")) == set(first[1])
    assert second.summary["not_modified"] == github.count(status=304) > 10
    assert [(r.path, r.query, r.status) for r in github.requests if r.status != 304] == []


def test_a_feeds_crawl_indexes_each_article_once_with_script_removed(crawl, stored) -> None:
    data = news_data()
    data.feeds["/tech/rss.xml"]["items"][0]["description"] = (
        "ByteDance intern " + faults.HOSTILE_TEXT
    )
    clock = SettableClock(SettableClock().now.replace(hour=4))  # EN2 and DE1 not yet out
    with ReplayServer(FeedsReplay(data), clock=clock) as news:
        crawl("feeds", FEED_SOURCES, news.url)
        first = set(stored("posts"))
        clock.now = clock.now.replace(hour=23)
        crawl("feeds", FEED_SOURCES, news.url)
    posts = stored("posts")
    article = posts[guid_id("T1")]
    assert "<script" not in article["text"] and "onerror" not in article["text"]
    assert guid_id("ZH1") in first and guid_id("EN2") not in first
    # New since the first run and matching a query (the German items match none of the
    # test incident's queries, so the pipeline leaves them out).
    assert set(posts) - first == {guid_id("EN2")}


def test_a_statement_page_is_indexed_as_official(crawl, stored) -> None:
    """The statement names neither the queries nor (this incident has none) the claims: it is
    the incident's because the file pins it (an unpinned official page matching nothing is not)."""
    official = {
        "organisation": "ByteDance",
        "domains": ["bytedance.com"],
        "statements": [STATEMENT_PAGE["url"]],
    }
    with ReplayServer(PagesReplay(site_data()), clock=SettableClock()) as site:
        crawl("pages", {"pages": {"pages": [STATEMENT_PAGE]}}, site.url, official=official)
    (statement,) = stored("posts").values()
    assert statement["kind"] == "statement"
    assert statement["author"]["official"] is True
    assert statement["matched"]["statement"] is True
    assert statement["@timestamp"].startswith("2024-10-19T02:30:00")
