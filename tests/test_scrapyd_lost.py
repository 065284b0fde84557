"""What a lost Scrapyd crawl's run record says happened: the daemon stopped answering, or it
answered but no longer knew the job (it restarted, and the crawl went with the old process).

A small Scrapyd stands in for the daemon (its JSON API: listjobs, daemonstatus, schedule,
status) and a recording client for Elasticsearch, so the dispatcher's own path is run — placing,
following, recording the loss, scheduling again — without daemons or a node.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from scheduler.scrapyd import ATTEMPTS, ScrapydDispatcher
from scheduler.scrapyd_api import ScrapydDaemon
from spreadwatch.clock import utc_now
from spreadwatch.replay import ReplayApp, ReplayRequest, ReplayServer, Reply, faults


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


class Runs:
    """The runs index as the dispatcher uses it: create a record, read it back."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    def create(self, *, index: str, id: str, document: dict[str, Any], refresh: str) -> None:
        self.docs[id] = document

    def get(self, *, index: str, id: str) -> dict[str, Any]:
        return {"_source": self.docs[id]}


@pytest.fixture
def runs() -> Runs:
    return Runs()


def _lost_runs(status: Reply, runs: Runs) -> Iterator[str]:
    """Run one crawl on a daemon answering `status.json` with `status`; the lost runs' errors."""
    with ReplayServer(Scrapyd(status)) as scrapyd:
        dispatcher = ScrapydDispatcher([ScrapydDaemon(scrapyd.url)], lost_after=0.2, poll=0.05)
        rt = SimpleNamespace(
            client=runs,
            names=SimpleNamespace(runs="runs"),
            clock=utc_now,
            stopping=threading.Event(),
            crawl_timeout=60.0,
        )
        outcome = dispatcher.run_crawl(rt, "incidents/x.yml", "inc-00", "feeds")  # type: ignore[arg-type]
    assert outcome["ended"] == "lost" and len(outcome["attempts"]) == ATTEMPTS
    for doc in runs.docs.values():
        assert doc["finish_reason"] == "scrapyd_lost"
        yield doc["errors"]  # the one error, as the runs index holds it


def test_a_daemon_that_forgot_the_job_is_said_to_have_restarted(runs: Runs) -> None:
    errors = list(_lost_runs(Scrapyd.ok(currstate=None), runs))
    assert len(errors) == ATTEMPTS
    for error in errors:
        assert "no longer knows the job (restarted mid-crawl)" in error
        assert "unreachable" not in error


def test_a_daemon_that_stops_answering_is_said_to_be_unreachable(runs: Runs) -> None:
    errors = list(_lost_runs(faults.gateway_error(502), runs))
    assert len(errors) == ATTEMPTS
    for error in errors:
        assert "unreachable for 0.2s mid-crawl" in error
        assert "restarted" not in error
