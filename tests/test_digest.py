"""The digest is a summary, not a flat list: counts per kind, the three most important alerts,
one chart of the period, then every alert in the order it was raised."""

from __future__ import annotations

from datetime import timedelta

import lxml.html
import pytest
from alerts_support import NOW, incident_with, index_posts, post, spread

from alerts.digest import summarise
from alerts.engine import Delivery, raise_alerts
from alerts.mailer import SmtpConfig, SmtpSender
from alerts.store import AlertStore

pytest_plugins = ["conftest_alerts"]

H = timedelta(hours=1)
RULES = [
    {"name": "first", "type": "first_platform"},
    {"name": "busy", "type": "threshold", "count": 3, "window": "1h", "per_platform": True},
    {"name": "spike", "type": "spike", "window": "1h", "baseline": "6h", "min_count": 5},
    {"name": "big", "type": "influential_author", "followers": 100_000},
]


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


@pytest.fixture
def digest(es_client, index_names, smtp_server):
    """A digest of the morning: a first post on three platforms, a spike, a big account."""
    big = {"id": "big", "handle": "bignews", "followers": 2_000_000}
    index_posts(es_client, index_names, spread(12, NOW - H, NOW, "w"))
    index_posts(es_client, index_names, [post("g", NOW - 2 * H, platform="github")])
    index_posts(es_client, index_names, [post("r", NOW - 3 * H, platform="reddit", author=big)])
    raise_alerts(es_client, index_names, incident_with(RULES, digest="hourly"), NOW)
    sender = SmtpSender(SmtpConfig.from_url(smtp_server.url), timeout=5)
    delivery = Delivery(AlertStore(es_client, index_names), sender, "sw@example.org")
    delivery.deliver(NOW)
    assert smtp_server.inbox.messages == []  # nothing urgent: all of it waits
    delivery.deliver(NOW, digest=True)
    [message] = smtp_server.inbox.messages
    return message


def plain(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_one_digest_with_every_alert(digest):
    assert digest["Subject"] == "Digest: 6 alerts — ByteDance intern rumour"


def test_it_counts_alerts_per_kind_most_first(digest):
    text = plain(digest)
    counts = "3 first posts on a platform, 1 spike, 1 influential author, 1 threshold crossed."
    assert f"6 alerts from 2024-10-19 09:00 to 2024-10-19 12:00 UTC: {counts}" in text


def test_it_names_the_three_most_important_first(digest):
    text = plain(digest)
    head = text.split("Most important:\n", 1)[1].split("\n\n", 1)[0]
    # A spike outranks an influential author, who outranks a first post; among the first
    # posts (raised together) the first raised.
    assert [line.split(":")[0] for line in head.splitlines()] == [
        "  1. Spike",
        "  2. Influential author",
        "  3. First post on GitHub",
    ]


def test_it_charts_the_period_once(digest):
    images = [p for p in digest.walk() if p.get_content_type() == "image/png"]
    page = lxml.html.fromstring(digest.get_body(("html",)).get_content())
    assert (len(images), len(page.xpath("//img"))) == (1, 1)
    assert page.xpath("//section[@class='digest-summary']//img")


def test_it_then_lists_every_alert_in_the_order_raised(digest):
    text = plain(digest)
    listed = text.split("All alerts, in the order they were raised:\n", 1)[1]
    headlines = [
        line for line in listed.splitlines() if line.startswith(("First", "Spike", "Thr", "Infl"))
    ]
    assert [h.split(":")[0] for h in headlines] == [
        "First post on GitHub",
        "First post on Reddit",
        "First post on Weibo",
        "Threshold",
        "Spike",
        "Influential author",
    ]


def test_summary_of_no_alert_is_an_error():
    with pytest.raises(ValueError, match="empty digest"):
        summarise([])
