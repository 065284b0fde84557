"""The Hacker News spider against a local Algolia replay: windows, pages, trees, state."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from social_crawl import crawl, write_incident
from social_fixtures import FIXTURES

from spreadwatch.replay import ReplayServer, Reply, faults
from spreadwatch.replay.hackernews import HackerNewsData, HackerNewsReplay


@pytest.fixture
def algolia() -> Iterator[ReplayServer]:
    data = HackerNewsData.load(FIXTURES / "hackernews.json")
    with ReplayServer(HackerNewsReplay(data)) as server:
        yield server


def _incident(tmp_path: Path, **section: object) -> Path:
    return write_incident(tmp_path, {"hackernews": {"terms": ["bytedance"], **section}})


def test_stories_comments_and_their_trees_are_crawled(
    algolia: ReplayServer, tmp_path: Path
) -> None:
    result = crawl(
        "hackernews", _incident(tmp_path), tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=algolia.url
    )
    assert result.ids() == [
        "hackernews:41875000", "hackernews:41880512", "hackernews:41880601", "hackernews:41880601",
        "hackernews:41880650",
    ]  # fmt: skip
    assert result.by_id()["hackernews:41880650"]["reply_to"] == "hackernews:41880601"
    assert algolia.count(path=r"^/api/v1/items/41880512$") == 1


def test_a_range_over_the_hit_cap_is_split_by_created_at(tmp_path: Path) -> None:
    base = HackerNewsData.load(FIXTURES / "hackernews.json").hits[0]
    hits = []
    for n in range(1500):
        hit = copy.deepcopy(base)
        hit.update(
            objectID=str(50_000_000 + n), created_at_i=1729300000 + n * 60, story_id=50_000_000 + n
        )
        hits.append(hit)
    with ReplayServer(HackerNewsReplay(HackerNewsData(hits=hits))) as server:
        incident = _incident(tmp_path, comment_trees=False, max_pages=20)
        result = crawl("hackernews", incident, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=server.url)
    assert len(set(result.ids())) == 1500
    assert result.stat("hackernews/window_split") >= 1


def _flood(count: int) -> list[dict]:
    """`count` comments about the rumour, one a minute."""
    base = HackerNewsData.load(FIXTURES / "hackernews.json").hits[0]
    hits = []
    for n in range(count):
        hit = copy.deepcopy(base)
        hit.update(objectID=str(50_000_000 + n), created_at_i=1729300000 + n * 60, story_id=50_000_000 + n)  # fmt: skip
        hits.append(hit)
    return hits


def test_a_range_over_what_max_pages_holds_is_split_too(tmp_path: Path) -> None:
    """450 hits, 100 a page, max_pages 3: read in slices that each fit in three pages."""
    with ReplayServer(HackerNewsReplay(HackerNewsData(hits=_flood(450)))) as server:
        incident = _incident(tmp_path, comment_trees=False, max_pages=3)
        result = crawl("hackernews", incident, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=server.url)
    assert len(set(result.ids())) == 450
    assert result.stat("hackernews/capped") == 0


def test_a_slice_no_split_can_fit_is_counted_and_leaves_the_since_value(tmp_path: Path) -> None:
    """150 hits in one second, max_pages 1: whatever the splits, one slice holds them all; the
    run reads its first 100, says so, and the next run (max_pages raised) reads all 150 — it
    starts where the first began, not at the newest hit the first one read."""
    hits = _flood(150)
    for hit in hits:
        hit["created_at_i"] = 1729300000
    with ReplayServer(HackerNewsReplay(HackerNewsData(hits=hits))) as server:
        url = server.url
        capped = _incident(tmp_path, comment_trees=False, max_pages=1, refresh="1m")
        first = crawl("hackernews", capped, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=url)
        raised = _incident(tmp_path, comment_trees=False, max_pages=5, refresh="1m")
        second = crawl("hackernews", raised, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=url)
    assert (len(set(first.ids())), first.stat("hackernews/capped")) == (100, 1)
    assert {h["objectID"] for h in hits} <= {i.split(":")[1] for i in second.ids()}


def test_the_next_run_starts_from_the_newest_post_minus_refresh(
    algolia: ReplayServer, tmp_path: Path
) -> None:
    incident = _incident(tmp_path, refresh="1h", comment_trees=False)
    crawl("hackernews", incident, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=algolia.url)
    algolia.clear_log()
    crawl("hackernews", incident, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=algolia.url)
    (search,) = algolia.matching(path=r"search_by_date")
    # newest hit 2024-10-19T03:40:02Z (1729309202) minus one hour
    assert search.query["numericFilters"].startswith("created_at_i>=1729305602,")


@pytest.mark.parametrize(
    "reply",
    [faults.garbage(), faults.truncated_json({"hits": [{"objectID": "1"}]})],
    ids=["garbage", "truncated"],
)
def test_unreadable_answers_are_counted_drops(
    algolia: ReplayServer, tmp_path: Path, reply: object
) -> None:
    algolia.script(r"search_by_date", [reply])
    incident = _incident(tmp_path, comment_trees=False)
    result = crawl("hackernews", incident, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=algolia.url)
    assert result.stat("dropped/bad_json") == 1
    assert result.items == []


def test_a_server_error_is_retried(algolia: ReplayServer, tmp_path: Path) -> None:
    algolia.script(r"search_by_date", [faults.server_error(503)])
    incident = _incident(tmp_path, comment_trees=False)
    result = crawl("hackernews", incident, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=algolia.url)
    assert len(result.items) == 3


def test_a_hit_with_a_changed_field_type_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    data = HackerNewsData.load(FIXTURES / "hackernews.json")
    data.hits[2]["created_at_i"] = "2024-10-18"
    data.hits[2]["_tags"] = ["story"]
    with ReplayServer(HackerNewsReplay(data)) as server:
        incident = _incident(tmp_path, comment_trees=False)
        result = crawl("hackernews", incident, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=server.url)
    assert result.ids() == ["hackernews:41880512", "hackernews:41880601"]
    assert result.stat("dropped/bad_record") == 1


@pytest.mark.parametrize(
    ("change", "kept"),
    [
        ({"created_at_i": 10**20}, ["hackernews:41880601"]),
        ({"id": "41880650x"}, ["hackernews:41880601"]),
        ({"children": 5}, ["hackernews:41880601", "hackernews:41880650"]),
    ],
    ids=["time-out-of-range", "id-as-text", "children-not-a-list"],
)
def test_a_comment_of_the_wrong_shape_in_a_tree_is_dropped_and_the_rest_kept(
    tmp_path: Path, change: dict[str, object], kept: list[str]
) -> None:
    tree = copy.deepcopy(HackerNewsData.load(FIXTURES / "hackernews.json").items["41880512"])
    tree["children"][0]["children"][0].update(change)  # 41880650, a reply to 41880601
    with ReplayServer(
        HackerNewsReplay(HackerNewsData.load(FIXTURES / "hackernews.json"))
    ) as server:
        server.script(r"^/api/v1/items/41880512$", [Reply.json(tree)])
        result = crawl("hackernews", _incident(tmp_path), tmp_path,
                       SPREADWATCH_HACKERNEWS_BASE_URL=server.url)  # fmt: skip
    from_tree = sorted(i for i, item in result.by_id().items() if item["always_keep"])
    assert from_tree == kept
    assert result.stat("dropped/bad_record") == 1


@pytest.mark.parametrize("created", [4102444800, 253402300799], ids=["year-2100", "year-9999"])
def test_a_hit_dated_in_the_future_does_not_move_the_next_runs_window(
    algolia: ReplayServer, tmp_path: Path, created: int
) -> None:
    data = HackerNewsData.load(FIXTURES / "hackernews.json")
    future = {**copy.deepcopy(data.hits[0]), "objectID": "99999999", "created_at_i": created}
    answer = {"hits": [future, *data.hits], "nbHits": 4, "nbPages": 1, "page": 0}
    algolia.script(r"search_by_date", [Reply.json(answer)])
    incident = _incident(tmp_path, refresh="1h", comment_trees=False)
    crawl("hackernews", incident, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=algolia.url)
    algolia.clear_log()
    crawl("hackernews", incident, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=algolia.url)
    (search,) = algolia.matching(path=r"search_by_date")
    # the newest hit of the past, 2024-10-19T03:40:02Z (1729309202), minus one hour
    assert search.query["numericFilters"].startswith("created_at_i>=1729305602,")
