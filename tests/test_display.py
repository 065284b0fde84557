"""Hostile text shown everywhere as what it is: no control character acts, no bidi override
reorders, markup stays escaped."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from markdown_it import MarkdownIt

from crawlers.ingest import IngestContext, normalise
from crawlers.items import Author, Post
from spreadwatch.display import (
    display_cell,
    display_html,
    display_line,
    display_markdown,
    display_text,
    excerpt,
)
from spreadwatch.incident import Incident
from spreadwatch.settings import load_settings
from spreadwatch.urls import link_url

SPOOF = "@admin\u202emoc.elgoog"  # renders as "@admin" + "google.com" reversed


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (SPOOF, "@admin\\u202emoc.elgoog"),
        ("NUL\x00here", "NUL\\x00here"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("isolate \u2067x\u2069", "isolate \\u2067x\\u2069"),
        ("C1 \x9bcontrol", "C1 \\x9bcontrol"),
        ("مرحبا\u200f world", "مرحبا\u200f world"),  # a right-to-left mark reorders nothing
        ("字节跳动 8000 H100 👩\u200d💻", "字节跳动 8000 H100 👩\u200d💻"),
    ],
)
def test_controls_and_bidi_overrides_are_made_visible(raw: str, shown: str) -> None:
    assert display_text(raw) == shown
    assert display_line(raw) == shown


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("GPU \ud83d\udd25 rumour", "GPU \U0001f525 rumour"),  # as YAML reads "\ud83d\udd25"
        ("lone \ud800 high", "lone \\ud800 high"),
        ("lone \udc00 low", "lone \\udc00 low"),
        ("reversed \ude00\ud83d pair", "reversed \\ude00\\ud83d pair"),
    ],
    ids=["pair", "lone-high", "lone-low", "reversed-pair"],
)
def test_surrogates_become_their_character_or_an_escape_never_a_write_error(
    raw: str, shown: str
) -> None:
    for show in (display_text, display_line, display_cell):
        assert show(raw) == shown
        assert show(raw).encode("utf-8")  # what every file, page and e-mail is written as


def test_plain_text_keeps_its_lines_and_a_line_never_breaks() -> None:
    raw = "first\r\nsecond\u2028third\tcol"
    assert display_text(raw) == "first\nsecond\nthird\tcol"
    line = display_line(raw)
    assert line == "first second third col"
    assert not any(c in line for c in "\r\n\x00")


def test_a_cell_shows_its_line_breaks_as_escapes_and_stays_one_row() -> None:
    cell = display_cell("first\r\nsecond\x1b[31m")
    assert cell == "first\\x0d\\x0asecond\\x1b[31m"
    assert not any(c in cell for c in "\r\n\x1b")


def test_html_is_escaped_and_isolated() -> None:
    shown = display_html('<script>alert("x")</script>' + SPOOF)
    assert shown == (
        "<bdi>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;@admin\\u202emoc.elgoog</bdi>"
    )


def test_a_limit_cuts_with_an_ellipsis() -> None:
    assert display_line("x" * 50, limit=10) == "x" * 9 + "…"


def test_stored_names_titles_and_texts_show_overrides_instead_of_obeying_them(
    tmp_path: Path,
) -> None:
    """What Kibana displays is the stored document: it carries the visible form."""
    incident = Incident.model_validate(
        {
            "id": "case",
            "title": "t",
            "window": {"start": "2024-10-01T00:00:00Z"},
            "queries": [{"name": "q", "any": ["ByteDance intern"]}],
        }
    )
    context = IngestContext.build(load_settings(data_dir=tmp_path), incident, spider_name="x")
    item = Post(
        platform="weibo", native_id="1", timestamp="2024-10-18T08:00:00Z",
        author=Author(handle=SPOOF, name=f"Admin\x1b[2J{SPOOF}"),
        title=f"Title {SPOOF}", text=f"ByteDance intern\x00 {SPOOF}",
    )  # fmt: skip
    doc = normalise(item, context)
    assert doc["author"]["handle"] == "@admin\\u202emoc.elgoog"
    assert doc["author"]["name"] == "Admin\\x1b[2J@admin\\u202emoc.elgoog"
    assert doc["title"] == "Title @admin\\u202emoc.elgoog"
    assert doc["text"] == "ByteDance intern @admin\\u202emoc.elgoog"  # NUL removed by clean_text


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://github.com/JusticeFighter110", "https://github.com/JusticeFighter110"),
        ("http://localhost:8080/archive/1", "http://localhost:8080/archive/1"),
        ("javascript:alert(1)", None),
        ("JAVASCRIPT:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("file:///etc/passwd", None),
        # From a report opened as a file, `//host/share` is file://host/share: on Windows an
        # SMB share the click connects to with the reader's credentials.
        ("//evil.example/share", None),
        (" https://github.com/x ", "https://github.com/x"),
        ("", None),
        (None, None),
    ],
)
def test_only_web_addresses_become_links(url: str | None, link: str | None) -> None:
    assert link_url(url) == link


def test_an_excerpt_is_one_line_cut_to_its_limit() -> None:
    shown = excerpt("first line\n\n  second\u202e line " + "x" * 50, 30)
    assert shown == "first line second\\u202e line …"
    assert len(shown) == 30


#: A markdown reader as GitHub and most viewers read a table: CommonMark with tables, no HTML.
TABLE_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a | b || c", "a | b || c"),  # would end the cell and shift every column after it
        ("`code` *b* _i_ ~~s~~", "`code` *b* _i_ ~~s~~"),
        ("[link](https://evil.example) ![x](y)", "[link](https://evil.example) ![x](y)"),
        ("<img src=x> <b>bold</b>", "<img src=x> <b>bold</b>"),
        ("AT&amp;T &#x202e;", "AT&amp;T &#x202e;"),  # entities stay as typed
        ("ends in a backslash \\", "ends in a backslash \\"),
        ("two\nlines", "two lines"),
        ("it's 8,000 H100s. Really?", "it's 8,000 H100s. Really?"),
        (SPOOF, "@admin\\u202emoc.elgoog"),
    ],
    ids=["pipes", "emphasis", "links", "html", "entities", "backslash", "break", "plain", "bidi"],
)
def test_a_markdown_cell_reads_as_written_and_stays_one_cell(raw: str, shown: str) -> None:
    row = f"| {display_markdown(raw, cell=True)} | after |"
    page = lxml.html.fragment_fromstring(
        TABLE_MARKDOWN.render(f"| text | next |\n|---|---|\n{row}\n"), create_parent="div"
    )
    cells = page.xpath("//tbody/tr/td")
    assert [c.text_content() for c in cells] == [shown, "after"]
    assert not page.xpath("//tbody//*[not(self::tr or self::td)]")  # no link, code, emphasis


def test_a_markdown_cell_leaves_plain_punctuation_readable() -> None:
    assert display_markdown("it's 8,000 H100s. Really?", cell=True) == "it's 8,000 H100s. Really?"
    assert display_markdown("it's over.") == "it\\'s over\\."  # a line may begin a block
