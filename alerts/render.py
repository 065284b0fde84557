"""An alert document becomes an e-mail: one-line subject, plain text and HTML from Jinja
templates (autoescaped HTML: post text is untrusted), an inline PNG timeline, Kibana links.

Rendering reads only the stored alert, so a message re-sent after a restart is the message that
would have gone out when the alert fired.
"""

from __future__ import annotations

import email.policy
import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerts.chart import timeline_png
from alerts.store import parse_time
from spreadwatch.display import TEMPLATE_FILTERS, display_line, finalize

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
CHART_CID = "timeline"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=finalize,  # hostile text (controls, bidi overrides) made visible everywhere
)
_env.filters.update(TEMPLATE_FILTERS)


def _one_line(text: str, limit: int = 200) -> str:
    """Headers are one line: no newline, NUL or bidi trick from untrusted text."""
    return display_line(" ".join(str(text).split()), limit)


def kibana_links(
    kibana_url: str | None, incident: str, dashboard: str | None, start: str, end: str
) -> dict[str, str]:
    """Dashboard and Discover links filtered to the incident and the alert's window."""
    if not kibana_url:
        return {}
    time = f"_g=(time:(from:'{start}',to:'{end}'))"
    query = quote(f'incident:"{incident}"', safe="")
    dashboard_id = dashboard or f"spreadwatch-{incident}"
    return {
        "dashboard": f"{kibana_url}/app/dashboards#/view/{quote(dashboard_id)}?{time}",
        "discover": f"{kibana_url}/app/discover#/?{time}"
        f"&_a=(query:(language:kuery,query:'{query}'))",
    }


def _context(alert: dict[str, Any], links: dict[str, str], chart: bool) -> dict[str, Any]:
    details = alert.get("details") or {}
    return {
        "alert": alert,
        "subject": _one_line(alert["subject"]),
        "headline": details.get("headline", alert["subject"]),
        "summary": alert.get("summary") or "",
        "numbers": details.get("numbers") or [],
        "posts": details.get("posts") or [],
        "incident_title": details.get("incident_title", alert["incident"]),
        "window_start": parse_time(alert["window_start"]),
        "window_end": parse_time(alert["window_end"]),
        "links": links,
        "chart_cid": CHART_CID if chart else None,
    }


def render_message(
    alerts: list[dict[str, Any]],
    sender: str,
    recipients: list[str],
    kibana_url: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """One message for one alert, or a digest for several (same incident's recipients)."""
    if not alerts:
        raise ValueError("no alert to render")
    parts = []
    chart_png: bytes | None = None
    for alert in alerts:
        details = alert.get("details") or {}
        links = kibana_links(
            kibana_url,
            alert["incident"],
            details.get("kibana_dashboard"),
            alert["window_start"],
            alert["window_end"],
        )
        series = [(parse_time(t), int(c)) for t, c in details.get("timeline") or []]
        draw = chart_png is None and len(series) > 1
        if draw:
            chart_png = timeline_png(series, marker=parse_time(alert["window_start"]))
        parts.append(_context(alert, links, draw))
    if len(alerts) == 1:
        subject = parts[0]["subject"]
    else:
        subject = _one_line(f"Digest: {len(alerts)} alerts — {parts[0]['incident_title']}")
    values = {"subject": subject, "items": parts, "digest": len(alerts) > 1}
    # Folding at 78 columns doubles the space before an encoded word (CPython's folder);
    # headers may be 998 long, so a one-line subject stays one line.
    message = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now) if now else format_datetime(datetime.now().astimezone())
    message["Message-ID"] = make_msgid(idstring=alerts[0]["_id"], domain="spreadwatch")
    message["X-Spreadwatch-Alert"] = ",".join(a["_id"] for a in alerts)
    message.set_content(_env.get_template("alert.txt.j2").render(values))
    message.add_alternative(_env.get_template("alert.html.j2").render(values), subtype="html")
    if chart_png is not None:
        html_part = message.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)  # built just above with add_alternative
        html_part.add_related(
            chart_png, "image", "png", cid=f"<{CHART_CID}>", filename="timeline.png"
        )
    return message
