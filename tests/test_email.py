"""Alert e-mails as a real SMTP server receives them."""

from __future__ import annotations

import email
import email.policy
import logging
from datetime import timedelta

import pytest
from alerts_support import (
    NOW,
    PASSWORD,
    USER,
    incident_with,
    index_posts,
    post,
    spread,
)

from alerts.engine import Delivery, raise_alerts
from alerts.mailer import SmtpConfig, SmtpSender
from alerts.render import render_message
from alerts.store import AlertStore

pytest_plugins = ["conftest_alerts"]


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

H = timedelta(hours=1)
SPIKE = {"name": "spike", "type": "spike", "window": "1h", "baseline": "6h", "per_platform": True}
SCRIPT = '<script>alert("x")</script> 字节跳动实习生 8000 H100'


def sender_for(url: str) -> SmtpSender:
    return SmtpSender(SmtpConfig.from_url(url), timeout=5)


def fire_spike(client, names, kibana_url=None, url=None, rules=None):
    """Index a Weibo spike whose top post carries a script tag, raise and deliver it."""
    index_posts(client, names, spread(30, NOW - 7 * H, NOW - H, "b"))
    index_posts(client, names, spread(20, NOW - H, NOW, "w"))
    index_posts(client, names, [post("top", NOW - 600 * (H / 3600), text=SCRIPT, reach=99999)])
    raise_alerts(client, names, incident_with(rules or [SPIKE]), NOW)
    return Delivery(
        AlertStore(client, names), sender_for(url), "spreadwatch@example.org", kibana_url
    )


@pytest.fixture
def received(es_client, index_names, smtp_server):
    fire_spike(es_client, index_names, "http://kibana.local:5601", smtp_server.url).deliver(NOW)
    [message] = smtp_server.inbox.messages
    return message


def test_subject_says_what_happened_in_one_line(received):
    assert received["Subject"] == "Spike: ×4.2 on Weibo in the last hour — ByteDance intern rumour"


def test_headers_name_sender_recipients_and_alert(received, smtp_server):
    assert (received["From"], received["To"]) == ("spreadwatch@example.org", "analyst@example.org")
    assert smtp_server.inbox.envelopes[0][1] == ["analyst@example.org"]
    assert received["Message-ID"] and received["X-Spreadwatch-Alert"]


def test_message_has_plain_text_and_html_parts(received):
    plain = received.get_body(preferencelist=("plain",)).get_content()
    html = received.get_body(preferencelist=("html",)).get_content()
    assert "posts in window: 21" in plain
    assert "<strong>21</strong>" in html


def test_html_embeds_the_timeline_as_inline_png(received):
    images = [p for p in received.walk() if p.get_content_type() == "image/png"]
    html = received.get_body(preferencelist=("html",)).get_content()
    [image] = images
    assert image["Content-ID"] == "<timeline>"
    assert image.get_content().startswith(b"\x89PNG")
    assert 'src="cid:timeline"' in html


def test_post_text_arrives_escaped_in_html(received):
    html = received.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; 字节跳动实习生" in html


def test_top_posts_are_linked(received):
    html = received.get_body(preferencelist=("html",)).get_content()
    assert '<a href="https://example.org/weibo/top" ' in html


def test_kibana_links_filter_to_incident_and_window(received, index_names):
    plain = received.get_body(preferencelist=("plain",)).get_content()
    # The id `spreadwatch kibana export` gives the dashboard (indexer.kibana.objects.dashboard_id).
    dashboard = f"{index_names.prefix}-dashboard-bytedance-intern-2024"
    assert f"http://kibana.local:5601/app/dashboards#/view/{dashboard}?" in plain
    assert "from:'2024-10-19T11:00:00+00:00',to:'2024-10-19T12:00:00+00:00'" in plain
    assert "incident%3A%22bytedance-intern-2024%22" in plain


