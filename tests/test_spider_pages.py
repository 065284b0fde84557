"""The pages spider against a replayed web host: statement pages, a paged forum thread, robots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from replay_helpers import SettableClock, write_incident
from spider_harness import run_spider

from spreadwatch.replay import ReplayServer, faults
from spreadwatch.replay.pages import PagesData, PagesReplay

STATEMENT = """<html><body><article class="statement">
<h1 class="title">关于实习生破坏模型训练的声明</h1>
<time datetime="2024-10-19 10:30">2024-10-19 10:30</time>
<div class="content"><p>网传“8000多卡、损失上千万美元”严重夸大。</p></div>
</article></body></html>"""


def reply_html(number: int, at: str, text: str) -> dict:
    return {
        "at": at,
        "html": f'<div class="reply" data-pid="p{number}"><span class="who">user{number}</span>'
        f'<span class="when">{at}</span><div class="body">{text}</div>'
        f'<span class="views">{number * 100} views</span></div>',
    }


def thread_page(items: list[dict], next_href: str | None) -> dict:
    nav = f'<a class="next" href="{next_href}">next</a>' if next_href else ""
    return {
        "html": f"<html><body><h1>字节跳动 实习生</h1>{{items}}{nav}</body></html>",
        "items": items,
    }


def site_data() -> PagesData:
    return PagesData(
        pages={
            "/article/7427": STATEMENT,
            "/t/1": thread_page(
                [
                    reply_html(1, "2024-10-18T09:00:00Z", "字节跳动 实习生 投毒?"),
                    reply_html(2, "2024-10-18T10:00:00Z", "8000 H100 卡"),
                ],
                "/t/1?p=2",
            ),
            "/t/1?p=2": thread_page([reply_html(3, "2024-10-19T11:00:00Z", "官方辟谣了")], None),
            "/private/notes": STATEMENT,
        },
        robots="User-agent: *\nDisallow: /private/\n",
    )


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def site(clock: SettableClock) -> Iterator[ReplayServer]:
    with ReplayServer(PagesReplay(site_data()), clock=clock) as server:
        yield server


STATEMENT_PAGE = {
    "name": "bytedance-statement",
    "url": "https://www.toutiao.com/article/7427",
    "kind": "statement",
    "lang": "zh",
    "selectors": {
        "item": "article.statement",
        "title": ".title",
        "text": ".content",
        "time": "time",
        "time_attr": "datetime",
    },
}
THREAD_PAGE = {
    "name": "forum-thread",
    "url": "https://forum.example/t/1",
    "kind": "comment",
    "platform": "v2ex",
    "selectors": {
        "item": "div.reply",
        "text": ".body",
        "time": ".when",
        "author": ".who",
        "id_attr": "data-pid",
        "views": ".views",
    },
    "next_page": "a.next",
    "max_pages": 5,
}


def crawl(tmp_path: Path, server: ReplayServer, pages: list[dict], **section: object):
    incident = write_incident(tmp_path, {"pages": {"pages": pages, **section}})
    return run_spider(
        "pages", incident, tmp_path / "work", {"SPREADWATCH_PAGES_BASE_URL": server.url}
    )


def test_a_statement_page_is_an_official_statement_in_utc(
    tmp_path: Path, site: ReplayServer
) -> None:
    (statement,) = crawl(tmp_path, site, [STATEMENT_PAGE]).posts()
    assert statement["kind"] == "statement"
    assert statement["official"] is True and statement["always_keep"] is True
    assert statement["title"] == "关于实习生破坏模型训练的声明"
    assert "8000多卡" in statement["text"]
    # A naive page time is read in the incident's zone (Asia/Shanghai): 10:30 +08:00.
    assert statement["timestamp"] == "2024-10-19T02:30:00+00:00"


def test_a_post_keeps_its_real_address_when_the_base_url_is_overridden(
    tmp_path: Path, site: ReplayServer
) -> None:
    (statement,) = crawl(tmp_path, site, [STATEMENT_PAGE]).posts()
    assert statement["url"] == STATEMENT_PAGE["url"]
    assert site.url not in statement["url"]


def test_a_thread_is_followed_through_its_pages(tmp_path: Path, site: ReplayServer) -> None:
    result = crawl(tmp_path, site, [THREAD_PAGE])
    assert sorted(result.ids()) == ["v2ex:p1", "v2ex:p2", "v2ex:p3"]
    by_id = {p["native_id"]: p for p in result.posts()}
    assert by_id["p2"]["author"]["handle"] == "user2"
    assert by_id["p2"]["engagement"]["views"] == 200


def test_only_replies_published_by_the_clock_appear(
    tmp_path: Path, site: ReplayServer, clock: SettableClock
) -> None:
    clock.now = clock.now.replace(hour=9, minute=30)  # 19 Oct 09:30 UTC: reply 3 (11:00) not yet
    result = crawl(tmp_path, site, [THREAD_PAGE])
    assert sorted(result.ids()) == ["v2ex:p1", "v2ex:p2"]


def test_robots_txt_is_obeyed(tmp_path: Path, site: ReplayServer) -> None:
    private = {**STATEMENT_PAGE, "name": "private", "url": "https://www.toutiao.com/private/notes"}
    result = crawl(tmp_path, site, [private])
    assert result.posts() == []
    assert site.count(path=r"^/private/") == 0
    assert site.count(path=r"^/robots\.txt$") == 1


def test_robots_can_be_switched_off_per_incident(tmp_path: Path, site: ReplayServer) -> None:
    private = {**STATEMENT_PAGE, "name": "private", "url": "https://www.toutiao.com/private/notes"}
    result = crawl(tmp_path, site, [private], obey_robots=False)
    assert len(result.posts()) == 1


def test_an_unchanged_page_is_answered_304_on_the_next_run(
    tmp_path: Path, site: ReplayServer
) -> None:
    crawl(tmp_path, site, [STATEMENT_PAGE])
    site.clear_log()
    second = crawl(tmp_path, site, [STATEMENT_PAGE])
    assert second.posts() == []
    assert site.count(status=304, path=r"^/article/") == 1


def test_a_selector_matching_nothing_is_a_counted_drop(tmp_path: Path, site: ReplayServer) -> None:
    broken = {
        **STATEMENT_PAGE,
        "selectors": {**STATEMENT_PAGE["selectors"], "item": "article.moved"},
    }
    result = crawl(tmp_path, site, [broken])
    assert result.stat("spreadwatch/dropped/no_items") == 1


def test_an_unreadable_time_is_a_counted_drop_not_a_crash(
    tmp_path: Path, site: ReplayServer
) -> None:
    site.app.data.pages["/t/1"]["items"][0]["html"] = site.app.data.pages["/t/1"]["items"][0][
        "html"
    ].replace('<span class="when">2024-10-18T09:00:00Z', '<span class="when">yesterday-ish')
    result = crawl(tmp_path, site, [THREAD_PAGE])
    assert result.stat("spreadwatch/dropped/bad_time") == 1
    assert sorted(result.ids()) == ["v2ex:p2", "v2ex:p3"]


def test_script_inside_a_post_is_passed_on_as_html_to_be_cleaned(
    tmp_path: Path, site: ReplayServer
) -> None:
    site.app.data.pages["/t/1"]["items"][1] = reply_html(
        2, "2024-10-18T10:00:00Z", faults.HOSTILE_TEXT
    )
    result = crawl(tmp_path, site, [THREAD_PAGE])
    post = next(p for p in result.posts() if p["native_id"] == "p2")
    assert post["text_is_html"] is True
    assert "<b>bold</b>" in post["text"]


def test_a_server_error_is_retried(tmp_path: Path, site: ReplayServer) -> None:
    site.script(r"^/article/", [faults.server_error(500)])
    result = crawl(tmp_path, site, [STATEMENT_PAGE])
    assert len(result.posts()) == 1


FORUM_LIST = {
    "name": "forum-list",
    "url": "https://forum.example/go/career",
    "kind": "post",
    "platform": "v2ex",
    "selectors": {"item": "div.topic", "text": "a", "link": "a", "id_attr": "data-id"},
    "follow": "div.topic a",
    "follow_selectors": {
        "item": "div.reply",
        "text": ".body",
        "time": ".when",
        "author": ".who",
        "id_attr": "data-pid",
    },
}


def test_a_followed_thread_growing_under_an_unchanged_list_is_read_again(
    tmp_path: Path, site: ReplayServer, clock: SettableClock
) -> None:
    """The list only names its topics: a new reply changes the thread, not the list."""
    site.app.data.pages["/go/career"] = (
        '<html><body><div class="topic" data-id="t1"><a href="/t/1">字节跳动 实习生</a></div>'
        "</body></html>"
    )
    site.app.data.pages["/t/1"]["items"].append(reply_html(4, "2024-10-19T11:00:00Z", "辟谣了"))
    clock.now = clock.now.replace(hour=9, minute=30)  # reply 4 (11:00) not published yet
    first = crawl(tmp_path, site, [FORUM_LIST])
    assert {"v2ex:p1", "v2ex:p2"} <= set(first.ids()) and "v2ex:p4" not in first.ids()
    clock.now = clock.now.replace(hour=12)
    site.clear_log()
    second = crawl(tmp_path, site, [FORUM_LIST])
    assert "v2ex:p4" in second.ids()
    assert site.count(status=200, path=r"^/go/career$") == 1
