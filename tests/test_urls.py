"""One URL home: the address kept, the join key and the domain (spreadwatch.urls)."""

from __future__ import annotations

import pytest

from spreadwatch.urls import canonical_url, clean_url, domain_of, links_in_text, registered_domain

# The same article written the ways platforms write it: one join key for all of them.
ARTICLE = "https://thepaper.cn/newsDetail_forward_29000001"
SAME_ARTICLE = [
    "https://www.thepaper.cn/newsDetail_forward_29000001",
    "http://thepaper.cn/newsDetail_forward_29000001",
    "HTTPS://WWW.ThePaper.CN:443/newsDetail_forward_29000001/",
    "https://www.thepaper.cn/newsDetail_forward_29000001?utm_source=weibo&spm=a1.b2",
    "https://thepaper.cn/newsDetail_forward_29000001#comments",
    "https://reader:secret@www.thepaper.cn/newsDetail_forward_29000001?fbclid=IwAR0",
    "https://www.thepaper.cn/newsDetail_forward_29000001，转发了",  # glued to the Chinese comma
    "//www.thepaper.cn/newsDetail_forward_29000001",
]


def test_percent_escapes_and_unicode_paths_are_one_key() -> None:
    written = ["https://example.com/文章", "https://example.com/%E6%96%87%E7%AB%A0", "https://example.com/%e6%96%87%e7%ab%a0"]  # fmt: skip
    assert {canonical_url(w) for w in written} == {"https://example.com/%E6%96%87%E7%AB%A0"}


@pytest.mark.parametrize("written", SAME_ARTICLE)
def test_every_way_of_writing_an_article_has_one_join_key(written):
    assert canonical_url(written) == ARTICLE


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://example.com/a?utm_source=x&utm_medium=y&id=3", "https://example.com/a?id=3"),
        ("https://m.weibo.cn/status/1?fbclid=abc&spm=a.b.c", "https://m.weibo.cn/status/1"),
        ("https://example.com/a?gclid=1&b=2", "https://example.com/a?b=2"),
        ("HTTPS://WWW.Example.COM:443/Path#frag", "https://www.example.com/Path"),
        ("https://user:pw@example.com/x", "https://example.com/x"),
        ("http://google.com?q=rumour", "http://google.com/?q=rumour"),
        ("https://github.com/o/r/issues/285#issuecomment-1008123456", "https://github.com/o/r/issues/285#issuecomment-1008123456"),
        ("https://github.com/o/r/pull/320#discussion_r783456789", "https://github.com/o/r/pull/320#discussion_r783456789"),
        ("https://github.com/o/r#readme", "https://github.com/o/r"),
        ("http://example.com:8080/x?b=2&a=1", "http://example.com:8080/x?b=2&a=1"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com", "https://example.com/"),
        ("https://Bücher.example/straße", "https://xn--bcher-kva.example/stra%C3%9Fe"),
        ("https://ｅｘａｍｐｌｅ.com/a", "https://example.com/a"),  # full-width letters (UTS 46)
        ("https://example.com/a，然后", "https://example.com/a"),
        ("http://127.0.0.1:9200/posts", "http://127.0.0.1:9200/posts"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("example.com/a", "https://example.com/a"),
        ("javascript:alert(1)", None),
        ("ftp://example.com/file", None),
        ("mailto:someone@example.com", None),
        ("not a url", None),
        ("http://[broken/", None),
        ("https:///no-host", None),
        ("", None),
        (None, None),
    ],
)  # fmt: skip
def test_clean_url_is_the_fetchable_address(url, clean):
    assert clean_url(url) == clean


def test_relative_links_resolve_against_the_page_they_are_on():
    base = "https://www.reddit.com"
    assert clean_url("/r/news/comments/abc/title/", base) == (
        "https://www.reddit.com/r/news/comments/abc/title/"
    )
    assert canonical_url("/r/news/comments/abc/title/", base) == (
        "https://reddit.com/r/news/comments/abc/title"
    )
    assert clean_url("item?id=6", "https://news.ycombinator.com/") == "https://news.ycombinator.com/item?id=6"  # fmt: skip
    assert clean_url("/r/news/", None) is None  # nothing to resolve against


def test_the_join_key_sorts_parameters_and_keeps_meaningful_ones():
    assert canonical_url("https://example.com/s?b=2&a=1&utm_campaign=x") == (
        "https://example.com/s?a=1&b=2"
    )
    assert canonical_url("https://example.com/s?a=1&b=2") != canonical_url(
        "https://example.com/s?a=2"
    )


@pytest.mark.parametrize(
    ("url", "domain", "registered"),
    [
        ("https://www.toutiao.com/article/1", "toutiao.com", "toutiao.com"),
        ("https://news.qq.com/a", "news.qq.com", "qq.com"),
        ("https://www.bbc.co.uk/news", "bbc.co.uk", "bbc.co.uk"),
        ("https://www.co.uk/", "www.co.uk", "www.co.uk"),  # nothing but a suffix after www.
        ("http://google.com?q=x", "google.com", "google.com"),
        ("https://user:pw@example.com/x", "example.com", "example.com"),
        ("https://www.example.com，看这里", "example.com", "example.com"),
        ("https://WWW.Example.COM:8443/", "example.com", "example.com"),
        ("https://xn--bcher-kva.de/", "bücher.de", "bücher.de"),
        ("http://127.0.0.1:9200/", "127.0.0.1", "127.0.0.1"),
        ("https://mastodon.test/@a", "mastodon.test", "mastodon.test"),
        ("", None, None),
        ("no url", None, None),
    ],
)
def test_domain_is_the_site_without_www(url, domain, registered):
    assert domain_of(url) == domain
    assert registered_domain(url) == registered


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("See https://example.org/a.", ["https://example.org/a"]),
        ("[docs](https://docs.example/x?y=1) and <https://b.example/>", ["https://docs.example/x?y=1", "https://b.example/"]),
        ("https://en.wikipedia.org/wiki/Foo_(bar), yes", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
        ("twice https://a.example/ https://a.example/", ["https://a.example/"]),
        ("`http://` alone, ftp://x.example/ and no link", []),
        ("看 https://example.com/a，然后", ["https://example.com/a"]),
        ("", []),
    ],
)  # fmt: skip
def test_links_written_in_plain_text_or_markdown(text, links):
    assert links_in_text(text) == links
