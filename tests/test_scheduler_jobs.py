"""The monitor's alert job end to end: posts in Elasticsearch → e-mail on a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alerts_support import index_docs, index_posts, run_doc, spread
from scheduler_support import incident_yaml, write_incident

from alerts.engine import evaluate
from alerts.mailer import SmtpConfig, SmtpSender
from indexer.documents import MAPPING_VERSIONS
from indexer.templates import concrete_index, init
from scheduler import jobs, runtime
from spreadwatch.incident import load_incident

pytest_plugins = ["conftest_alerts", "conftest_scheduler"]


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


H = timedelta(hours=1)


@pytest.fixture
def alert_runtime(make_runtime, index_names, smtp_server):
    rt = make_runtime(names=index_names)
    rt.sender = SmtpSender(SmtpConfig.from_url(smtp_server.url), timeout=5)
    runtime.install(rt)
    yield rt
    runtime.install(None)


def test_alert_job_raises_sends_and_records_its_run(
    alert_runtime, es_client, index_names, smtp_server, tmp_path
):
    path = write_incident(tmp_path)
    now = datetime.now(UTC)
    index_posts(es_client, index_names, spread(8, now - H / 2, now, "w"))  # the job's clock runs on
    jobs.alerts(str(path))
    [message] = smtp_server.inbox.messages
    es_client.indices.refresh(index=index_names.runs)
    runs = es_client.search(index=index_names.runs, query={"term": {"job": "alerts"}})
    [run] = [hit["_source"] for hit in runs["hits"]["hits"]]
    assert message["Subject"] == "Spike: new in the last hour — ByteDance intern rumour"
    assert (run["status"], run["items_indexed"]) == ("ok", 1)


def provisional(count: int) -> list[dict]:
    """Posts as a deferred ingest stores them: the lexicon's label, waiting for the head."""
    now = datetime.now(UTC)
    return spread(count, now - H / 2, now, "w", stance_source="lexicon", stance_pending=True,
                  text="A ByteDance intern sabotaged 8,000 H100 GPUs")  # fmt: skip


def stored_posts(es_client, index_names) -> list[dict]:
    es_client.indices.refresh(index=index_names.posts)
    hits = es_client.search(index=index_names.posts, size=100)["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def test_the_alert_job_lets_the_head_label_waiting_posts_before_its_rules_read_them(
    alert_runtime, es_client, index_names, smtp_server, tmp_path
):
    path = write_incident(tmp_path)
    index_posts(es_client, index_names, provisional(8))
    jobs.alerts(str(path))
    [message] = smtp_server.inbox.messages
    stored = stored_posts(es_client, index_names)
    assert {(d["stance_source"], d["stance_pending"]) for d in stored} == {("model", False)}
    plain = message.get_body(preferencelist=("plain",)).get_content()
    assert "provisional" not in plain


def test_the_stance_job_labels_the_waiting_posts(alert_runtime, es_client, index_names, tmp_path):
    path = write_incident(tmp_path)
    index_posts(es_client, index_names, provisional(3))
    jobs.stance(str(path))
    stored = stored_posts(es_client, index_names)
    assert (
        sorted((d["stance_source"], d["stance_pending"]) for d in stored) == [("model", False)] * 3
    )


def test_an_alert_raised_while_posts_wait_for_the_head_says_so(
    alert_runtime, es_client, index_names, smtp_server, tmp_path
):
    """No head to label with (here: switched off after the crawl): the rules read the lexicon's
    labels, and the e-mail says how many posts carry one and marks each such post."""
    alert_runtime.settings = alert_runtime.settings.model_copy(update={"stance_model": False})
    path = write_incident(tmp_path)
    index_posts(es_client, index_names, provisional(8))
    jobs.alerts(str(path))
    [message] = smtp_server.inbox.messages
    plain = " ".join(message.get_body(preferencelist=("plain",)).get_content().split())
    html = message.get_body(preferencelist=("html",)).get_content()
    note = "8 posts of the incident still carried the lexicon's provisional stance"
    assert note in plain and note.replace("'", "&#39;") in html
    assert "labelled by the lexicon rules, provisional (the model has not labelled it yet)" in plain
    assert {d["stance_pending"] for d in stored_posts(es_client, index_names)} == {True}


def test_a_rule_whose_query_fails_does_not_silence_the_others(
    es_client, index_names, tmp_path, caplog
):
    extra = "    - name: silent\n      type: silent_source\n"
    path = write_incident(tmp_path, extra=extra)
    now = datetime.now(UTC)
    index_posts(es_client, index_names, spread(8, now - H, now, "w"))
    runs_index = concrete_index(index_names.runs, MAPPING_VERSIONS["runs"])
    es_client.indices.delete(index=runs_index)  # the runs index is gone
    try:
        found = evaluate(es_client, index_names, load_incident(path), now)
    finally:
        init(es_client, index_names)  # the module's later tests need it back
    assert [ev.rule.name for ev in found] == ["spike"]
    assert "rule silent of bytedance-intern-2024 could not be evaluated" in caplog.text


def test_digest_alerts_left_pending_go_out_once_the_digest_is_switched_off(
    alert_runtime, es_client, index_names, smtp_server, tmp_path
):
    path = tmp_path / "bytedance.yml"
    path.write_text(incident_yaml().replace("  every: 5m\n", "  every: 5m\n  digest: daily\n"))
    now = datetime.now(UTC)
    index_posts(es_client, index_names, spread(8, now - H / 2, now, "w"))
    jobs.alerts(str(path))
    assert smtp_server.inbox.messages == []  # held for the daily digest
    path.write_text(incident_yaml())  # digest off: no digest job will ever send it
    jobs.alerts(str(path))
    [message] = smtp_server.inbox.messages
    assert message["Subject"].startswith("Spike:")


def test_urgent_alerts_bypass_the_digest_the_rest_waits_for_it(
    alert_runtime, es_client, index_names, smtp_server, tmp_path
):
    rules = (
        "    - name: silent\n      type: silent_source\n      runs: 1\n"
        "    - name: spike2\n      type: threshold\n      count: 3\n"
    )
    path = tmp_path / "bytedance.yml"
    path.write_text(
        incident_yaml(extra=rules).replace("  every: 5m\n", "  every: 5m\n  digest: hourly\n")
    )
    now = datetime.now(UTC)
    index_posts(es_client, index_names, spread(8, now - H / 2, now, "w"))
    runs = [run_doc("github", now - 2 * H, "ok", 5), run_doc("github", now - H, "failed", 0)]
    index_docs(es_client, index_names.runs, runs)
    jobs.alerts(str(path))
    assert [m["Subject"] for m in smtp_server.inbox.messages] == [
        "Silent source: GitHub returned nothing for 1 runs — ByteDance intern rumour"
    ]
    jobs.digest(str(path))
    assert smtp_server.inbox.messages[1]["Subject"] == "Digest: 2 alerts — ByteDance intern rumour"
