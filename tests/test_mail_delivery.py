"""Mail per recipient: each one's answer counts, a copy is recognisable, an outage loses nothing.

A real SMTP server (aiosmtpd) scripted per recipient: 4xx (try that recipient again), 5xx
(failed for that recipient, recorded), a `250` lost on the way back (the client cannot know:
the copy it sends again carries the same Message-ID and Date), an outage longer than hours.
"""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import timedelta
from typing import Any

import pytest
from alerts_support import NOW, Inbox, SmtpServer, free_port, incident_with, index_posts, post

from alerts.engine import Delivery, raise_alerts
from alerts.mailer import SmtpConfig, SmtpSender
from alerts.store import MAX_AGE, AlertStore

pytest_plugins = ["conftest_alerts"]

FIRST, SECOND = "analyst@example.org", "press@example.org"
RULE = {"name": "big", "type": "influential_author", "followers": 1000}


@pytest.fixture
def index_names(emptied_indices):
    return emptied_indices


class ScriptedInbox(Inbox):
    """An inbox whose server answers scripted replies per recipient, and can lose its `250`."""

    def __init__(self) -> None:
        super().__init__()
        self.rcpt_replies: dict[str, deque[str]] = defaultdict(deque)
        self.lose_250 = 0

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        scripted = self.rcpt_replies[address]
        if scripted:
            return scripted.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        if self.lose_250:
            self.lose_250 -= 1
            server.transport.close()  # stored, but the client never hears the 250
        return answer


@pytest.fixture
def smtp() -> Any:
    server = SmtpServer(ScriptedInbox(), free_port())
    server.start()
    yield server
    server.stop()


def raise_one(client, names) -> Delivery:
    index_posts(
        client,
        names,
        [
            post(
                "big",
                NOW - timedelta(hours=1),
                author={"id": "a", "handle": "loud", "followers": 5000},
            )
        ],
    )
    raise_alerts(client, names, incident_with([RULE], recipients=[FIRST, SECOND]), NOW)
    return Delivery(AlertStore(client, names), sender_for(), "sw@example.org")


_URL: dict[str, str] = {}


def sender_for() -> SmtpSender:
    return SmtpSender(SmtpConfig.from_url(_URL["url"]), timeout=5)


@pytest.fixture(autouse=True)
def _point_at(smtp) -> None:
    _URL["url"] = smtp.url


def only_alert(client, names) -> dict[str, Any]:
    [alert] = AlertStore(client, names).recent()
    return alert


def received_by(inbox: Inbox, address: str) -> list[Any]:
    return [m for m, (_, to) in zip(inbox.messages, inbox.envelopes, strict=True) if address in to]


def test_a_temporary_refusal_of_one_recipient_is_retried_for_that_recipient_only(
    es_client, index_names, smtp
):
    smtp.inbox.rcpt_replies[SECOND].append("450 4.2.1 mailbox busy, try later")
    delivery = raise_one(es_client, index_names)
    delivery.deliver(NOW)
    alert = only_alert(es_client, index_names)
    assert alert["state"] == "pending" and "450" in alert["last_error"]
    delivery.deliver(NOW + timedelta(minutes=5))
    alert = only_alert(es_client, index_names)
    assert alert["state"] == "sent" and alert["failed_recipients"] == []
    assert [e[1] for e in smtp.inbox.envelopes] == [[FIRST], [SECOND]]
    first, second = smtp.inbox.messages
    assert (first["Message-ID"], first["Date"]) == (second["Message-ID"], second["Date"])


def test_a_permanent_refusal_fails_that_recipient_and_is_recorded(es_client, index_names, smtp):
    smtp.inbox.rcpt_replies[SECOND].append("550 5.1.1 no such user")
    delivery = raise_one(es_client, index_names)
    delivery.deliver(NOW)
    delivery.deliver(NOW + timedelta(hours=1))
    alert = only_alert(es_client, index_names)
    assert (alert["state"], alert["failed_recipients"]) == ("sent", [SECOND])
    states = {d["recipient"]: (d["state"], d["code"]) for d in alert["deliveries"]}
    assert states == {FIRST: ("sent", None), SECOND: ("failed", 550)}
    assert len(smtp.inbox.messages) == 1


