"""An alert document becomes an e-mail: one-line subject, plain text and HTML from Jinja
templates (autoescaped HTML: post text is untrusted), an inline PNG chart, links onwards.

What a reader gets, top to bottom: the headline; one sentence saying what happened, from the
data (`alerts.wording`); the numbers (formatted: 2.5M); the chart of the incident so far by
stance with the official denial marked; the posts behind the alert, each with its author,
platform, stance and claims; links to the report and to the Kibana dashboard and Discover.

Rendering reads only the stored alert, so a message re-sent after a restart is the message that
would have gone out when the alert fired.
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import FileSystemLoader, select_autoescape

from alerts.chart import counts_png, stance_chart_png
from alerts.digest import chart_alert, summarise
from alerts.model import human_number, platform_name
from alerts.store import parse_time
from alerts.wording import label_provenance, provisional_note, stance_phrase, what_happened
from indexer.kibana.objects import dashboard_id
from spreadwatch.display import display_line, excerpt
from spreadwatch.templating import template_environment
from spreadwatch.urls import link_url, without_userinfo

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
CHART_CID = "timeline"
EXCERPT = 240


def _number(value: Any) -> str:
    """2507000 → 2.5M; what is not a number stays as it is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return human_number(float(value))
    text = str(value)
    return human_number(float(text)) if re.fullmatch(r"\d{5,}(\.\d+)?", text) else text


def _excerpt(text: Any, limit: int = EXCERPT) -> str:
    return excerpt(text, limit)


_env = template_environment(
    FileSystemLoader(TEMPLATES),
    select_autoescape(enabled_extensions=("html.j2",), default=False),
    number=_number,
    excerpt=_excerpt,
    platform=platform_name,
    stance_phrase=stance_phrase,
)


def _one_line(text: str, limit: int = 200) -> str:
    """Headers are one line: no newline, NUL or bidi trick from untrusted text."""
    return display_line(" ".join(str(text).split()), limit)


def kibana_links(
    kibana_url: str | None,
    prefix: str,
    incident: str,
    *,
    dashboard: str | None,
    start: str,
    end: str,
) -> dict[str, str]:
    """Dashboard and Discover links filtered to the incident and the alert's window; the
    dashboard id is the one `spreadwatch kibana export` gives it (unless the incident names one)."""
    if not kibana_url:
        return {}
    kibana_url = without_userinfo(kibana_url)
    time = f"_g=(time:(from:'{start}',to:'{end}'))"
    query = quote(f'incident:"{incident}"', safe="")
    target = dashboard or dashboard_id(prefix, incident)
    return {
        "dashboard": f"{kibana_url}/app/dashboards#/view/{quote(target)}?{time}",
        "discover": f"{kibana_url}/app/discover#/?{time}"
        f"&_a=(query:(language:kuery,query:'{query}'))",
    }


def report_link(report_url: str | None, incident: str) -> str | None:
    """Where the monitor publishes the incident's latest report, if anywhere."""
    if not report_url:
        return None
    return f"{without_userinfo(report_url).rstrip('/')}/{quote(incident)}.html"


def _posts(details: dict[str, Any]) -> list[dict[str, Any]]:
    posts = []
    for post in details.get("posts") or []:
        blank = {
            "title": "",
            "text": "",
            "author": None,
            "platform": None,
            "reach": None,
            "id": None,
        }
        posts.append(
            blank
            | post
            | {
                "stance": post.get("stance") or "other",
                "claims": [c for c in post.get("claims") or [] if c],
                "url": link_url(post.get("url")),
                "label_by": label_provenance(
                    post.get("source"), post.get("confidence"), post.get("pending")
                ),
            }
        )
    return posts


def _context(
    alert: dict[str, Any], links: dict[str, str], report: str | None, chart: bool
) -> dict[str, Any]:
    details = alert.get("details") or {}
    return {
        "alert": alert,
        "subject": _one_line(alert["subject"]),
        "headline": _one_line(details.get("headline", alert["subject"])),
        "sentence": what_happened(alert),
        "summary": alert.get("summary") or "",
        "numbers": [(label, _number(value)) for label, value in details.get("numbers") or []],
        "provisional": provisional_note(details.get("provisional_stances")),
        "posts": _posts(details),
        "claims": details.get("claims") or [],
        "incident": alert["incident"],
        "incident_title": details.get("incident_title", alert["incident"]),
        "window_start": parse_time(alert["window_start"]),
        "window_end": parse_time(alert["window_end"]),
        "links": links,
        "report": report,
        "chart_cid": CHART_CID if chart else None,
    }


