"""Three GitHub crawls of a real-history world (colors.js / faker.js, January 2022) through
`crawlers.run` into the real node, judged against a truth computed from the world's data.

The crawls: the first (with a secondary-limit 403 and a 502 in the middle of it), an immediate
repeat, and one two days later after new stars, forks, issues, comments and commits. After each,
every kind of document indexed must equal the truth exactly — none missing, none extra, times to
the second — and nothing may come from the unrelated project the slogan search also finds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import yaml
from conftest_crawl import PROJECT_ROOT, TESTS, RunResult, run_crawl
from elasticsearch import Elasticsearch
from github_world import (
    COLORS,
    FIRST,
    INCIDENT,
    LATER,
    LIBERTY,
    PER_PAGE,
    REPO_IDS,
    WINSTON,
    World,
    build_world,
    truth,
)
from replay_helpers import SettableClock, holds
from test_middlewares import IN_FLIGHT

from indexer.connection import IndexNames
from indexer.templates import delete_all, init
from spreadwatch.replay import LoggedRequest, ReplayServer, faults
from spreadwatch.replay.github import GithubReplay
from spreadwatch.settings import Settings

MOMENTS = {"first": FIRST, "repeat": FIRST, "later": LATER}
#: The writer's engagement snapshots (a post's counts changed between crawls) are not GitHub
#: records; every other kind of document is compared with the truth.
NOT_RECORDS = {"activity:engagement"}


@dataclass
class Crawl:
    name: str
    at: datetime
    run: RunResult
    indexed: dict[str, dict[str, dict[str, Any]]]  # kind → id → source
    requests: list[LoggedRequest]


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
def crawls(
    world: World,
    es_client: Elasticsearch,
    es_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Crawl]]:
    folder = tmp_path_factory.mktemp("github-world")
    incident = folder / "colors-faker-2022.yml"
    incident.write_text(yaml.safe_dump(INCIDENT), encoding="utf-8")
    names = IndexNames(f"{es_settings.index_prefix}-ghworld")
    init(es_client, names)
    clock = SettableClock(FIRST)
    app = GithubReplay(world.data, core_limit=100_000, search_limit=10_000)
    with ReplayServer(app, clock=clock) as server:
        colors = REPO_IDS[COLORS]
        server.script(rf"^/repositories/{colors}/stargazers\?.*page=2", [faults.secondary_limit(5)])
        server.script(rf"^/repositories/{colors}/forks\?.*page=2", [faults.server_error(502)])
        env = {
            "SPREADWATCH_ES_URL": es_client.transport.node_pool.get().base_url,
            "SPREADWATCH_INDEX_PREFIX": names.prefix,
            "SPREADWATCH_DATA_DIR": str(folder / "data"),
            "SPREADWATCH_GITHUB_BASE_URL": server.url,
            "SPREADWATCH_GITHUB_PER_PAGE": str(PER_PAGE),
            "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(TESTS)]),
        }
        done: dict[str, Crawl] = {}
        try:
            for name, moment in MOMENTS.items():
                clock.now = moment
                server.clear_log()
                run = run_crawl(env, "--incident", str(incident), "--source", "github")
                assert run.code == 0, run.stderr[-3000:]
                done[name] = Crawl(
                    name, moment, run, _indexed(es_client, names), list(server.requests)
                )
            yield done
        finally:
            delete_all(es_client, names)


def _indexed(client: Elasticsearch, names: IndexNames) -> dict[str, dict[str, dict[str, Any]]]:
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for doc, index in (("posts", names.posts), ("activity", names.activity)):
        client.indices.refresh(index=index)
        hits = client.search(index=index, size=10_000)["hits"]["hits"]
        for hit in hits:
            source = hit["_source"]
            kind = f"{doc}:{source.get('kind') or source.get('event')}"
            found.setdefault(kind, {})[hit["_id"]] = source
    return found


def _expected(world: World, at: datetime) -> dict[str, dict[str, datetime]]:
    """The truth as {kind: {document id: time}} (activity ids carry their event)."""
    expected: dict[str, dict[str, datetime]] = {}
    for kind, items in truth(world, at).items():
        event = kind.split(":", 1)[1]
        for item_id, item in items.items():
            doc_id = f"github:{event}:{item_id}" if kind.startswith("activity") else item_id
            expected.setdefault(kind, {})[doc_id] = item.at
    return expected


KINDS = [
    "posts:repo",
    "posts:article",
    "posts:issue",
    "posts:pull_request",
    "posts:comment",
    "posts:commit",
    "activity:star",
    "activity:fork",
    "activity:issues",
    "activity:issuecomment",
    "activity:push",
]


@pytest.mark.parametrize("crawl_name", list(MOMENTS))
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_indexed_equals_the_truth(
    crawls: dict[str, Crawl], world: World, crawl_name: str, kind: str
) -> None:
    crawl = crawls[crawl_name]
    expected = _expected(world, crawl.at).get(kind, {})
    indexed = crawl.indexed.get(kind, {})
    assert expected, f"the world has no {kind} by {crawl.at}"
    assert sorted(set(indexed) - set(expected)) == [], "extra"
    assert sorted(set(expected) - set(indexed)) == [], "missing"
    times = {doc_id: datetime.fromisoformat(doc["@timestamp"]) for doc_id, doc in indexed.items()}
    assert times == expected


@pytest.mark.parametrize("crawl_name", list(MOMENTS))
def test_no_other_kind_of_document_is_indexed(crawls: dict[str, Crawl], crawl_name: str) -> None:
    assert set(crawls[crawl_name].indexed) - NOT_RECORDS <= set(KINDS)


def test_the_unrelated_project_contributes_nothing(crawls: dict[str, Crawl]) -> None:
    """Open Liberty is found by the slogan search (one word of it), and rejected: none of its
    documents is indexed and none of its lists is ever asked for."""
    liberty = LIBERTY.lower()
    for crawl in crawls.values():
        docs = [d for kind in crawl.indexed.values() for d in kind.values()]
        assert [d for d in docs if d.get("repo") == liberty] == []
        asked = {r.path for r in crawl.requests if liberty in r.path.lower()}
        assert asked <= {f"/repos/{LIBERTY}", f"/repos/{LIBERTY}/readme"}
        assert not any(
            r.path.startswith(f"/repositories/{REPO_IDS[LIBERTY]}") for r in crawl.requests
        )


def test_a_matching_hit_elsewhere_is_kept_and_its_repo_not_followed(
    crawls: dict[str, Crawl],
) -> None:
    later = crawls["later"]
    winston = [
        d
        for kind in later.indexed.values()
        for d in kind.values()
        if d.get("repo") == WINSTON.lower()
    ]
    assert {d["kind"] for d in winston} == {"issue", "commit"}
    assert not any(
        f"/repos/{WINSTON}/" in r.path and "readme" not in r.path for r in later.requests
    )


def test_the_repeat_crawl_is_answered_304(crawls: dict[str, Crawl]) -> None:
    repeat = crawls["repeat"].requests
    share = sum(1 for r in repeat if r.status == 304) / len(repeat)
    assert share >= 0.9, f"{share:.0%} of {len(repeat)} requests answered 304"


def test_new_stars_behind_a_full_last_page_are_read(crawls: dict[str, Crawl]) -> None:
    """Three full pages of stars at the first crawl: the repeat's saved last page answers 304
    and the page after it is read, where the later crawl finds the new stars."""
    colors = REPO_IDS[COLORS]
    pages = [r for r in crawls["later"].requests if r.path == f"/repositories/{colors}/stargazers"]
    assert [(r.query.get("page"), r.status) for r in pages] == [("4", 200)]


def test_the_secondary_limit_held_every_request_and_the_502_was_retried(
    crawls: dict[str, Crawl],
) -> None:
    first = crawls["first"]
    ((start, wait, what),) = holds(first.run.stderr)
    assert (wait, what) == (5.0, "every request")
    # A request sent before the hold began may reach the replay a little later (IN_FLIGHT).
    held = [r.path for r in first.requests if start + IN_FLIGHT < r.received < start + wait]
    assert held == [], f"sent while every request was held (hold began at {start:.3f})"
    forks_page_2 = [
        r.status for r in first.requests if r.path.endswith("/forks") and r.query.get("page") == "2"
    ]
    assert forks_page_2 == [502, 200]
    assert first.run.summary["status"] == "ok"


def test_commits_carry_follower_counts_utc_times_and_the_files_of_matching_ones(
    crawls: dict[str, Crawl], world: World
) -> None:
    commits = crawls["later"].indexed["posts:commit"]
    truth_commits = truth(world, LATER)["posts:commit"]
    for doc_id, item in truth_commits.items():
        doc = commits[doc_id]
        assert doc["author"]["followers"] == item.followers
        files = [f["filename"] for f in doc.get("commit", {}).get("files", [])] or None
        assert files == item.files


def test_comment_urls_keep_their_anchor(crawls: dict[str, Crawl]) -> None:
    comments = crawls["later"].indexed["posts:comment"].values()
    assert all("#issuecomment-" in c["url"] or "#discussion_r" in c["url"] for c in comments)
