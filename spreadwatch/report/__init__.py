"""The self-contained HTML report of one incident: the story of its spread, for a comms team.

`collect()` queries the analytics once; `render_html()` / `write_report()` turn that snapshot
into one HTML file with inline CSS and inline SVG charts: no script, no network, opens anywhere.
"""

from __future__ import annotations

from spreadwatch.report.data import ReportData, collect
from spreadwatch.report.render import render_html, write_report

__all__ = ["ReportData", "collect", "render_html", "write_report"]
