"""The feeds spider against a replayed news host: RSS, Atom and Google News search feeds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from replay_helpers import DENIAL_DAY, SettableClock, write_incident
from spider_harness import run_spider

from spreadwatch.replay import ReplayServer, faults
from spreadwatch.replay.feeds import FeedsData, FeedsReplay, item_time
from spreadwatch.urls import without_userinfo


def rss_item(guid: str, title: str, hours: float, publisher: str = "Reuters", **extra: str) -> dict:
    when = DENIAL_DAY.replace(hour=0) + __import__("datetime").timedelta(hours=hours)
    return {
        "title": f"{title} - {publisher}",
        "link": f"https://news.google.com/rss/articles/{guid}?oc=5",
        "guid": {"text": guid, "isPermaLink": "false"},
        "pubDate": format_datetime(when, usegmt=True),
        "description": extra.get("description", f"<a href='x'>{title}</a>&nbsp;{publisher}"),
        "source": {"text": publisher, "url": f"https://www.{publisher.lower()}.com"},
    }


def news_data() -> FeedsData:
    return FeedsData(
        feeds={
            "/tech/rss.xml": {
                "title": "Tech Desk",
                "link": "https://tech.example/",
                "items": [rss_item("T1", "ByteDance intern sacked over sabotage", 2, "TechDesk")],
            },
            "/atom.xml": {
                "format": "atom",
                "title": "Heise",
                "link": "https://heise.example/",
                "items": [
                    {
                        "id": "tag:heise,2024:1",
                        "title": "ByteDance Praktikant Sabotage",
                        "link": "https://heise.example/a/1",
                        "published": "2024-10-19T08:00:00Z",
                        "updated": "2024-10-19T08:00:00Z",
                        "summary": "Ein Praktikant soll KI-Training sabotiert haben.",
                        "author": "heise online",
                    }
                ],
            },
        },
        google_news=[
            {**rss_item("EN1", "ByteDance intern sabotage claims", 3), "lang": "en"},
            {**rss_item("EN2", "ByteDance denies intern damage", 5, "Bloomberg"), "lang": "en"},
            {**rss_item("ZH1", "字节跳动 实习生 投毒", 1, "新浪"), "lang": "zh"},
            {**rss_item("DE1", "ByteDance Praktikant", 6, "Spiegel"), "lang": "de"},
        ],
    )


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def news(clock: SettableClock) -> Iterator[ReplayServer]:
    with ReplayServer(FeedsReplay(news_data()), clock=clock) as server:
        yield server


SOURCES = {
    "feeds": {
        "feeds": [
            {"url": "https://tech.example/tech/rss.xml", "lang": "en"},
            {"url": "https://heise.example/atom.xml", "lang": "de"},
        ],
        "google_news": [
            {"query": "ByteDance", "lang": "en"},
            {"query": "字节跳动", "lang": "zh"},
            {"query": "ByteDance", "lang": "de"},
        ],
    }
}


def crawl(tmp_path: Path, server: ReplayServer, sources: dict = SOURCES):
    incident = write_incident(tmp_path, sources)
    return run_spider(
        "feeds", incident, tmp_path / "work", {"SPREADWATCH_FEEDS_BASE_URL": server.url}
    )


@pytest.fixture(scope="module")
def once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """One plain crawl shared by the tests that only read its items and request log."""
    with ReplayServer(FeedsReplay(news_data()), clock=SettableClock()) as server:
        yield crawl(tmp_path_factory.mktemp("feeds-once"), server), server


def guid_id(guid: str) -> str:
    return "news:" + hashlib.sha1(guid.encode()).hexdigest()


def test_every_feed_and_edition_yields_its_articles_once(once) -> None:
    result, _ = once
    expected = {"T1", "tag:heise,2024:1", "EN1", "EN2", "ZH1", "DE1"}
    assert sorted(result.ids()) == sorted(guid_id(g) for g in expected)


@pytest.mark.parametrize(
    "edition",
    [
        {"hl": "en-US", "gl": "US", "ceid": "US:en"},
        {"hl": "de", "gl": "DE", "ceid": "DE:de"},
        {"hl": "zh-CN", "gl": "CN", "ceid": "CN:zh-Hans"},
    ],
    ids=["en", "de", "zh"],
)
def test_google_news_is_asked_per_edition(once, edition) -> None:
    _, news = once
    asked = [{k: r.query[k] for k in edition} for r in news.matching(path=r"^/rss/search$")]
    assert edition in asked


def test_publisher_comes_from_the_source_element_and_leaves_the_headline(once) -> None:
    result, _ = once
    article = next(p for p in result.posts() if p["native_id"] == guid_id("EN2")[5:])
    assert article["title"] == "ByteDance denies intern damage"
    assert article["author"]["name"] == "Bloomberg"
    assert article["domain"] == "bloomberg.com"  # the publisher, not its www. host
    assert article["lang"] == "en"


def test_repeat_requests_are_conditional_and_answered_304(
    tmp_path: Path, news: ReplayServer
) -> None:
    crawl(tmp_path, news)
    news.clear_log()
    second = crawl(tmp_path, news)
    assert second.posts() == []
    assert news.count(status=304) == len(news.requests) == 5


def test_a_new_article_is_the_only_item_of_the_next_run(
    tmp_path: Path, news: ReplayServer, clock: SettableClock
) -> None:
    clock.now = DENIAL_DAY.replace(hour=4)  # EN2 (05:00), DE1 (06:00), heise (08:00) not yet out
    first = crawl(tmp_path, news)
    clock.now = DENIAL_DAY.replace(hour=23)
    second = crawl(tmp_path, news)
    assert guid_id("EN2") not in first.ids()
    later = [guid_id("EN2"), guid_id("DE1"), guid_id("tag:heise,2024:1")]
    assert sorted(second.ids()) == sorted(later)


def test_the_same_guid_in_two_feeds_is_one_article(tmp_path: Path, news: ReplayServer) -> None:
    news.app.data.google_news.append(
        {**rss_item("EN1", "ByteDance intern sabotage claims", 3), "lang": "de"}
    )
    result = crawl(tmp_path, news)
    assert result.ids().count(guid_id("EN1")) == 1


@pytest.mark.parametrize(
    "bad_reply",
    [
        faults.garbage("application/rss+xml"),
        faults.server_error(200, "<html><body>oops</body></html>"),
    ],
    ids=["garbage", "html-instead-of-xml"],
)
def test_an_unparseable_feed_is_a_counted_drop_and_the_others_still_come(
    tmp_path: Path, news: ReplayServer, bad_reply
) -> None:
    news.script(r"^/tech/rss\.xml", [bad_reply])
    result = crawl(tmp_path, news)
    assert result.stat("spreadwatch/dropped/bad_feed") == 1
    assert guid_id("T1") not in result.ids()
    assert guid_id("EN1") in result.ids()


def test_an_unparseable_feed_is_fetched_again_next_run(tmp_path: Path, news: ReplayServer) -> None:
    news.script(r"^/tech/rss\.xml", [faults.garbage("application/rss+xml")])
    crawl(tmp_path, news)
    second = crawl(tmp_path, news)
    assert second.ids() == [guid_id("T1")]


def test_a_server_error_is_retried(tmp_path: Path, news: ReplayServer) -> None:
    news.script(r"^/atom\.xml", [faults.server_error(503), faults.server_error(502)])
    result = crawl(tmp_path, news)
    assert guid_id("tag:heise,2024:1") in result.ids()
    assert news.count(path=r"^/atom\.xml$") == 3


def test_script_and_event_handlers_in_an_item_never_come_through(
    tmp_path: Path, news: ReplayServer
) -> None:
    news.app.data.feeds["/tech/rss.xml"]["items"][0]["description"] = faults.HOSTILE_TEXT
    result = crawl(tmp_path, news)
    article = next(p for p in result.posts() if p["native_id"] == guid_id("T1")[5:])
    assert "<script" not in article["text"]
    assert "onerror" not in article["text"]
    assert "bold" in article["text"]
    assert article["text_is_html"] is True


def test_an_official_feed_yields_statements_kept_without_a_match(
    tmp_path: Path, news: ReplayServer
) -> None:
    sources = {
        "feeds": {"feeds": [{"url": "https://bytedance.example/tech/rss.xml", "official": True}]}
    }
    result = crawl(tmp_path, news, sources)
    (statement,) = result.posts()
    assert (statement["kind"], statement["official"], statement["always_keep"]) == (
        "statement",
        True,
        True,
    )


# A wire feed during a breaking story: an item every 5 minutes, the feed showing its newest 20.
WIRE_START = DENIAL_DAY.replace(hour=0)
WIRE_STEP = timedelta(minutes=5)
WIRE_SIZE = 20
WIRE_URL = "https://reader:s3cret@wire.example/wire/rss.xml?token=feedtoken"
WIRE_SHOWN = "https://wire.example/wire/rss.xml"
WIRE_SOURCES = {"feeds": {"feeds": [{"url": WIRE_URL, "lang": "en"}]}}
SCROLLED = "spreadwatch/feeds/scrolled_past"


def wire_guid(i: int) -> str:
    return f"wire-{i:02d}"


def wire_items(count: int) -> list[dict]:
    return [
        rss_item(wire_guid(i), f"ByteDance intern update {i}", i * WIRE_STEP / timedelta(hours=1))
        for i in range(count)
    ]


def wire_at(newest: int) -> datetime:
    """The clock when item `newest` is the wire's latest."""
    return WIRE_START + newest * WIRE_STEP