def test_no_kibana_url_no_kibana_links(es_client, index_names, smtp_server):
    fire_spike(es_client, index_names, None, smtp_server.url).deliver(NOW)
    plain = smtp_server.inbox.messages[0].get_body(preferencelist=("plain",)).get_content()
    assert "Kibana" not in plain


def test_rule_recipients_replace_incident_recipients(es_client, index_names, smtp_server):
    rules = [{**SPIKE, "recipients": ["press@example.org", "legal@example.org"]}]
    fire_spike(es_client, index_names, None, smtp_server.url, rules).deliver(NOW)
    assert smtp_server.inbox.envelopes[0][1] == ["press@example.org", "legal@example.org"]


def test_smtp_down_then_up_delivers_exactly_once(es_client, index_names, smtp_port_down):
    delivery = fire_spike(es_client, index_names, None, smtp_port_down.url)
    down = delivery.deliver(NOW)
    smtp_port_down.start()
    too_early = delivery.deliver(NOW + timedelta(seconds=5))  # backoff not elapsed
    for minute in (1, 2, 3):
        delivery.deliver(NOW + timedelta(minutes=minute))
    assert (len(down.retrying), too_early.sent, len(smtp_port_down.inbox.messages)) == (1, [], 1)


def test_failed_attempt_is_recorded_on_the_pending_alert(es_client, index_names, smtp_port_down):
    fire_spike(es_client, index_names, None, smtp_port_down.url).deliver(NOW)
    [alert] = AlertStore(es_client, index_names).open_alerts()
    assert (alert["state"], alert["attempts"]) == ("pending", 1)
    assert f"127.0.0.1:{smtp_port_down.port}" in alert["last_error"]


def test_login_with_credentials_from_url_and_password_never_logged(
    es_client, index_names, smtp_with_auth, caplog
):
    url = f"smtp://{USER.replace('@', '%40')}:{PASSWORD}@127.0.0.1:{smtp_with_auth.port}"
    with caplog.at_level(logging.DEBUG):
        fire_spike(es_client, index_names, None, url).deliver(NOW)
    assert (smtp_with_auth.inbox.logins, len(smtp_with_auth.inbox.messages)) == ([USER], 1)
    assert PASSWORD not in caplog.text


def test_wrong_password_is_a_clear_error_without_the_password(
    es_client, index_names, smtp_with_auth
):
    url = f"smtp://user:wrong-{PASSWORD}@127.0.0.1:{smtp_with_auth.port}"
    fire_spike(es_client, index_names, None, url).deliver(NOW)
    [alert] = AlertStore(es_client, index_names).open_alerts()
    assert "refused the login" in alert["last_error"]
    assert PASSWORD not in alert["last_error"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.local", ("mail.local", 25, False, False)),
        ("smtp://mail.local:587?starttls=true", ("mail.local", 587, False, True)),
        ("smtps://mail.local", ("mail.local", 465, True, False)),
    ],
)
def test_smtp_url_selects_port_and_tls_mode(url, expected):
    config = SmtpConfig.from_url(url)
    assert (config.host, config.port, config.ssl, config.starttls) == expected


@pytest.mark.parametrize("url", ["http://mail.local", "smtp://", "smtp://mail.local:99999"])
def test_bad_smtp_url_is_a_clear_error(url):
    with pytest.raises(ValueError, match="SPREADWATCH_SMTP_URL"):
        SmtpConfig.from_url(url)


def test_starttls_with_login_delivers(es_client, index_names, smtp_starttls, tls_files):
    cert = tls_files[0]
    url = (
        f"smtp://{USER.replace('@', '%40')}:{PASSWORD}@127.0.0.1:{smtp_starttls.port}"
        f"?starttls=true&cafile={cert}"
    )
    fire_spike(es_client, index_names, None, url).deliver(NOW)
    assert (smtp_starttls.inbox.logins, len(smtp_starttls.inbox.messages)) == ([USER], 1)


