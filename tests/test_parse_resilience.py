"""Parsers never take a page down: one hostile or odd record is one counted drop naming it.

An ESC in a Mastodon status's HTML used to make lxml raise (a `ValueError` no spider caught):
the whole run failed with 0 of its posts. Now control characters are stripped before any
HTML/XML tool sees them, and any failure inside one record's parser is that record's
`ParseError` (`dropped/bad_record`, its id in the log), the rest of the page goes on.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from social_crawl import crawl, write_incident
from social_fixtures import FIXTURES

from crawlers.parsers import ParseError
from crawlers.parsers.common import record_parser
from crawlers.parsers.mastodon import parse_status
from crawlers.parsers.reddit import parse_thing
from spreadwatch.replay import ReplayServer, Reply
from spreadwatch.replay.mastodon import MastodonData, MastodonReplay

ESC = "\x1b"


def status(**changes: object) -> dict:
    base = MastodonData.load(FIXTURES / "mastodon.json", "mastodon.social").statuses[0]
    return {**copy.deepcopy(base), **changes}


def test_an_escape_in_status_html_keeps_the_text_and_its_links() -> None:
    html = f'<p>ByteDance intern {ESC}[31mrumour <a href="https://example.org/x">link</a></p>'
    [post] = parse_status(status(content=html), "https://mastodon.social")
    assert "ByteDance intern [31mrumour link" in post.text and ESC not in post.text
    assert "https://example.org/x" in post.links


@record_parser
def crashing_parser(record: dict) -> None:
    """A parser with a bug: what no `except ParseError` used to catch."""
    return record["data"]["missing"]  # KeyError


@pytest.mark.parametrize(
    ("parse", "record", "ident"),
    [
        (crashing_parser, {"id": "4711", "data": {}}, "4711"),
        (
            lambda r: parse_status(r, "https://mastodon.social"),
            status(id="778", account=[1]),
            "778",
        ),
        (parse_thing, {"kind": "t3", "data": {"name": "t3_abc", "created_utc": "soon"}}, "t3_abc"),
    ],
)
def test_any_failure_inside_one_record_is_its_parse_error_naming_it(parse, record, ident) -> None:
    with pytest.raises(ParseError, match=ident):
        parse(record)


@pytest.fixture
def hostile_instance() -> Iterator[ReplayServer]:
    data = MastodonData.load(FIXTURES / "mastodon.json", "mastodon.social")
    good = data.statuses[0]
    data.statuses = [
        {**copy.deepcopy(good), "id": "113329333862400201",
         "uri": "https://mastodon.social/users/aiwatch/statuses/113329333862400201",
         "content": f"<p>ByteDance intern {ESC}]0;owned{chr(7)} sabotage</p>"},
        {**copy.deepcopy(good), "id": "113329333862400202", "account": "not an account"},
        good,
    ]  # fmt: skip
    with ReplayServer(MastodonReplay(data)) as server:
        yield server


def test_a_timeline_with_a_hostile_and_a_broken_status_keeps_the_rest(
    hostile_instance: ReplayServer, tmp_path: Path
) -> None:
    section = {"terms": ["bytedance"], "instances": [{"url": "https://mastodon.social", "hashtags": ["ByteDance"]}]}  # fmt: skip
    result = crawl("mastodon", write_incident(tmp_path, {"mastodon": section}), tmp_path,
                   SPREADWATCH_MASTODON_BASE_URL=hostile_instance.url)  # fmt: skip
    native = sorted(i.split("/")[-1] for i in result.ids())
    assert native == ["113329333862400100", "113329333862400201"]
    assert result.stat("dropped/bad_record") == 1


def test_a_redirect_loop_is_a_counted_drop_not_a_silent_ok(tmp_path: Path) -> None:
    from spreadwatch.replay.feeds import FeedsData, FeedsReplay

    with ReplayServer(FeedsReplay(FeedsData(feeds={}))) as server:
        loop = Reply(status=302, headers={"Location": f"{server.url}/news.xml"}, etag=False)
        server.script(r"^/news\.xml", [loop] * 30)
        section = {"feeds": [{"url": "https://news.example/news.xml"}]}
        result = crawl("feeds", write_incident(tmp_path, {"feeds": section}), tmp_path,
                       SPREADWATCH_FEEDS_BASE_URL=server.url)  # fmt: skip
    assert result.stat("dropped/redirect_loop") == 1
