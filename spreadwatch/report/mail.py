"""The scheduled report as an e-mail: the executive summary and key figures in the body, the
report (PDF or the self-contained HTML) attached. Same hostile-text rules as alert e-mails."""

from __future__ import annotations

import email.policy
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from spreadwatch.display import display_line, display_text
from spreadwatch.report.data import ReportData
from spreadwatch.report.render import fmt_delta, fmt_ratio, fmt_share, number
from spreadwatch.report.summary import executive_summary


def report_message(  # noqa: PLR0917 - the message's parts, each distinct
    data: ReportData,
    attachment: bytes,
    fmt: str,
    sender: str,
    recipients: list[str],
    link: str | None = None,
) -> EmailMessage:
    """A message carrying the report of `data` as an attachment (`fmt`: pdf or html)."""
    when = data.generated_at
    subject = display_line(f"Report: {data.title} — {when:%d %b %Y %H:%M} UTC", 200)
    m = data.phases.measures
    lines = [
        display_text(data.title),
        "",
        display_text(executive_summary(data)) or "No posts are indexed for this incident yet.",
        "",
        f"Posts: {number(data.phases.span.posts if data.phases.span else 0)}",
        f"Time to denial: {fmt_delta(m.time_to_denial)}",
        f"Rumour share before → after the denial: {fmt_share(m.rumour_share_before)} → "
        f"{fmt_share(m.rumour_share_after)}",
        f"Denial reach ÷ rumour reach: {fmt_ratio(m.reach_ratio)}",
        "",
        f"The full report is attached ({fmt.upper()})" + (f" and online: {link}" if link else "."),
        "",
        "-- ",
        "spreadwatch (times in UTC)",
    ]
    message = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(when if when.tzinfo else datetime.now().astimezone())
    message["Message-ID"] = make_msgid(idstring=f"report-{data.incident_id}", domain="spreadwatch")
    message.set_content("\n".join(lines))
    name = f"{data.incident_id}-{when:%Y%m%d-%H%M}.{fmt}"
    if fmt == "pdf":
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename=name)
    else:
        message.add_attachment(attachment, maintype="text", subtype="html", filename=name)
    return message