def test_smtps_delivers_over_implicit_tls(es_client, index_names, smtps_server, tls_files):
    url = f"smtps://127.0.0.1:{smtps_server.port}?cafile={tls_files[0]}"
    fire_spike(es_client, index_names, None, url).deliver(NOW)
    assert len(smtps_server.inbox.messages) == 1


def test_untrusted_certificate_is_refused_and_alert_kept(es_client, index_names, smtps_server):
    fire_spike(es_client, index_names, None, f"smtps://127.0.0.1:{smtps_server.port}").deliver(NOW)
    [alert] = AlertStore(es_client, index_names).open_alerts()
    assert (alert["state"], smtps_server.inbox.messages) == ("pending", [])
    assert "CERTIFICATE_VERIFY_FAILED" in alert["last_error"]


def deliver_influential(client, names, url, author):
    index_posts(client, names, [post("big", NOW - H, author=author, text="x" * 5000)])
    rule = {"name": "big", "type": "influential_author", "followers": 1000}
    raise_alerts(client, names, incident_with([rule]), NOW)
    Delivery(AlertStore(client, names), sender_for(url), "sw@example.org").deliver(NOW)


def test_header_injection_in_an_author_handle_stays_in_the_subject(
    es_client, index_names, smtp_server
):
    author = {"id": "evil", "handle": "evil\r\nBcc: victim@example.org", "followers": 5000}
    deliver_influential(es_client, index_names, smtp_server.url, author)
    [message] = smtp_server.inbox.messages
    assert message["Bcc"] is None and smtp_server.inbox.envelopes[0][1] == ["analyst@example.org"]
    assert message["Subject"].startswith("Influential author: @evil Bcc: victim@example.org")


def test_long_post_text_is_truncated_in_both_parts(es_client, index_names, smtp_server):
    author = {"id": "big", "handle": "bigvoice", "followers": 5000}
    deliver_influential(es_client, index_names, smtp_server.url, author)
    [message] = smtp_server.inbox.messages
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,)).get_content()
        assert "x" * 150 in body and "x" * 300 not in body


def test_alert_gives_up_as_failed_once_past_its_maximum_age(es_client, index_names, smtp_port_down):
    from alerts.store import MAX_AGE

    delivery = fire_spike(es_client, index_names, None, smtp_port_down.url)
    for hours in range(0, int(MAX_AGE.total_seconds() // 3600) + 2, 12):
        delivery.deliver(NOW + timedelta(hours=hours))
    [alert] = AlertStore(es_client, index_names).open_alerts()
    assert alert["state"] == "failed" and alert["failed_recipients"] == ["analyst@example.org"]
    assert "gave up after 7 days" in alert["last_error"]


def test_a_long_non_ascii_subject_survives_the_trip_unchanged():
    subject = "Influential author: @liuzhang8121 (2.5M followers) on Weibo — ByteDance intern rumour (demo reconstruction)"  # fmt: skip
    alert = {"_id": "a1", "incident": "case", "subject": subject, "rule": "r", "rule_type": "influential_author",
             "window_start": "2024-10-18T00:00:00Z", "window_end": "2024-10-18T06:00:00Z", "details": {}}  # fmt: skip
    message = render_message([alert], "spreadwatch@example.org", ["analyst@example.org"])
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == subject


HOSTILE_NAME = "@admin\u202emoc.elgoog\x00\x1b[2J"


def test_bidi_nul_and_esc_in_an_author_name_reach_no_header_or_body_as_such(
    es_client, index_names, smtp_server
):
    author = {"id": "spoof", "handle": HOSTILE_NAME, "name": HOSTILE_NAME, "followers": 5000}
    deliver_influential(es_client, index_names, smtp_server.url, author)
    [message] = smtp_server.inbox.messages
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (message["Subject"], plain, html):
        assert not any(c in part for c in "\u202e\x00\x1b"), part
    assert "@admin\\u202emoc.elgoog\\x00\\x1b[2J" in message["Subject"]
    assert "admin\\u202emoc.elgoog" in plain
    assert "<bdi>" in html and "admin\\u202emoc.elgoog" in html