def wire_ids(first: int, last: int) -> list[str]:
    return sorted(guid_id(wire_guid(i)) for i in range(first, last + 1))


@pytest.fixture
def wire(clock: SettableClock) -> Iterator[ReplayServer]:
    data = FeedsData(feeds={"/wire/rss.xml": {"title": "Wire", "size": WIRE_SIZE}})
    data.feeds["/wire/rss.xml"]["items"] = wire_items(60)
    with ReplayServer(FeedsReplay(data), clock=clock) as server:
        yield server


def scrolled_warnings(crawl_log: str) -> list[str]:
    return [line for line in crawl_log.splitlines() if "WARNING" in line and "scrolled" in line]


def test_a_feed_that_scrolled_past_the_last_fetch_is_counted_and_logged(
    tmp_path: Path, wire: ReplayServer, clock: SettableClock
) -> None:
    """Run 1 reads items 0..19; by run 2 the wire published 40 more and shows 40..59: none seen,
    all newer than 19, so 20..39 scrolled off unread. Counted once, logged without the feed's
    credentials or token; the 20 it shows are all read."""
    clock.now = wire_at(19)
    first = crawl(tmp_path, wire, WIRE_SOURCES)
    clock.now = wire_at(59)
    second = crawl(tmp_path, wire, WIRE_SOURCES)
    assert sorted(first.ids()) == wire_ids(0, 19) and first.stat(SCROLLED) == 0
    assert sorted(second.ids()) == wire_ids(40, 59)
    assert second.stat(SCROLLED) == 1
    (warning,) = scrolled_warnings(second.log)
    assert f"feed {WIRE_SHOWN}: all {WIRE_SIZE} entries are new" in warning
    assert f"the oldest ({wire_at(40).isoformat()})" in warning
    assert f"the newest of the last fetch ({wire_at(19).isoformat()})" in warning
    assert f"its {WIRE_SIZE} entries cover 95m" in warning  # 19 steps of 5 minutes
    assert "`every` (now 1h)" in warning  # the feeds section's default
    assert "s3cret" not in warning and "feedtoken" not in warning


