"""The replay servers answer like the real APIs: paging, ETags, rate limits, clock, faults."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from github_fixture import CONFESSION, T0, founding_world, issue
from replay_helpers import SettableClock

from spreadwatch.replay import ReplayServer, faults
from spreadwatch.replay.github import GithubReplay


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(T0 + timedelta(days=2))


@pytest.fixture
def github(clock: SettableClock) -> Iterator[ReplayServer]:
    with ReplayServer(
        GithubReplay(founding_world(stars=150), search_limit=3), clock=clock
    ) as server:
        yield server


def test_the_server_listens_on_loopback_only(github: ReplayServer) -> None:
    assert github.url.startswith("http://127.0.0.1:")


def test_lists_are_paged_with_a_link_header(github: ReplayServer) -> None:
    status, headers, body = get(f"{github.url}/repos/{CONFESSION}/stargazers?per_page=100")
    assert status == 200 and len(json.loads(body)) == 100
    assert 'page=2>; rel="next"' in headers["Link"] and 'rel="last"' in headers["Link"]
    _, last_headers, last = get(f"{github.url}/repos/{CONFESSION}/stargazers?per_page=100&page=2")
    assert len(json.loads(last)) == 50 and 'rel="next"' not in last_headers["Link"]


@pytest.mark.parametrize(
    ("accept", "has_starred_at"),
    [("application/vnd.github.star+json", True), ("application/vnd.github+json", False)],
)
def test_starred_at_only_with_the_star_media_type(
    github: ReplayServer, accept: str, has_starred_at: bool
) -> None:
    _, _, body = get(f"{github.url}/repos/{CONFESSION}/stargazers", Accept=accept)
    assert ("starred_at" in json.loads(body)[0]) is has_starred_at


def test_a_matching_etag_gets_an_empty_304_that_costs_nothing(github: ReplayServer) -> None:
    _, headers, _ = get(f"{github.url}/repos/{CONFESSION}")
    status, again, body = get(
        f"{github.url}/repos/{CONFESSION}", **{"If-None-Match": headers["ETag"]}
    )
    assert (status, body) == (304, b"")
    assert again["x-ratelimit-used"] == headers["x-ratelimit-used"]


def test_search_has_total_count_and_incomplete_results(github: ReplayServer) -> None:
    _, headers, body = get(f"{github.url}/search/repositories?q=ByteDance+intern")
    result = json.loads(body)
    assert result["total_count"] == len(result["items"]) == 5
    assert result["incomplete_results"] is False
    assert headers["x-ratelimit-resource"] == "search"


@pytest.mark.parametrize(
    ("per_page", "served", "refused"), [(100, 10, 11), (30, 34, 35), (7, 143, 144)]
)
def test_search_serves_pages_that_start_within_the_first_1000_results(
    per_page: int, served: int, refused: int
) -> None:
    """GitHub's rule, measured (brekkylab/backlot#144): a page starting past 1,000 is a 422."""
    world = founding_world()
    world.issues["crowd/forum"] = [
        issue(n, "crowd/forum", f"crowdthread {n}", "x", T0, "someone") for n in range(1, 1101)
    ]
    clock = SettableClock(T0 + timedelta(days=1))
    with ReplayServer(GithubReplay(world, search_limit=10), clock=clock) as server:
        base = f"{server.url}/search/issues?q=crowdthread&per_page={per_page}"
        status, headers, body = get(f"{base}&page={served}")
        assert status == 200 and json.loads(body)["total_count"] == 1100
        assert 'rel="next"' not in headers.get("Link", "")
        status, _, body = get(f"{base}&page={refused}")
    assert status == 422
    assert json.loads(body)["message"] == "Only the first 1000 search results are available"


def test_an_exhausted_search_budget_answers_403_at_zero_remaining(github: ReplayServer) -> None:
    for _ in range(3):
        get(f"{github.url}/search/issues?q=intern")
    status, headers, body = get(f"{github.url}/search/issues?q=intern")
    assert status == 403 and headers["x-ratelimit-remaining"] == "0"
    assert "rate limit exceeded" in json.loads(body)["message"]


