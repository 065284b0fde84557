"""How the Scrapyd client tells a daemon it cannot reach from one that answers badly.

The dispatcher counts only `ScrapydUnreachableError` towards a lost host (`lost_after`), so this
one classification decides whether a crawl is ever rescheduled. A local server at the network
edge answers as the real thing does: nginx's own page for a gateway error, Scrapyd's JSON for
its errors (`status: error`; Scrapyd 1.6 sends it with HTTP 200), a page that is not JSON.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scrapyd_support import free_port

from scheduler.scrapyd_api import ScrapydDaemon, ScrapydError, ScrapydUnreachableError
from spreadwatch.replay import ReplayApp, ReplayServer, Reply, faults

JOB = "inc-00:feeds:20261203T0900:abcd"


@pytest.fixture
def edge() -> Iterator[ReplayServer]:
    """What stands where the daemon should be; each test scripts its answer to status.json."""
    with ReplayServer(ReplayApp()) as server:
        yield server


def test_an_answer_with_status_ok_gives_the_jobs_state(edge: ReplayServer) -> None:
    edge.script(
        r"status\.json", [Reply.json({"node_name": "h", "status": "ok", "currstate": "running"})]
    )

    assert ScrapydDaemon(edge.url).state(JOB) == "running"


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_error_means_the_daemon_is_unreachable(edge: ReplayServer, status: int) -> None:
    edge.script(r"status\.json", [faults.gateway_error(status)])

    with pytest.raises(ScrapydUnreachableError, match=f"gateway answered {status} .* status.json"):
        ScrapydDaemon(edge.url).state(JOB)


def test_nothing_listening_means_the_daemon_is_unreachable() -> None:
    with pytest.raises(ScrapydUnreachableError, match="unreachable"):
        ScrapydDaemon(f"http://127.0.0.1:{free_port()}").state(JOB)


@pytest.mark.parametrize(
    "reply",
    [
        Reply.json({"node_name": "h", "status": "error", "message": "project 'x' not found"}),
        Reply.json({"status": "error", "message": "ValueError: boom"}, status=500),
        Reply.text("<html><body>Internal Server Error</body></html>", "text/html", status=500),
        Reply.text("{truncated", "application/json", status=200),
    ],
    ids=["scrapyd-error", "500-json-error", "500-page", "malformed"],
)
def test_a_daemon_that_answers_badly_is_not_unreachable(edge: ReplayServer, reply: Reply) -> None:
    edge.script(r"status\.json", [reply])

    with pytest.raises(ScrapydError, match=edge.url) as raised:
        ScrapydDaemon(edge.url).state(JOB)
    assert not isinstance(raised.value, ScrapydUnreachableError)
