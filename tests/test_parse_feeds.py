"""Feed entries as articles: Google News items joined to the publisher's article."""

from __future__ import annotations

import base64

import feedparser
import pytest

from crawlers.parsers.feeds import Feed, FeedEntryError, parse_entry

ARTICLE = "https://www.example-times.com/world/2024/10/19/intern-dismissed"


def article_id(url: str, amp: str = "") -> str:
    """A `CBMi…` id as Google News wrote them until 2023: field 4 the URL, field 26 the AMP URL."""
    body = url.encode()
    data = b"\x08\x13\x22" + _varint(len(body)) + body
    if amp:
        data += b"\xd2\x01" + _varint(len(amp.encode())) + amp.encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def google_item(
    link: str, description: str, title: str = "Intern dismissed - Example Times"
) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>"intern" - Google News</title><link>https://news.google.com/search?q=intern</link>
<item><title>{title}</title><link>{link}</link><guid isPermaLink="false">G1</guid>
<pubDate>Sat, 19 Oct 2024 09:30:00 GMT</pubDate><description>{description}</description>
<source url="https://www.example-times.com">Example Times</source></item></channel></rss>"""


def parse(xml: str, feed: Feed):
    parsed = feedparser.parse(xml.encode())
    return parse_entry(parsed.entries[0], feed, parsed.feed)


def escaped(html: str) -> str:
    return html.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_an_old_style_article_id_resolves_to_the_publishers_article() -> None:
    redirect = (
        f"https://news.google.com/__i/rss/rd/articles/{article_id(ARTICLE, ARTICLE + '/amp')}?oc=5"
    )
    desc = escaped(f'<a href="{redirect}">Intern dismissed</a>&nbsp;<font>Example Times</font>')
    post = parse(google_item(redirect, desc), Feed("en"))
    assert post.url == ARTICLE
    assert post.via == redirect
    assert post.links == [ARTICLE]
    assert post.domain == "example-times.com"
    assert post.title == "Intern dismissed"


def test_a_publisher_link_in_the_description_is_the_article() -> None:
    redirect = "https://news.google.com/rss/articles/AU_opaque_token?oc=5"
    desc = escaped(f'<a href="{redirect}">x</a> <a href="{ARTICLE}?utm_source=gn">original</a>')
    post = parse(google_item(redirect, desc), Feed("en"))
    assert (post.url, post.via) == (f"{ARTICLE}?utm_source=gn", redirect)


def test_an_opaque_item_keeps_the_redirect_and_names_the_publisher() -> None:
    token = base64.urlsafe_b64encode(b"\x08\x13\x22\x10AU_yqLopaque0123").decode().rstrip("=")
    redirect = f"https://news.google.com/rss/articles/{token}?oc=5"
    desc = escaped(f'<a href="{redirect}">Intern dismissed</a>&nbsp;<font>Example Times</font>')
    post = parse(google_item(redirect, desc), Feed("en"))
    assert (post.url, post.via) == (redirect, None)
    assert post.domain == "example-times.com"  # from <source url>, without www.
    assert post.author.name == "Example Times"


def test_a_plain_feed_item_is_its_own_article() -> None:
    xml = """<rss version="2.0"><channel><title>Desk</title><link>https://www.desk.example/</link>
<item><title>Sabotage claim</title><link>https://www.desk.example/a/1</link><guid>d1</guid>
<pubDate>Sat, 19 Oct 2024 09:30:00 GMT</pubDate></item></channel></rss>"""
    post = parse(xml, Feed("en", official=True))
    assert (post.url, post.via, post.kind) == ("https://www.desk.example/a/1", None, "statement")
    assert post.domain == "desk.example"


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (
            "<title>no guid or link</title><pubDate>Sat, 19 Oct 2024 09:30:00 GMT</pubDate>",
            "no_guid",
        ),
        ("<title>undated</title><guid>u1</guid>", "no_time"),
    ],
)
def test_entries_without_guid_or_time_are_counted_drops(item: str, reason: str) -> None:
    xml = f"<rss version='2.0'><channel><title>t</title><item>{item}</item></channel></rss>"
    with pytest.raises(FeedEntryError) as raised:
        parse(xml, Feed())
    assert raised.value.reason == reason