def test_records_appear_only_once_the_clock_passes_their_time(
    github: ReplayServer, clock: SettableClock
) -> None:
    clock.now = T0 + timedelta(minutes=12)  # stars every 5 minutes from T0: 0, 5, 10
    _, _, body = get(f"{github.url}/repos/{CONFESSION}/stargazers?per_page=100")
    _, _, repo = get(f"{github.url}/repos/{CONFESSION}")
    assert len(json.loads(body)) == 3
    assert json.loads(repo)["stargazers_count"] == 3


def test_a_repo_not_yet_created_is_404(github: ReplayServer, clock: SettableClock) -> None:
    clock.now = T0 - timedelta(hours=1)
    assert get(f"{github.url}/repos/{CONFESSION}")[0] == 404


def test_scripted_faults_answer_in_order_then_the_api_again(github: ReplayServer) -> None:
    github.script(r"^/repos/", [faults.rate_limited(429, retry_after=3), faults.server_error(502)])
    first, headers, _ = get(f"{github.url}/repos/{CONFESSION}")
    second = get(f"{github.url}/repos/{CONFESSION}")[0]
    third = get(f"{github.url}/repos/{CONFESSION}")[0]
    assert (first, headers["retry-after"], second, third) == (429, "3", 502, 200)
    assert [r.scripted for r in github.requests] == [True, True, False]


@pytest.mark.parametrize(
    ("reply", "parses"),
    [
        (faults.truncated_json({"items": list(range(50))}), False),
        (faults.garbage(), False),
        (faults.huge_body(), True),
    ],
    ids=["truncated", "garbage", "2mb"],
)
def test_broken_bodies_are_served_as_scripted(github: ReplayServer, reply, parses: bool) -> None:
    github.script(r"^/repos/", [reply])
    _, _, body = get(f"{github.url}/repos/{CONFESSION}")
    try:
        json.loads(body)
        parsed = True
    except (ValueError, UnicodeDecodeError):
        parsed = False
    assert parsed is parses
    if parses:
        assert len(body) >= 2 * 1024 * 1024 - 2048


def test_the_request_log_counts_by_status_and_path(github: ReplayServer) -> None:
    _, headers, _ = get(f"{github.url}/repos/{CONFESSION}")
    get(f"{github.url}/repos/{CONFESSION}", **{"If-None-Match": headers["ETag"]})
    get(f"{github.url}/users/nobody")
    assert (github.count(status=304), github.count(status=404), github.count(path=r"^/repos/")) == (
        1,
        1,
        2,
    )


def test_a_repo_deleted_by_its_owner_is_gone_from_then_on(
    github: ReplayServer, clock: SettableClock
) -> None:
    github.app.data.deleted_repos[CONFESSION] = (clock.now + timedelta(hours=1)).isoformat()
    assert get(f"{github.url}/repos/{CONFESSION}")[0] == 200
    found = json.loads(get(f"{github.url}/search/repositories?q=confession")[2])["items"]
    assert CONFESSION in [i["full_name"] for i in found]
    clock.advance(hours=2)
    assert get(f"{github.url}/repos/{CONFESSION}")[0] == 404
    status, _, body = get(f"{github.url}/search/repositories?q=confession")
    assert status == 200
    assert CONFESSION not in [i["full_name"] for i in json.loads(body)["items"]]


def test_a_readme_reads_as_its_latest_edit_by_the_clock(
    github: ReplayServer, clock: SettableClock
) -> None:
    import base64

    edit = {"at": (clock.now + timedelta(hours=1)).isoformat(), "text": "# UPDATE"}
    github.app.data.readme_edits[CONFESSION] = [edit]

    def readme() -> str:
        body = json.loads(get(f"{github.url}/repos/{CONFESSION}/readme")[2])
        return base64.b64decode(body["content"]).decode("utf-8")

    assert readme().startswith("# 录音")
    clock.advance(hours=2)
    assert readme() == "# UPDATE"