@pytest.mark.parametrize(
    ("newest", "read"),
    [(38, (20, 38)), (24, (20, 24))],
    ids=["one-entry-overlap", "5-new-15-seen"],
)
def test_a_fetch_that_reaches_back_to_the_last_one_is_not_counted(
    tmp_path: Path, wire: ReplayServer, clock: SettableClock, newest: int, read: tuple[int, int]
) -> None:
    clock.now = wire_at(19)
    crawl(tmp_path, wire, WIRE_SOURCES)
    clock.now = wire_at(newest)
    second = crawl(tmp_path, wire, WIRE_SOURCES)
    assert sorted(second.ids()) == wire_ids(*read)
    assert second.stat(SCROLLED) == 0 and scrolled_warnings(second.log) == []


def test_the_first_fetch_of_a_full_feed_is_not_counted(
    tmp_path: Path, wire: ReplayServer, clock: SettableClock
) -> None:
    clock.now = wire_at(59)
    result = crawl(tmp_path, wire, WIRE_SOURCES)
    assert sorted(result.ids()) == wire_ids(40, 59)
    assert result.stat(SCROLLED) == 0 and scrolled_warnings(result.log) == []


@pytest.mark.parametrize(
    ("reply", "stat"),
    [
        (None, "spreadwatch/not_modified"),
        (faults.forbidden(), "spreadwatch/refused/403"),
        (faults.garbage("application/rss+xml"), "spreadwatch/dropped/bad_feed"),
    ],
    ids=["304", "refused", "broken"],
)
def test_a_fetch_that_read_nothing_is_no_gap_and_changes_nothing(
    tmp_path: Path, wire: ReplayServer, clock: SettableClock, reply, stat: str
) -> None:
    """A 304, a refusal or a broken body between two fetches: not counted, and the next fetch
    that did scroll past run 1's newest is still measured against run 1 (counted once)."""
    clock.now = wire_at(19)
    crawl(tmp_path, wire, WIRE_SOURCES)
    if reply is not None:
        wire.script(r"^/wire/rss\.xml", [reply])
    second = crawl(tmp_path, wire, WIRE_SOURCES)
    clock.now = wire_at(59)
    third = crawl(tmp_path, wire, WIRE_SOURCES)
    assert second.stat(stat) == 1 and second.ids() == []
    assert second.stat(SCROLLED) == 0 and scrolled_warnings(second.log) == []
    assert sorted(third.ids()) == wire_ids(40, 59) and third.stat(SCROLLED) == 1


