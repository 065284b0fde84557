"""Raising alerts: realert windows, once-only rules, silences, resolved notices, restarts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alerts_support import NOW, incident_with, index_posts, post, spread

from alerts.engine import Delivery, raise_alerts
from alerts.store import AlertStore

pytest_plugins = ["conftest_alerts"]


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


H = timedelta(hours=1)
SPIKE = {"name": "spike", "type": "spike", "window": "1h", "baseline": "6h", "min_count": 5}


def stored(client, names):
    client.indices.refresh(index=names.alerts)
    hits = client.search(index=names.alerts, size=100, sort=[{"@timestamp": "asc"}])
    return [{"_id": h["_id"], **h["_source"]} for h in hits["hits"]["hits"]]


def spike_now(client, names, now=NOW):
    index_posts(client, names, spread(10, now - H, now, f"w{now.hour}"))


def test_raised_alert_is_stored_pending_with_subject_and_recipients(es_client, index_names):
    spike_now(es_client, index_names)
    raise_alerts(es_client, index_names, incident_with([SPIKE]), NOW)
    [alert] = stored(es_client, index_names)
    assert (alert["state"], alert["rule"], alert["key"]) == ("pending", "spike", "all")
    assert alert["subject"] == "Spike: new in the last hour — ByteDance intern rumour"
    assert alert["recipients"] == ["analyst@example.org"]


def test_realert_window_suppresses_repeat_for_same_rule_and_key(es_client, index_names):
    incident = incident_with([SPIKE], realert="2h")
    spike_now(es_client, index_names)
    first = raise_alerts(es_client, index_names, incident, NOW)
    again = raise_alerts(es_client, index_names, incident, NOW + timedelta(minutes=30))
    assert (len(first), again) == (1, [])


def test_realert_window_over_the_same_spike_alerts_again(es_client, index_names):
    incident = incident_with([{**SPIKE, "realert": "30m"}])
    spike_now(es_client, index_names)
    later = NOW + timedelta(minutes=40)
    spike_now(es_client, index_names, later)
    raise_alerts(es_client, index_names, incident, NOW)
    assert len(raise_alerts(es_client, index_names, incident, later)) == 1


def test_first_rules_fire_once_ever_per_key(es_client, index_names):
    incident = incident_with([{"name": "first", "type": "first_platform", "realert": "1m"}])
    index_posts(es_client, index_names, [post("a", NOW - 5 * H)])
    raise_alerts(es_client, index_names, incident, NOW)
    index_posts(es_client, index_names, [post("b", NOW + H, platform="github")])
    second = raise_alerts(es_client, index_names, incident, NOW + 2 * H)
    assert [a["key"] for a in second] == ["github"]


def test_silenced_rule_raises_nothing_until_silence_ends(es_client, index_names):
    incident = incident_with([SPIKE])
    later = NOW + 4 * H + timedelta(minutes=1)
    spike_now(es_client, index_names)
    spike_now(es_client, index_names, later)
    AlertStore(es_client, index_names).silence("spike", NOW + 4 * H, NOW)
    during = raise_alerts(es_client, index_names, incident, NOW)
    after = raise_alerts(es_client, index_names, incident, later)
    assert (during, [a["rule"] for a in after]) == ([], ["spike"])


def test_silence_of_one_rule_leaves_other_rules_alone(es_client, index_names):
    incident = incident_with([SPIKE, {"name": "many", "type": "threshold", "count": 5}])
    spike_now(es_client, index_names)
    AlertStore(es_client, index_names).silence("spike", NOW + 4 * H, NOW)
    assert [a["rule"] for a in raise_alerts(es_client, index_names, incident, NOW)] == ["many"]


def test_resolved_notice_closes_open_spike_once(es_client, index_names):
    incident = incident_with([SPIKE, {"name": "calm", "type": "resolved", "below": 3}])
    spike_now(es_client, index_names)
    [spike] = raise_alerts(es_client, index_names, incident, NOW)
    quiet = NOW + 3 * H
    [notice] = raise_alerts(es_client, index_names, incident, quiet)
    assert (notice["rule_type"], notice["details"]["closes"]) == ("resolved", spike["_id"])
    assert notice["subject"].startswith("Resolved: overall back to 0 posts in the last hour")
    assert raise_alerts(es_client, index_names, incident, quiet + H) == []


def test_restart_neither_repeats_nor_loses_an_alert(
    es_client, index_names, smtp_server, smtp_sender
):
    incident = incident_with([SPIKE])
    spike_now(es_client, index_names)
    raise_alerts(es_client, index_names, incident, NOW)
    # A fresh process: new store, new sender; the pending alert is found and sent once.
    delivery = Delivery(AlertStore(es_client, index_names), smtp_sender, "sw@example.org")
    raise_alerts(es_client, index_names, incident, NOW + timedelta(minutes=5))
    delivery.deliver(NOW + timedelta(minutes=5))
    delivery.deliver(NOW + timedelta(minutes=10))
    assert len(smtp_server.inbox.messages) == 1
    assert [a["state"] for a in stored(es_client, index_names)] == ["sent"]


def test_alert_without_recipients_is_marked_failed_not_lost(
    es_client, index_names, smtp_server, smtp_sender
):
    incident = incident_with([SPIKE], recipients=[])
    spike_now(es_client, index_names)
    raise_alerts(es_client, index_names, incident, NOW)
    Delivery(AlertStore(es_client, index_names), smtp_sender, "sw@example.org").deliver(NOW)
    assert smtp_server.inbox.messages == []
    [alert] = stored(es_client, index_names)
    assert (alert["state"], alert["last_error"]) == (
        "failed",
        "no recipients configured for this rule",
    )


def test_digest_alerts_wait_for_the_digest_and_go_out_together(
    es_client, index_names, smtp_server, smtp_sender
):
    rules = [SPIKE, {"name": "many", "type": "threshold", "count": 5}]
    incident = incident_with(rules, digest="hourly")
    spike_now(es_client, index_names)
    raise_alerts(es_client, index_names, incident, NOW)
    delivery = Delivery(AlertStore(es_client, index_names), smtp_sender, "sw@example.org")
    delivery.deliver(NOW)
    assert smtp_server.inbox.messages == []
    delivery.deliver(NOW, digest=True)
    [digest] = smtp_server.inbox.messages
    assert digest["Subject"] == "Digest: 2 alerts — ByteDance intern rumour"