def _chart(alert: dict[str, Any]) -> bytes | None:
    """The PNG of the alert's chart: by stance (current alerts) or plain counts (older ones)."""
    details = alert.get("details") or {}
    window = (parse_time(alert["window_start"]), parse_time(alert["window_end"]))
    if details.get("chart", {}).get("series"):
        return stance_chart_png(details["chart"], window)
    series = [(parse_time(t), int(c)) for t, c in details.get("timeline") or []]
    return counts_png(series, marker=window[0]) if len(series) > 1 else None


def message_id(alerts: list[dict[str, Any]]) -> str:
    """Derived from the alerts only: every copy of one alert's e-mail (a retry after a lost
    `250`, a resend) carries the same Message-ID, so mail clients and people see it is one."""
    ids = sorted(str(a["_id"]) for a in alerts)
    key = ids[0] if len(ids) == 1 else hashlib.sha1("|".join(ids).encode()).hexdigest()[:20]
    return f"<alert.{key}@spreadwatch>"


def render_message(
    alerts: list[dict[str, Any]],
    sender: str,
    recipients: list[str],
    kibana_url: str | None = None,
    now: datetime | None = None,
    *,
    prefix: str = "spreadwatch",
    report_url: str | None = None,
) -> EmailMessage:
    """One message for one alert, or a digest for several (same incident's recipients)."""
    if not alerts:
        raise ValueError("no alert to render")
    if len(alerts) > 1:
        return _digest_message(
            alerts,
            sender=sender,
            recipients=recipients,
            kibana_url=kibana_url,
            now=now,
            prefix=prefix,
            report_url=report_url,
        )
    [alert] = alerts
    chart_png = _chart(alert)
    part = _item(alert, kibana_url, prefix, report_url, chart=chart_png is not None)
    values = {"subject": part["subject"], "items": [part], "digest": None}
    return _message(
        alerts, values, sender=sender, recipients=recipients, now=now, chart_png=chart_png
    )


def _item(
    alert: dict[str, Any],
    kibana_url: str | None,
    prefix: str,
    report_url: str | None,
    *,
    chart: bool,
) -> dict[str, Any]:
    """What the templates show of one alert, with its Kibana and report links."""
    details = alert.get("details") or {}
    links = kibana_links(
        kibana_url,
        prefix,
        alert["incident"],
        dashboard=details.get("kibana_dashboard"),
        start=alert["window_start"],
        end=alert["window_end"],
    )
    return _context(alert, links, report_link(report_url, alert["incident"]), chart)


def _digest_message(
    alerts: list[dict[str, Any]],
    *,
    sender: str,
    recipients: list[str],
    kibana_url: str | None,
    now: datetime | None,
    prefix: str,
    report_url: str | None,
) -> EmailMessage:
    """A digest: counts per kind, the three most important, one chart of the period, the list."""
    summary = summarise(alerts)
    charted = chart_alert(alerts)
    chart_png = None
    if charted is not None:
        chart_png = stance_chart_png(charted["details"]["chart"], (summary.start, summary.end))
    # The claims are stated once, in the summary.
    parts = [
        _item(alert, kibana_url, prefix, report_url, chart=False) | {"claims": []}
        for alert in alerts
    ]
    title = parts[0]["incident_title"]
    newest = max(alerts, key=lambda a: parse_time(a["@timestamp"]))
    digest = {
        "summary": summary,
        "top": [parts[i] for i in summary.top],
        "chart_cid": CHART_CID if chart_png is not None else None,
        "report": parts[0]["report"],
        "incident": parts[0]["incident"],
        "claims": (newest.get("details") or {}).get("claims") or [],
    }
    subject = _one_line(f"Digest: {len(alerts)} alerts — {title}")
    values = {"subject": subject, "items": parts, "digest": digest}
    return _message(
        alerts, values, sender=sender, recipients=recipients, now=now, chart_png=chart_png
    )


def _message(
    alerts: list[dict[str, Any]],
    values: dict[str, Any],
    *,
    sender: str,
    recipients: list[str],
    now: datetime | None,
    chart_png: bytes | None,
) -> EmailMessage:
    subject = values["subject"]
    # Folding at 78 columns doubles the space before an encoded word (CPython's folder);
    # headers may be 998 long, so a one-line subject stays one line.
    message = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now) if now else format_datetime(datetime.now().astimezone())
    message["Message-ID"] = message_id(alerts)
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
