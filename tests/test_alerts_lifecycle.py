"""Lifecycle alerts fire on the first *qualifying* event: an earlier alert whose posts no longer
qualify (the incident file or a reclassify fixed them) never silences the real one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alerts_support import NOW, incident_with, index_posts, official_denial, post, spread

from alerts.engine import raise_alerts
from alerts.store import AlertStore

pytest_plugins = ["conftest_alerts"]

H = timedelta(hours=1)
DENIED = {"name": "denied", "type": "official_denial"}
OVERTAKES = {"name": "overtakes", "type": "denial_overtakes"}
SPIKE = {"name": "spike", "type": "spike", "window": "1h", "baseline": "6h", "min_count": 5}
CALM = {"name": "calm", "type": "resolved", "below": 3}


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


def fix(client, names, doc_id, **fields):
    """What a reclassify after an incident-file fix does to a post (partial update)."""
    client.update(index=names.posts, id=doc_id, doc=fields, refresh=True)


def detach(client, names, doc_id):
    fix(client, names, doc_id, incident=["another-incident"])


def subjects(alerts):
    return [a["subject"].split(" — ")[0] for a in alerts]


def states(client, names):
    client.indices.refresh(index=names.alerts)
    return {a["key"]: a["state"] for a in AlertStore(client, names).recent(size=100)}


def test_a_wrong_official_denial_does_not_silence_the_real_one(es_client, index_names):
    incident = incident_with([DENIED])
    press = {"author": {"id": "air", "handle": "newsroom", "official": True}, "platform": "news"}
    index_posts(
        es_client,
        index_names,
        [post("r", NOW - 6 * H), official_denial("winter", NOW - 5 * H, **press)],
    )
    wrong = raise_alerts(es_client, index_names, incident, NOW - 4 * H)
    detach(es_client, index_names, "news:winter")  # "adds winter routes": not about the rumour
    index_posts(es_client, index_names, [official_denial("real", NOW - 2 * H)])
    real = raise_alerts(es_client, index_names, incident, NOW)
    index_posts(es_client, index_names, [official_denial("echo", NOW - H, platform="weibo")])
    later = raise_alerts(es_client, index_names, incident, NOW + H)
    assert subjects(wrong) == ["Official denial: @newsroom on news sites"]
    assert (subjects(real), real[0]["key"]) == (
        ["Official denial: @bytedance on Toutiao"],
        "toutiao:real",
    )
    assert later == []  # the real denial stands; its second channel is not a new denial
    assert states(es_client, index_names) == {
        "news:winter": "superseded",
        "toutiao:real": "pending",
    }


def test_a_reclassified_denial_makes_way_for_the_real_one(es_client, index_names):
    incident = incident_with([DENIED])
    index_posts(es_client, index_names, [official_denial("promo", NOW - 5 * H)])
    raise_alerts(es_client, index_names, incident, NOW - 4 * H)
    fix(es_client, index_names, "toutiao:promo", stance="report")
    index_posts(es_client, index_names, [official_denial("real", NOW - H)])
    assert [a["key"] for a in raise_alerts(es_client, index_names, incident, NOW)] == [
        "toutiao:real"
    ]


def test_a_standing_official_denial_alert_is_never_repeated(es_client, index_names):
    incident = incident_with([DENIED])
    index_posts(es_client, index_names, [official_denial("d", NOW - 2 * H)])
    first = raise_alerts(es_client, index_names, incident, NOW - H)
    # An even earlier denial crawled late does not make a second "official denial" e-mail.
    index_posts(es_client, index_names, [official_denial("earlier", NOW - 3 * H)])
    assert (len(first), raise_alerts(es_client, index_names, incident, NOW)) == (1, [])


def test_a_wrong_overtake_does_not_silence_the_real_one(es_client, index_names):
    incident = incident_with([OVERTAKES])
    index_posts(es_client, index_names, spread(10, NOW - 9 * H, NOW - 5 * H, "r", reach=100))
    loud = {"stance": "denial", "reach": 50_000, "author": {"id": "brand", "handle": "brand"}}
    index_posts(es_client, index_names, [post("ad", NOW - 4 * H, **loud)])
    wrong = raise_alerts(es_client, index_names, incident, NOW - 3 * H)
    fix(es_client, index_names, "weibo:ad", stance="other")  # an advert, not a denial
    index_posts(es_client, index_names, [post("d", NOW - 2 * H, stance="denial", reach=900)])
    before = raise_alerts(es_client, index_names, incident, NOW - H)  # 900 < 1000: not yet
    index_posts(es_client, index_names, [post("d2", NOW - H / 2, stance="denial", reach=300)])
    real = raise_alerts(es_client, index_names, incident, NOW)
    assert (len(wrong), before) == (1, [])
    assert subjects(real) == ["Denial overtakes rumour: reach 1.2k vs 1.0k"]
    assert real[0]["details"]["basis"] == ["weibo:d", "weibo:d2"]


def test_a_standing_overtake_is_not_repeated(es_client, index_names):
    incident = incident_with([OVERTAKES])
    index_posts(es_client, index_names, spread(5, NOW - 9 * H, NOW - 5 * H, "r", reach=100))
    index_posts(es_client, index_names, [post("d", NOW - 2 * H, stance="denial", reach=900)])
    first = raise_alerts(es_client, index_names, incident, NOW - H)
    index_posts(es_client, index_names, [post("d2", NOW - H / 2, stance="denial", reach=300)])
    assert (len(first), raise_alerts(es_client, index_names, incident, NOW)) == (1, [])


def test_each_spike_gets_its_own_resolved_notice(es_client, index_names):
    incident = incident_with([{**SPIKE, "realert": "1h"}, CALM])
    index_posts(es_client, index_names, spread(10, NOW - H, NOW, "a"))
    later = NOW + 6 * H
    index_posts(es_client, index_names, spread(10, later - H, later, "b"))
    timeline = [NOW, NOW + 3 * H, later, later + 3 * H]
    raised = [subjects(raise_alerts(es_client, index_names, incident, at)) for at in timeline]
    assert raised == [
        ["Spike: new in the last hour"],
        ["Resolved: overall back to 0 posts in the last hour"],
        ["Spike: ×6.0 in the last hour"],  # the first spike is in this one's baseline
        ["Resolved: overall back to 0 posts in the last hour"],  # not silenced by the first
    ]


def test_a_detached_first_post_makes_way_for_the_real_first_post(es_client, index_names):
    incident = incident_with([{"name": "first", "type": "first_platform"}])
    index_posts(es_client, index_names, [post("unrelated", NOW - 5 * H, platform="news")])
    wrong = raise_alerts(es_client, index_names, incident, NOW - 4 * H)
    detach(es_client, index_names, "news:unrelated")
    index_posts(es_client, index_names, [post("story", NOW - 2 * H, platform="news")])
    real = raise_alerts(es_client, index_names, incident, NOW)
    assert [a["details"]["basis"] for a in wrong + real] == [["news:unrelated"], ["news:story"]]