def test_a_lost_250_gives_at_most_one_recognisable_copy(es_client, index_names, smtp):
    smtp.inbox.lose_250 = 1
    delivery = raise_one(es_client, index_names)
    delivery.deliver(NOW)
    delivery.deliver(NOW + timedelta(minutes=5))
    delivery.deliver(NOW + timedelta(hours=1))
    assert only_alert(es_client, index_names)["state"] == "sent"
    copies = smtp.inbox.messages
    assert len(copies) == 2
    assert len({(m["Message-ID"], m["Date"]) for m in copies}) == 1


def test_an_outage_of_a_day_loses_no_alert(es_client, index_names, smtp_port_down):
    _URL["url"] = smtp_port_down.url
    delivery = raise_one(es_client, index_names)
    for minutes in range(0, 24 * 60, 30):  # down for a day: far more than 12 attempts
        delivery.deliver(NOW + timedelta(minutes=minutes))
    assert only_alert(es_client, index_names)["state"] == "pending"
    smtp_port_down.start()
    delivery.deliver(NOW + timedelta(days=1, minutes=1))
    assert only_alert(es_client, index_names)["state"] == "sent"
    assert len(smtp_port_down.inbox.messages) == 1


def test_past_the_maximum_age_it_fails_and_resend_delivers_it(
    es_client, index_names, smtp_port_down
):
    _URL["url"] = smtp_port_down.url
    delivery = raise_one(es_client, index_names)
    delivery.deliver(NOW)
    delivery.deliver(NOW + MAX_AGE + timedelta(minutes=1))
    alert = only_alert(es_client, index_names)
    assert (alert["state"], sorted(alert["failed_recipients"])) == ("failed", [FIRST, SECOND])
    smtp_port_down.start()
    store = AlertStore(es_client, index_names)
    assert store.resend(alert, NOW + MAX_AGE + timedelta(hours=1)) == [FIRST, SECOND]
    delivery.deliver(NOW + MAX_AGE + timedelta(hours=1))
    assert only_alert(es_client, index_names)["state"] == "sent"


def test_alerts_resend_failed_sends_again_what_somebody_did_not_get(
    es_client, index_names, smtp, smtp_port_down, monkeypatch
):
    from click.testing import CliRunner

    from spreadwatch.cli import cli

    _URL["url"] = smtp_port_down.url  # the outage outlived the maximum age
    delivery = raise_one(es_client, index_names)
    delivery.deliver(NOW)
    delivery.deliver(NOW + MAX_AGE + timedelta(minutes=1))
    monkeypatch.setenv("SPREADWATCH_INDEX_PREFIX", index_names.prefix)
    monkeypatch.setenv("SPREADWATCH_SMTP_URL", smtp.url)  # mail works again
    result = CliRunner().invoke(cli, ["alerts", "resend", "--failed"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    alert = only_alert(es_client, index_names)
    assert alert["state"] == "sent" and f"resent to {FIRST}, {SECOND}" in result.output
    assert sorted(to for _, to in smtp.inbox.envelopes) == [[FIRST, SECOND]]


def test_a_digest_goes_to_each_recipient_with_every_alert_they_are_waiting_for(
    es_client, index_names, smtp
):
    """One recipient still waits for an earlier alert of the digest (a 4xx), the other has it:
    the next digest brings each of them every alert they have not had, once."""
    incident = incident_with([RULE], recipients=[FIRST, SECOND], digest="hourly")
    delivery = Delivery(AlertStore(es_client, index_names), sender_for(), "sw@example.org")
    loud = {"id": "a", "handle": "loud", "followers": 5000}
    index_posts(es_client, index_names, [post("one", NOW - timedelta(hours=1), author=loud)])
    [first] = raise_alerts(es_client, index_names, incident, NOW)
    smtp.inbox.rcpt_replies[SECOND].append("450 4.2.1 mailbox busy, try later")
    delivery.deliver(NOW, digest=True)
    louder = {"id": "b", "handle": "louder", "followers": 9000}
    index_posts(es_client, index_names, [post("two", NOW, author=louder)])
    [second] = raise_alerts(es_client, index_names, incident, NOW + timedelta(minutes=10))

    delivery.deliver(NOW + timedelta(hours=1), digest=True)

    def alerts_received(address: str) -> list[str]:
        ids = [m["X-Spreadwatch-Alert"].split(",") for m in received_by(smtp.inbox, address)]
        return sorted(alert for message in ids for alert in message)

    both = sorted([first["_id"], second["_id"]])
    assert (alerts_received(FIRST), alerts_received(SECOND)) == (both, both)
    states = {a["_id"]: a["state"] for a in AlertStore(es_client, index_names).recent()}
    assert states == {first["_id"]: "sent", second["_id"]: "sent"}
