"""The evidence alerts through the normal machinery: "Evidence removed" and "Statement edited"
fire once per deletion or edit, go out at once even with a digest, and say where the archived
copy is and what changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alerts_support import NOW, incident_with, index_posts, post

from alerts.engine import Delivery, evaluate, raise_alerts
from alerts.evidence import text_diff
from alerts.mailer import SmtpSender
from alerts.store import AlertStore

pytest_plugins = ["conftest_alerts"]

H = timedelta(hours=1)
RULES = [
    {"name": "removed", "type": "evidence_removed"},
    {"name": "edited", "type": "statement_edited"},
]
EVIDENCE = {
    "warc": "bytedance-intern-2024/2024-10-18.warc.gz",
    "record_id": "<urn:uuid:0b8c9d8e-0000-4000-8000-000000000001>",
    "digest": "sha256:ABC",
    "captured_at": "2024-10-18T09:01:00+00:00",
    "uri": "https://api.github.com/repos/JusticeFighter110/confession",
}


@pytest.fixture
def index_names(emptied_indices):
    return emptied_indices


def _world(client, names):
    index_posts(
        client,
        names,
        [
            post("JusticeFighter110/confession", NOW - 60 * H, platform="github", kind="repo",
                 reach=5400, author={"handle": "JusticeFighter110"}, evidence=EVIDENCE,
                 deleted_at=(NOW - 2 * H).isoformat(), deleted_how="github:repo_gone_or_private"),
            post("statement", NOW - 30 * H, platform="toutiao", kind="statement",
                 author={"handle": "bytedance", "official": True},
                 text="ByteDance dismissed the intern in August. Losses were not in the millions.",
                 edited_at=(NOW - H).isoformat(),
                 versions=[{"text": "ByteDance dismissed the intern in August. Reports of 8,000 GPUs are exaggerated.", "evidence": EVIDENCE}]),
            post("ordinary", NOW - 5 * H, edited_at=(NOW - H).isoformat()),  # not official
        ],
    )  # fmt: skip


def test_a_deleted_post_raises_evidence_removed_with_its_archived_copy(es_client, index_names):
    _world(es_client, index_names)
    found = {ev.rule.name: ev.finding for ev in evaluate(es_client, index_names, incident_with(RULES), NOW)}  # fmt: skip
    removed = found["removed"]
    assert removed.headline == (
        "Evidence removed: the post by @JusticeFighter110 (reach 5.4k) on GitHub was deleted at "
        f"~{NOW - 2 * H:%Y-%m-%d %H:%M} UTC"
    )
    assert EVIDENCE["record_id"] in removed.summary and EVIDENCE["warc"] in removed.summary


def test_an_edited_statement_raises_statement_edited_with_a_diff(es_client, index_names):
    _world(es_client, index_names)
    findings = [ev.finding for ev in evaluate(es_client, index_names, incident_with(RULES), NOW)]
    [edited] = [f for f in findings if f.rule == "edited"]
    assert edited.headline.startswith("Statement edited: @bytedance on Toutiao changed its text")
    assert "-Reports of 8,000 GPUs are exaggerated." in edited.summary
    assert "+Losses were not in the millions." in edited.summary


def test_evidence_alerts_fire_once_and_bypass_the_digest(
    es_client, index_names, smtp_server, smtp_sender: SmtpSender
):
    _world(es_client, index_names)
    incident = incident_with(RULES, digest="hourly")
    first = raise_alerts(es_client, index_names, incident, NOW)
    again = raise_alerts(es_client, index_names, incident, NOW + 3 * H)
    assert sorted(a["rule"] for a in first) == ["edited", "removed"] and again == []
    Delivery(AlertStore(es_client, index_names), smtp_sender, "sw@example.org").deliver(NOW)
    subjects = sorted(m["Subject"].split(":")[0] for m in smtp_server.inbox.messages)
    assert subjects == ["Evidence removed", "Statement edited"]


def test_the_diff_marks_removed_and_added_sentences():
    assert text_diff("A. B. C.", "A. D. C.") == "-B.\n+D."
    assert text_diff("同一句。", "同一句。") == "(only whitespace changed)"
