"""The report as a PDF, for people who print, attach or archive it: the same HTML, laid out for
A4 pages by WeasyPrint (a well-kept HTML/CSS-to-PDF engine; no browser needed; it renders the
inline SVG charts as vectors). It needs Pango, which scripts/bootstrap installs from Debian.
"""

from __future__ import annotations

from pathlib import Path

from weasyprint import HTML

from spreadwatch.report.data import ReportData
from spreadwatch.report.render import render_html


def pdf_bytes(data: ReportData) -> bytes:
    """The report rendered to PDF (nothing is fetched: the HTML is self-contained)."""
    document: bytes = HTML(string=render_html(data), base_url=None).write_pdf()
    return document


def write_pdf(data: ReportData, out: Path) -> Path:
    if out.suffix.lower() != ".pdf":
        raise ValueError(f"{out}: the PDF report must be named *.pdf")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf_bytes(data))
    return out