def test_a_feed_republishing_its_entries_with_new_times_is_not_counted(
    tmp_path: Path, clock: SettableClock
) -> None:
    """The same 20 guids again, each with a time after the last fetch's newest: seen, no gap."""
    data = FeedsData(feeds={"/wire/rss.xml": {"title": "Wire", "items": wire_items(WIRE_SIZE)}})
    with ReplayServer(FeedsReplay(data), clock=clock) as server:
        clock.now = wire_at(WIRE_SIZE - 1)
        crawl(tmp_path, server, WIRE_SOURCES)
        later = timedelta(hours=6)
        for item in data.feeds["/wire/rss.xml"]["items"]:
            item["pubDate"] = format_datetime(item_time(item) + later, usegmt=True)
        clock.now += later
        second = crawl(tmp_path, server, WIRE_SOURCES)
    assert second.ids() == [] and second.stat("spreadwatch/feeds/already_seen") == WIRE_SIZE
    assert second.stat(SCROLLED) == 0 and scrolled_warnings(second.log) == []


def test_a_google_news_search_with_only_new_items_is_not_counted(
    tmp_path: Path, clock: SettableClock
) -> None:
    """Google News search items come in relevance order, not newest first: its oldest item says
    nothing about what scrolled off, so all-new items newer than the last fetch are no gap."""
    old, new = wire_items(60)[:20], wire_items(60)[40:]
    data = FeedsData(google_news=[{**item, "lang": "en"} for item in old])
    sources = {"feeds": {"google_news": [{"query": "ByteDance", "lang": "en"}]}}
    with ReplayServer(FeedsReplay(data), clock=clock) as server:
        first = crawl(tmp_path, server, sources)
        data.google_news = [{**item, "lang": "en"} for item in new]
        second = crawl(tmp_path, server, sources)
    assert sorted(first.ids()) == wire_ids(0, 19)
    assert sorted(second.ids()) == wire_ids(40, 59)
    assert second.stat(SCROLLED) == 0 and scrolled_warnings(second.log) == []


def test_a_feed_url_is_logged_without_its_credentials_or_query() -> None:
    assert without_userinfo(WIRE_URL, query=False) == WIRE_SHOWN
    assert (
        without_userinfo("http://[::1]:8080/a.xml?k=v#f", query=False) == "http://[::1]:8080/a.xml"
    )


def test_an_entry_dated_in_the_future_does_not_hide_the_next_gap(
    tmp_path: Path, clock: SettableClock
) -> None:
    """A typo'd date years ahead (dropped by the ingest as bad_timestamp) is no fetch's newest:
    kept as the record, every later fetch's entries would be older than it and a feed that
    scrolled past its last fetch would never be counted."""
    typo = rss_item("wire-typo", "ByteDance intern update (typo)", 0)
    typo["pubDate"] = format_datetime(datetime.now(UTC) + timedelta(days=3650), usegmt=True)
    data = FeedsData(feeds={"/wire/rss.xml": {"title": "Wire", "items": [typo, *wire_items(20)]}})
    clock.now = datetime.now(UTC) + timedelta(days=7300)  # the replay shows every item
    with ReplayServer(FeedsReplay(data), clock=clock) as server:
        crawl(tmp_path, server, WIRE_SOURCES)
        data.feeds["/wire/rss.xml"]["items"] = wire_items(60)[40:]
        second = crawl(tmp_path, server, WIRE_SOURCES)
    assert sorted(second.ids()) == wire_ids(40, 59)
    assert second.stat(SCROLLED) == 1


@pytest.mark.parametrize("stored", ["not a time", "2024-10-19T01:35:00", 17], ids=["junk", "naive", "number"])  # fmt: skip
def test_a_corrupt_record_of_the_last_fetch_is_a_first_fetch(
    tmp_path: Path, wire: ReplayServer, clock: SettableClock, stored: object
) -> None:
    """A record no version wrote (edited by hand, a time without its zone) is no crash: the
    fetch is measured against nothing, and its own record replaces it for the next."""
    clock.now = wire_at(19)
    crawl(tmp_path, wire, WIRE_SOURCES)
    (state_file,) = (tmp_path / "work" / "data" / "state").rglob("feeds.json")
    state = json.loads(state_file.read_text())
    state["extra"][f"feed:{WIRE_URL}"] = {"newest": stored}
    state_file.write_text(json.dumps(state))
    clock.now = wire_at(39)
    second = crawl(tmp_path, wire, WIRE_SOURCES)
    clock.now = wire_at(58)  # 39..58: one entry seen
    third = crawl(tmp_path, wire, WIRE_SOURCES)
    assert sorted(second.ids()) == wire_ids(20, 39)
    assert not [k for k in second.stats if "spider_exceptions" in k], second.stats
    assert second.stat(SCROLLED) == 0
    assert sorted(third.ids()) == wire_ids(40, 58) and third.stat(SCROLLED) == 0
