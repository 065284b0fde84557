"""Claims one by one: first seen, volume by stance over time, reach spreading vs denying, and
whether the official denial answered each — from posts whose truth is written here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alerts_support import index_posts, official_denial, post
from click.testing import CliRunner

from indexer.claims import claim_report
from indexer.scope import IncidentScope
from spreadwatch.cli import cli
from spreadwatch.incident import Claim

pytest_plugins = ["conftest_alerts"]

T0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
ID = "bytedance-intern-2024"
SCOPE = IncidentScope(ID, T0 - H)
CLAIMS = [
    Claim(name="gpus", patterns=["8000 H100"], description="8,000+ H100 GPUs"),
    Claim(name="losses", patterns=["千万美元"], description="tens of millions of dollars"),
]


def claimed(native_id, at, pairs, stance="rumour", reach=100, **fields):
    names = [p.split(":")[0] for p in pairs]
    return post(
        native_id,
        at,
        stance=stance,
        reach=reach,
        matched={"queries": ["zh"], "claims": names},
        claim_stances=pairs,
        **fields,
    )


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


@pytest.fixture
def story(es_client, index_names):
    index_posts(
        es_client,
        index_names,
        [
            claimed("a", T0, ["gpus:rumour"], reach=1000),
            claimed("b", T0 + H, ["gpus:rumour", "losses:rumour"], reach=500),
            claimed("c", T0 + 2 * H, ["gpus:rumour", "losses:debunk"], reach=200),
            official_denial(
                "d",
                T0 + 3 * H,
                reach=20_000,
                matched={"queries": ["zh"], "claims": ["gpus"]},
                claim_stances=["gpus:denial"],
            ),
            # stored before per-claim stances existed: counts with its post stance
            post("e", T0 + 4 * H, stance="debunk", reach=300, matched={"claims": ["losses"]}),
            claimed("early", T0 - 2 * H, ["gpus:rumour"]),  # before the window: not counted
        ],
    )
    return claim_report(es_client, index_names, SCOPE, CLAIMS, interval="1h")


def test_each_claim_has_its_first_post(story):
    assert [c.first_seen.id for c in story.claims] == ["weibo:a", "weibo:b"]


def test_volume_by_stance_towards_each_claim(story):
    gpus, losses = story.claims
    assert (gpus.posts, gpus.by_stance) == (4, {"rumour": 3, "denial": 1})
    assert (losses.posts, losses.by_stance) == (3, {"rumour": 1, "debunk": 2})


def test_reach_spreading_against_denying(story):
    gpus, losses = story.claims
    assert (gpus.reach_spreading, gpus.reach_denying) == (1700, 20_000)
    assert (losses.reach_spreading, losses.reach_denying) == (500, 500)


def test_whether_the_official_denial_answered_it(story):
    assert [c.addressed_by_denial for c in story.claims] == [True, False]
    assert story.denial.id == "toutiao:d"


def test_the_series_is_per_interval_by_stance(story):
    gpus = story.claims[0]
    assert [(at - T0) // H for at, _ in gpus.series] == [0, 1, 2, 3]
    assert [counts for _, counts in gpus.series] == [
        {"rumour": 1},
        {"rumour": 1},
        {"rumour": 1},
        {"denial": 1},
    ]


def test_timeline_by_claim_at_the_command_line(story, index_names, tmp_path, monkeypatch):
    incident = tmp_path / "case.yml"
    incident.write_text(
        f"id: {ID}\ntitle: ByteDance intern rumour\nwindow: {{start: {SCOPE.start.isoformat()}}}\n"
        'queries: [{name: zh, any: ["字节 实习生"]}]\n'
        "claims:\n"
        '  - {name: gpus, description: "8,000+ H100 GPUs", patterns: ["8000 H100"]}\n'
        '  - {name: losses, description: tens of millions of dollars, patterns: ["千万美元"]}\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SPREADWATCH_INDEX_PREFIX", index_names.prefix)
    result = CliRunner().invoke(cli, ["timeline", str(incident), "--by", "claim"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{ID}: 2 claims; the official denial (toutiao:d) answers 1 of them"
    assert "gpus — 8,000+ H100 GPUs" in lines
    assert "  answered by the official denial: yes" in lines
    assert "  answered by the official denial: NO" in lines
    assert "  reach spreading 1.7k, denying 20.0k" in lines


def test_the_report_has_a_row_per_claim(story, es_client, index_names):
    import lxml.html

    from spreadwatch.report import collect, render_html

    data = collect(es_client, index_names, SCOPE, claims=CLAIMS)
    page = lxml.html.fromstring(render_html(data))
    rows = page.xpath("//section[@id='claims']//tbody/tr")
    cells = [[c.text_content().strip() for c in row.xpath("td")] for row in rows]
    assert [(c[2], c[3], c[4], c[5], c[6], c[7]) for c in cells] == [
        ("4", "3", "1", "1700", "20000", "yes"),
        ("3", "1", "2", "500", "500", "no"),
    ]


def test_an_alert_e_mail_states_the_claims(story, es_client, index_names, smtp_server, smtp_sender):
    from alerts.engine import Delivery, raise_alerts
    from alerts.store import AlertStore
    from spreadwatch.incident import Incident

    incident = Incident.model_validate(
        {
            "id": ID,
            "title": "ByteDance intern rumour",
            "window": {"start": SCOPE.start.isoformat()},
            "queries": [{"name": "zh", "any": ["字节 实习生"]}],
            "claims": [c.model_dump() for c in CLAIMS],
            "alerts": {
                "recipients": ["analyst@example.org"],
                "rules": [{"name": "many", "type": "threshold", "count": 3, "window": "1d"}],
            },
        }
    )
    now = T0 + 5 * H
    raise_alerts(es_client, index_names, incident, now)
    Delivery(AlertStore(es_client, index_names), smtp_sender, "sw@example.org").deliver(now)
    [message] = smtp_server.inbox.messages
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert (
        "  - gpus (8,000+ H100 GPUs): 4 posts, 3 spreading it, 1 denying it; reach 1.7k vs 20.0k;"
        " answered by the official denial; first seen 2025-03-10 08:00 UTC on Weibo"
    ) in text
    assert (
        "  - losses (tens of millions of dollars): 3 posts, 1 spreading it, 2 denying it;" in text
    )
    assert "NOT answered by the official denial" in text
