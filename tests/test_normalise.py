"""Normalisation of untrusted platform values: times, HTML, URLs, languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawlers.normalise import (
    NormaliseError,
    canonical_url,
    clean_text,
    domain_of,
    html_to_text,
    language,
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
    ("url", "canonical"),
    [
        ("https://example.com/a?utm_source=x&utm_medium=y&id=3", "https://example.com/a?id=3"),
        ("https://m.weibo.cn/status/1?fbclid=abc&spm=a.b.c", "https://m.weibo.cn/status/1"),
        ("HTTPS://WWW.Example.COM:443/Path#frag", "https://www.example.com/Path"),
        (
            "https://github.com/Marak/colors.js/issues/285#issuecomment-1008123456",
            "https://github.com/Marak/colors.js/issues/285#issuecomment-1008123456",
        ),
        (
            "https://github.com/Marak/colors.js/pull/320#discussion_r783456789",
            "https://github.com/Marak/colors.js/pull/320#discussion_r783456789",
        ),
        ("https://github.com/Marak/colors.js#readme", "https://github.com/Marak/colors.js"),
        ("http://example.com:8080/x?b=2&a=1", "http://example.com:8080/x?b=2&a=1"),
        ("https://example.com", "https://example.com/"),
        ("javascript:alert(1)", None),
        ("ftp://example.com/file", None),
        ("not a url", None),
        ("http://[broken/", None),
        (None, None),
    ],
)
def test_urls_lose_tracking_parameters(url, canonical):
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.toutiao.com/article/1", "toutiao.com"),
        ("https://news.qq.com/a", "news.qq.com"),
        ("", None),
    ],
)
def test_domain(url, domain):
    assert domain_of(url) == domain


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
