"""Normalisation of untrusted platform values: times, HTML, URLs, languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawlers.normalise import (
    NormaliseError,
    clean_text,
    html_to_text,
    language,
    read_html,
    to_utc_iso,
)

UTC_8AM = "2024-10-19T08:00:00+00:00"


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 10, 19, 8, 0, tzinfo=UTC),
        datetime(2024, 10, 19, 16, 0, tzinfo=timezone(timedelta(hours=8))),
        datetime(2024, 10, 19, 8, 0),  # naive: taken as UTC
        1729324800,
        1729324800.0,
        1729324800000,  # milliseconds
        "1729324800",
        "2024-10-19T08:00:00Z",
        "2024-10-19T16:00:00+08:00",
        "Sat, 19 Oct 2024 16:00:00 +0800",  # RFC 822 (RSS)
        "Sat, 19 Oct 2024 08:00:00 GMT",
        "2024-10-19 08:00:00",
    ],
)
def test_times_become_utc(value):
    assert to_utc_iso(value) == UTC_8AM


@pytest.mark.parametrize(
    "value",
    ["", "   ", None, True, "yesterday", "3小时前", "2024-13-45", [2024], "1800-01-01T00:00:00Z"],
)
def test_unusable_times_are_bad_timestamps(value):
    with pytest.raises(NormaliseError) as error:
        to_utc_iso(value)
    assert error.value.reason == "bad_timestamp"


def test_a_time_far_in_the_future_is_rejected():
    with pytest.raises(NormaliseError):
        to_utc_iso(datetime.now(UTC) + timedelta(days=3))


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>one</p><p>two</p>", "one\ntwo"),
        ("a<br>b", "a\nb"),
        ("<script>alert(1)</script>visible", "visible"),
        ("<style>p{color:red}</style><b>bold</b>", "bold"),
        ('<img src=x onerror="steal()">caption', "caption"),
        ("<iframe src='https://evil'></iframe>text", "text"),
        ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
        ("<p>unclosed <b>tags", "unclosed tags"),
        ("", ""),
    ],
)
def test_html_becomes_visible_text_only(html, text):
    assert html_to_text(html) == text


def test_control_characters_are_removed_and_long_text_cut():
    assert clean_text("a\x00b\u200bc\x1b[31m") == "abc[31m"


@pytest.mark.parametrize(
    ("html", "base", "links"),
    [
        ('<a href="https://a.example/x">a</a> <a href="/r/news/">b</a>', None, ["https://a.example/x", "/r/news/"]),
        ('<a href="/r/news/">b</a><a href="//c.example/y">c</a>', "https://www.reddit.com", ["https://www.reddit.com/r/news/", "//c.example/y"]),
        ('<a href="item?id=6">parent</a><a href="mailto:a@b.example">m</a>', "https://news.ycombinator.com/", ["https://news.ycombinator.com/item?id=6", "mailto:a@b.example"]),
        ("<p>no links</p>", None, []),
        ('<a name="anchor">no target</a>', None, []),
    ],
)  # fmt: skip
def test_html_links_are_read_with_the_text(html, base, links):
    assert read_html(html, base).links == links


def test_html_paragraphs_are_lines_and_text_is_the_same_with_links():
    html = '<p>Read <a href="https://a.example/">this</a>.</p><p>Then<br>that</p>'
    assert read_html(html).text == html_to_text(html) == "Read this.\nThen\nthat"


@pytest.mark.parametrize(
    ("text", "declared", "lang"),
    [
        ("字节跳动实习生被指破坏大模型训练", None, "zh"),
        ("Ein Praktikant soll das Training eines großen KI-Modells sabotiert haben", None, "de"),
        ("An intern allegedly sabotaged the training of a large language model", None, "en"),
        ("whatever", "zh-CN", "zh"),
        ("whatever", "en_US", "en"),
        ("!!", None, "und"),
    ],
)
def test_language(text, declared, lang):
    assert language(text, declared, ("zh", "en", "de")) == lang


def test_a_weak_guess_counts_only_within_the_incident_languages():
    short = "ByteDance fires intern"
    assert (language(short, None, ("en",)), language(short, None, ())) == ("en", "und")
