"""What a lost Scrapyd crawl's run record says happened: the daemon stopped answering, or it
answered but no longer knew the job (it restarted, and the crawl went with the old process).

A small Scrapyd stands in for the daemon at the network edge (its JSON API: listjobs,
daemonstatus, schedule, status), so the dispatcher's own path is run — placing, following,
recording the loss in the real runs index, scheduling again — without deploying the crawlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from alerts.mailer import UnconfiguredSender
from indexer.connection import IndexNames, es_url
from scheduler.runtime import Runtime
from scheduler.scrapyd import ATTEMPTS, ScrapydDispatcher
from scheduler.scrapyd_api import ScrapydDaemon
from spreadwatch.replay import ReplayApp, ReplayRequest, ReplayServer, Reply, faults
from spreadwatch.settings import Settings


class Scrapyd(ReplayApp):
    """Takes every job; asked about one, answers as `status` says."""

    def __init__(self, status: Reply) -> None:
        super().__init__()
        self.status = status
        self.route("GET", r"/listjobs\.json", lambda _: self.ok(pending=[], running=[], finished=[]))  # fmt: skip
        self.route("GET", r"/daemonstatus\.json", lambda _: self.ok(running=0, pending=0))
        self.route("POST", r"/schedule\.json", lambda _: self.ok(jobid="ours"))
        self.route("GET", r"/status\.json", self.job_status)

    @staticmethod
    def ok(**fields: Any) -> Reply:
        return Reply.json({"node_name": "h", "status": "ok", **fields})

    def job_status(self, request: ReplayRequest) -> Reply:
        return self.status


def _lost_runs(status: Reply, rt: Runtime) -> list[str]:
    """Run one crawl on a daemon answering `status.json` with `status`; the lost runs' errors,
    as the runs index holds them."""
    with ReplayServer(Scrapyd(status)) as scrapyd:
        dispatcher = ScrapydDispatcher([ScrapydDaemon(scrapyd.url)], lost_after=0.2, poll=0.05)
        outcome = dispatcher.run_crawl(rt, "incidents/x.yml", "inc-00", "feeds")
    assert outcome["ended"] == "lost" and len(outcome["attempts"]) == ATTEMPTS
    rt.client.indices.refresh(index=rt.names.runs)
    hits = rt.client.search(index=rt.names.runs, query={"term": {"job": "crawl"}}, size=100)
    docs = [hit["_source"] for hit in hits["hits"]["hits"]]
    assert [doc["finish_reason"] for doc in docs] == ["scrapyd_lost"] * ATTEMPTS
    return [doc["errors"] for doc in docs]


@pytest.fixture
def rt(
    es_settings: Settings,
    es_client: Elasticsearch,
    index_names: IndexNames,
    settings_for: Callable[..., Settings],
) -> Runtime:
    settings = settings_for(index_prefix=index_names.prefix, es_url=es_url(es_settings))
    return Runtime(settings, es_client, index_names, UnconfiguredSender(), crawl_timeout=60)


def test_a_daemon_that_forgot_the_job_is_said_to_have_restarted(rt: Runtime) -> None:
    errors = _lost_runs(Scrapyd.ok(currstate=None), rt)
    for error in errors:
        assert "no longer knows the job (restarted mid-crawl)" in error
        assert "unreachable" not in error


def test_a_daemon_that_stops_answering_is_said_to_be_unreachable(rt: Runtime) -> None:
    errors = _lost_runs(faults.gateway_error(502), rt)
    for error in errors:
        assert "unreachable for 0.2s mid-crawl" in error
        assert "restarted" not in error
