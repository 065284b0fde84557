"""`reports:` in an incident file: the monitor's report job writes the report and e-mails it,
summary in the body, the PDF attached — through a real SMTP server, on real indexed posts."""

from __future__ import annotations

import pytest
from scheduler_support import write_incident
from spread_case import PLATFORM_ORDER, POSTS
from test_report import index_report_case

from alerts.mailer import SmtpConfig, SmtpSender
from scheduler import jobs, runtime
from scheduler.plan import jobs_for
from spreadwatch.incident import ConfigFileError, load_incident

pytest_plugins = ["conftest_alerts", "conftest_scheduler"]

REPORTS = """\
reports:
  - every: daily
    at: "08:00"
    to: [comms@example.org, lead@example.org]
    format: pdf
"""


@pytest.fixture
def index_names(emptied_indices):
    return emptied_indices


def test_a_daily_report_is_a_job_at_that_time_in_the_incidents_zone(tmp_path) -> None:
    path = write_incident(tmp_path, extra=REPORTS + "timezone: Asia/Shanghai\n")
    [spec] = [s for s in jobs_for(load_incident(path)) if s.id.startswith("report:")]
    assert spec.id == "report:bytedance-intern-2024:0"
    fields = {f.name: str(f) for f in spec.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("8", "0")
    assert str(spec.trigger.timezone) == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('  - {every: daily, at: "8am", to: [a@example.org]}\n', "at must be a time like 08:00"),
        ("  - {every: daily, to: []}\n", "to"),
        ("  - {every: monthly, to: [a@example.org]}\n", "every"),
        ("  - {every: daily, to: [not-an-address]}\n", "not an e-mail address"),
    ],
)
def test_a_bad_report_entry_names_the_field(tmp_path, entry: str, message: str) -> None:
    path = write_incident(tmp_path, extra="reports:\n" + entry)
    with pytest.raises(ConfigFileError, match=message):
        load_incident(path)


def test_the_report_job_mails_the_summary_with_the_pdf_attached(
    make_runtime, es_client, index_names, smtp_server, tmp_path
) -> None:
    index_report_case(es_client, index_names)
    path = write_incident(tmp_path, extra=REPORTS)
    rt = make_runtime(names=index_names)
    rt.sender = SmtpSender(SmtpConfig.from_url(smtp_server.url), timeout=5)
    runtime.install(rt)
    try:
        jobs.report(str(path), "0")
    finally:
        runtime.install(None)
    [message] = smtp_server.inbox.messages
    assert smtp_server.inbox.envelopes[0][1] == ["comms@example.org", "lead@example.org"]
    assert message["Subject"].startswith("Report: ByteDance intern rumour — ")
    body = " ".join(message.get_body(preferencelist=("plain",)).get_content().split())
    assert (
        f"The rumour started on Weibo on 18 Oct 02:00 UTC and reached {len(PLATFORM_ORDER)} "
        f"platforms ({len(POSTS) + 1} posts)."
    ) in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF-")
    latest = rt.settings.data_dir / "reports" / "bytedance-intern-2024.html"
    assert '<section id="summary">' in latest.read_text(encoding="utf-8")
