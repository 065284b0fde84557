"""`reports:` in an incident file: the monitor's report job writes the report and e-mails it,
summary in the body, the PDF attached — through a real SMTP server, on real indexed posts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alerts_support import index_posts, post
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


def fire_times(trigger, start: datetime, end: datetime) -> list[datetime]:
    """When APScheduler runs a job on `trigger` from `start` to `end`: each next run is asked
    for at the moment the previous one ran (`BaseScheduler._process_jobs`)."""
    fires: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire < end:
        fires.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return fires


def local_days(zone: str, start: datetime, end: datetime) -> list[date]:
    """Every calendar day of `zone` from `start` to `end` (both included)."""
    first, last = start.astimezone(ZoneInfo(zone)).date(), end.astimezone(ZoneInfo(zone)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.mark.parametrize(
    ("zone", "at", "change"),
    [
        ("Europe/Berlin", "02:30", date(2024, 10, 27)),  # 02:00-02:59 happens twice
        ("America/New_York", "01:30", date(2024, 11, 3)),  # 01:00-01:59 happens twice
        ("Europe/Berlin", "02:30", date(2024, 3, 31)),  # 02:00-02:59 never happens
        ("Australia/Lord_Howe", "01:45", date(2024, 4, 7)),  # a half hour repeated
        ("Asia/Shanghai", "08:00", date(2024, 10, 19)),  # no change at all
    ],
)
def test_a_daily_report_goes_out_once_every_day_across_a_clock_change(
    tmp_path, zone: str, at: str, change: date
) -> None:
    extra = f'reports:\n  - {{every: daily, at: "{at}", to: [a@example.org]}}\ntimezone: {zone}\n'
    [spec] = [s for s in jobs_for(load_incident(write_incident(tmp_path, extra=extra)))
              if s.id.startswith("report:")]  # fmt: skip
    start = datetime.combine(change - timedelta(days=2), datetime.min.time(), UTC)
    end = start + timedelta(days=5)
    fires = fire_times(spec.trigger, start, end)
    days = [f.astimezone(ZoneInfo(zone)).date() for f in fires]
    assert days == [d for d in local_days(zone, start, end) if start <= _local(d, at, zone) < end]


def _local(day: date, at: str, zone: str) -> datetime:
    hour, minute = (int(part) for part in at.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))


def test_an_hourly_digest_runs_every_real_hour_of_a_clock_change(tmp_path) -> None:
    """The hour repeated by the change is an hour of its own: the digest runs in both."""
    extra = "timezone: Europe/Berlin\n"
    path = write_incident(tmp_path, extra=extra)
    path.write_text(path.read_text().replace("  every: 5m\n", "  every: 5m\n  digest: hourly\n"))
    [spec] = [s for s in jobs_for(load_incident(path)) if s.id.startswith("digest:")]
    start = datetime(2024, 10, 26, 22, tzinfo=UTC)  # midnight in Berlin, summer time
    fires = fire_times(spec.trigger, start, start + timedelta(hours=25))
    assert [f.astimezone(UTC) for f in fires] == [start + timedelta(hours=n) for n in range(25)]


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


def run_report_job(rt: Any, path: Path, smtp_url: str) -> None:
    """The scheduler's report job for `path`, sending through the real SMTP server."""
    rt.sender = SmtpSender(SmtpConfig.from_url(smtp_url), timeout=5)
    runtime.install(rt)
    try:
        jobs.report(str(path), "0")
    finally:
        runtime.install(None)


def test_the_report_job_mails_the_summary_with_the_pdf_attached(
    make_runtime, es_client, index_names, smtp_server, tmp_path
) -> None:
    index_report_case(es_client, index_names)
    path = write_incident(tmp_path, extra=REPORTS)
    rt = make_runtime(names=index_names)
    run_report_job(rt, path, smtp_server.url)
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


def test_the_report_job_lets_the_head_label_waiting_posts_first(
    make_runtime, es_client, index_names, smtp_server, tmp_path
) -> None:
    now = datetime.now(UTC)
    waiting = post("w1", now - timedelta(minutes=1), stance_source="lexicon", stance_pending=True,
                   text="A ByteDance intern sabotaged 8,000 H100 GPUs")  # fmt: skip
    index_posts(es_client, index_names, [waiting])
    run_report_job(make_runtime(names=index_names), write_incident(tmp_path, extra=REPORTS),
                   smtp_server.url)  # fmt: skip
    stored = es_client.get(index=index_names.posts, id="weibo:w1")["_source"]
    assert (stored["stance_source"], stored["stance_pending"]) == ("model", False)


def test_the_report_mail_links_the_published_report_without_the_urls_credentials(
    make_runtime, es_client, index_names, smtp_server, tmp_path
) -> None:
    """SPREADWATCH_REPORT_URL may hold the basic-auth credentials of where reports are
    published; the link goes to every recipient, so it must not."""
    index_report_case(es_client, index_names)
    path = write_incident(tmp_path, extra=REPORTS.replace("format: pdf", "format: html"))
    rt = make_runtime(names=index_names)
    url = "https://reports:s3cret@intra.example/spreadwatch/"
    rt.settings = rt.settings.model_copy(update={"report_url": url})
    run_report_job(rt, path, smtp_server.url)
    [message] = smtp_server.inbox.messages
    body = " ".join(message.get_body(preferencelist=("plain",)).get_content().split())
    assert "online: https://intra.example/spreadwatch/bytedance-intern-2024.html" in body
    shown = [part.get_content() for part in message.walk() if not part.is_multipart()]
    assert not [part for part in shown if "s3cret" in str(part)]
