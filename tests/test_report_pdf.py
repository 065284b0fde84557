"""`spreadwatch report INCIDENT --format pdf`: a real PDF (WeasyPrint), checked by rendering its
pages to PNG with PDFium (pypdfium2) — text where it should be, the charts drawn in colour."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch, helpers
from spread_case import INCIDENT, at, post_doc
from test_report import index_report_case

from indexer.connection import IndexNames
from indexer.templates import delete_all, init
from spreadwatch.cli import cli
from spreadwatch.names import STANCE_COLOURS
from spreadwatch.report import collect
from spreadwatch.report.pdf import pdf_bytes
from spreadwatch.settings import Settings

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pdf_file(
    es_client: Elasticsearch, es_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    names = IndexNames(f"{es_settings.index_prefix}-pdf-{uuid.uuid4().hex[:6]}")
    init(es_client, names)
    index_report_case(es_client, names)
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    env = {
        "SPREADWATCH_INDEX_PREFIX": names.prefix,
        "SPREADWATCH_DATA_DIR": str(es_settings.data_dir),
    }
    try:
        result = CliRunner().invoke(
            cli, ["report", INCIDENT, "--format", "pdf", "--out", str(out)], env=env
        )
        assert result.exit_code == 0, result.output
        yield out
    finally:
        delete_all(es_client, names)


@pytest.fixture(scope="module")
def pages(pdf_file: Path) -> list[tuple[str, object]]:
    """Each page's text and its rendering (PIL image, 1.5× scale)."""
    document = pdfium.PdfDocument(str(pdf_file))
    rendered = []
    for page in document:
        text = page.get_textpage().get_text_range()
        rendered.append((text, page.render(scale=1.5).to_pil().convert("RGB")))
    first = rendered[0][1]
    first.save(pdf_file.with_name("report-page-1.png"))  # type: ignore[attr-defined]
    return rendered


def test_the_file_is_a_pdf_of_several_a4_pages(pdf_file: Path, pages: list) -> None:
    assert pdf_file.read_bytes().startswith(b"%PDF-")
    assert len(pages) >= 2
    width, height = pdfium.PdfDocument(str(pdf_file))[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_the_first_page_shows_the_title_and_the_summary(pages: list) -> None:
    text = " ".join(pages[0][0].split())
    assert "ByteDance" in text or INCIDENT in text
    assert "At a glance" in text


def test_chinese_post_text_is_set_in_a_cjk_font(pages: list) -> None:
    text = "".join("".join(page_text.split()) for page_text, _ in pages)  # lines wrap in cells
    assert "真的吗" in text and "字节实习生篡改代码" in text


def test_the_stance_chart_is_drawn(pages: list) -> None:
    rumour = tuple(int(STANCE_COLOURS["rumour"][i : i + 2], 16) for i in (1, 3, 5))
    coloured = 0
    for _, image in pages:
        counts = {colour: n for n, colour in image.getcolors(maxcolors=1 << 24) or []}
        coloured += counts.get(rumour, 0)
    assert coloured > 500  # stacked bars of rumour posts, not a blank box


def test_a_pdf_needs_a_pdf_name(es_settings: Settings, tmp_path: Path) -> None:
    env = {"SPREADWATCH_DATA_DIR": str(es_settings.data_dir)}
    result = CliRunner().invoke(
        cli, ["report", INCIDENT, "--format", "pdf", "--out", str(tmp_path / "r.html")], env=env
    )
    assert result.exit_code == 2
    assert "must end in .pdf" in result.output


@pytest.mark.parametrize(
    ("handle", "title", "text"),
    [
        ("H" * 600, "short title", "short text"),
        ("bob", "T" * 300, "short text"),
        ("bob", "short title", "A" * 5000),
    ],
    ids=["handle", "title", "text"],
)
def test_a_long_word_wraps_inside_the_page(
    es_client: Elasticsearch, index_names: IndexNames, handle: str, title: str, text: str
) -> None:
    """A handle, title or text of one long word (no space to break at) is wrapped, never pushed
    past the page's edge with the table columns beside it (a PDF cannot be scrolled)."""
    rows = [("weibo:1", at(18, 2), "weibo", "post", "rumour", handle, 10, 0, None, text),
            ("weibo:2", at(18, 3), "weibo", "post", "rumour", "amy", 5, 0, None, "x")]  # fmt: skip
    actions = [{"_index": index_names.posts, "_id": r[0], "_source": post_doc(r)} for r in rows]
    helpers.bulk(es_client, actions, refresh="wait_for")
    data = collect(es_client, index_names, INCIDENT, title=title, now=at(30, 0))
    document = pdfium.PdfDocument(pdf_bytes(data))
    for number, page in enumerate(document, start=1):
        width = page.get_width()
        chars = page.get_textpage()
        beyond = [
            chars.get_text_range(i, 1)
            for i in range(chars.count_chars())
            if chars.get_charbox(i)[2] > width
        ]
        assert not beyond, f"page {number}: {''.join(beyond)[:40]!r} past the right edge"
