"""The GitHub paging discipline and follow registry, on their own (no network, no Scrapy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crawlers.github.follow import PREFIX, FollowRegistry
from crawlers.github.paging import (
    ListSpec,
    PageMeta,
    Walk,
    beyond_served,
    next_link,
    page_after,
    relative,
    search_slice,
)
from crawlers.github.stars import graphql_url

NOW = datetime(2022, 1, 15, 12, tzinfo=UTC)
STARS = ListSpec(
    "stargazers:marak/colors.js",
    "/repos/Marak/colors.js/stargazers?per_page=30",
    newest_first=False,
    resume=True,
)
FORKS = ListSpec("forks:marak/colors.js", "/repos/Marak/colors.js/forks?sort=newest&per_page=30")


@pytest.mark.parametrize(
    ("url", "base", "rel"),
    [
        (
            "https://api.github.com/repositories/1/stargazers?page=2",
            "https://api.github.com",
            "/repositories/1/stargazers?page=2",
        ),
        (
            "https://ghe.example/api/v3/repositories/1/forks?page=3",
            "https://ghe.example/api/v3",
            "/repositories/1/forks?page=3",
        ),
        (
            "http://127.0.0.1:8765/search/issues?q=x&page=2",
            "http://127.0.0.1:9999",
            "/search/issues?q=x&page=2",
        ),
    ],
    ids=["github", "enterprise", "other-host"],
)
def test_cursors_are_relative_to_the_base_url(url: str, base: str, rel: str) -> None:
    assert relative(url, base) == rel


def test_the_next_link_is_read_from_githubs_link_header() -> None:
    header = (
        '<https://api.github.com/repositories/1/stargazers?per_page=30&page=2>; rel="next", '
        '<https://api.github.com/repositories/1/stargazers?per_page=30&page=4>; rel="last"'
    )
    assert (
        next_link(header, "https://api.github.com")
        == "/repositories/1/stargazers?per_page=30&page=2"
    )
    assert next_link(None, "https://api.github.com") is None


@pytest.mark.parametrize(
    ("rel", "after"),
    [
        (
            "/repositories/1/stargazers?per_page=30&page=3",
            "/repositories/1/stargazers?per_page=30&page=4",
        ),
        ("/repos/a/b/stargazers?per_page=30", "/repos/a/b/stargazers?per_page=30&page=2"),
    ],
)
def test_the_page_after(rel: str, after: str) -> None:
    assert page_after(rel) == after


def test_a_304_on_a_saved_page_follows_its_saved_next_link() -> None:
    saved = Walk(STARS, None, {}).cursor() | {
        "first": STARS.first,
        "last": "/p3",
        "pages": {"/p3": {"next": "/p4", "full": True}},
    }
    walk = Walk(STARS, None, saved)
    assert walk.start == "/p3"
    meta = walk.saved_meta("/p3")
    assert meta is not None and walk.after("/p3", meta, fresh=False, max_pages=10) == "/p4"


def test_a_304_on_a_full_last_page_reads_the_page_after() -> None:
    rel = "/repositories/1/stargazers?per_page=30&page=3"
    walk = Walk(STARS, None, {"first": STARS.first, "last": rel})
    following = walk.after(rel, PageMeta(next=None, full=True), fresh=False, max_pages=10)
    assert following == "/repositories/1/stargazers?per_page=30&page=4"
    # ... but a fresh (200) full last page is GitHub's word: there is no next page.
    fresh = Walk(STARS, None, {})
    assert fresh.after(rel, PageMeta(next=None, full=True), fresh=True, max_pages=10) is None


def test_the_last_page_github_serves_is_the_walks_end_from_then_on() -> None:
    """Page 400 read, page 401 refused (422): 400 is marked the end; the next run's 304 on it,
    or a fresh full copy still linking to 401, ends the walk there."""
    rel = "/repositories/1/stargazers?per_page=100&page=400"
    refused = "/repositories/1/stargazers?per_page=100&page=401"
    walk = Walk(STARS, None, {})
    assert walk.after(rel, PageMeta(next=refused, full=True), fresh=True, max_pages=10) == refused
    assert walk.served_end(refused) and walk.complete and walk.at_served_end
    saved = walk.cursor()
    assert saved["pages"][rel] == {"next": None, "full": True, "oldest": None, "end": True}
    for meta, fresh in ((PageMeta.from_dict(saved["pages"][rel]), False), (PageMeta(refused, True), True)):  # fmt: skip
        again = Walk(STARS, None, saved)
        assert again.start == rel and meta is not None
        assert again.after(rel, meta, fresh=fresh, max_pages=10) is None
        assert again.complete and again.at_served_end


def test_a_refused_first_page_marks_the_page_before_it_as_the_end() -> None:
    """The saved cursor's last page is past what GitHub serves now: the run asks it first and
    reads no page, yet page 400 becomes the end, the cursor keeps its format and the newest
    star read, and the next run starts at 400, never at 401."""
    served = "/repositories/1/stargazers?per_page=100&page=400"
    refused = "/repositories/1/stargazers?per_page=100&page=401"
    newest = NOW.isoformat()
    saved = {"first": STARS.first, "last": refused, "resume": None, "complete": True,
             "newest": newest, "pages": {refused: {"next": None, "full": False, "oldest": None}}}  # fmt: skip
    walk = Walk(STARS, None, saved)
    assert walk.start == refused and walk.newest == NOW
    assert walk.served_end(refused) and walk.complete and walk.at_served_end
    cursor = walk.cursor()
    assert cursor["last"] == served and cursor["resume"] is None and cursor["newest"] == newest
    assert cursor["pages"] == {served: {"next": None, "full": True, "oldest": None, "end": True}}
    again = Walk(STARS, None, cursor)
    assert again.start == served
    assert again.after(served, PageMeta(refused, True), fresh=True, max_pages=10) is None
    assert again.at_served_end and again.cursor()["newest"] == newest
    assert not Walk(STARS, None, {}).served_end(STARS.first)  # nothing before page 1


@pytest.mark.parametrize(
    ("base", "endpoint"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://ghe.example.org/api/v3/", "https://ghe.example.org/api/graphql"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123/graphql"),
    ],
)
def test_the_graphql_endpoint_derives_from_the_base_url(base: str, endpoint: str) -> None:
    assert graphql_url(base) == endpoint


def test_a_newest_first_walk_keeps_its_cutoff_for_every_page() -> None:
    cutoff = NOW - timedelta(days=3)
    walk = Walk(FORKS, cutoff, {})
    newer = (cutoff + timedelta(hours=1)).isoformat()
    older = (cutoff - timedelta(hours=1)).isoformat()
    assert walk.after(FORKS.first, PageMeta("/p2", True, newer), fresh=True, max_pages=10) == "/p2"
    walk.seen([NOW])  # page 1 had the newest fork: the cutoff must not move with it
    assert walk.cutoff == cutoff
    assert walk.after("/p2", PageMeta("/p3", True, newer), fresh=True, max_pages=10) == "/p3"
    assert walk.after("/p3", PageMeta("/p4", True, older), fresh=True, max_pages=10) is None
    assert walk.complete


def test_an_unchanged_top_ends_a_complete_newest_first_walk() -> None:
    walk = Walk(FORKS, NOW, {"first": FORKS.first, "complete": True})
    assert walk.after(FORKS.first, PageMeta("/p2", True), fresh=False, max_pages=10) is None
    assert walk.complete


def test_a_capped_walk_goes_on_next_run_from_where_it_stopped() -> None:
    walk = Walk(FORKS, None, {})
    assert walk.after(FORKS.first, PageMeta("/p2", True), fresh=True, max_pages=1) is None
    assert not walk.complete
    walk.seen([NOW])
    again = Walk(FORKS, None, walk.cursor())
    assert again.start == "/p2"
    assert again.newest == NOW


EVENTS = ListSpec("repo-events:a/b", "/repos/a/b/events?per_page=30")


@pytest.mark.parametrize(
    ("last_page", "served_out"),
    [
        (PageMeta(None, full=True, oldest=(NOW - timedelta(days=1)).isoformat()), True),
        (PageMeta(None, full=False, oldest=(NOW - timedelta(days=1)).isoformat()), False),
        (PageMeta("/p3", full=True, oldest=(NOW - timedelta(days=9)).isoformat()), False),
    ],
    ids=["full-last-page", "partial-last-page", "past-the-cutoff"],
)
def test_a_walk_is_served_out_when_it_ends_on_a_full_last_page(
    last_page: PageMeta, served_out: bool
) -> None:
    """Only a full last page, read before the cutoff, may hide older records a capped list
    (GitHub's newest 300 events) does not serve; the end of the list or the cutoff does not."""
    walk = Walk(EVENTS, NOW - timedelta(days=5), {})
    newer = (NOW - timedelta(hours=1)).isoformat()
    assert walk.after(EVENTS.first, PageMeta("/p2", True, newer), fresh=True, max_pages=10) == "/p2"
    assert walk.after("/p2", last_page, fresh=True, max_pages=10) is None
    assert walk.complete and walk.served_out is served_out


def test_a_page_github_refuses_serves_the_walk_out() -> None:
    walk = Walk(EVENTS, None, {})
    walk.after(EVENTS.first, PageMeta("/p2", True), fresh=True, max_pages=10)
    assert walk.served_end("/repos/a/b/events?per_page=30&page=2")
    assert walk.complete and walk.served_out


def test_a_record_dated_in_the_future_does_not_move_the_walks_newest() -> None:
    walk = Walk(FORKS, None, {})
    walk.seen([NOW - timedelta(hours=2), datetime(2099, 1, 1, tzinfo=UTC)], now=NOW)
    assert walk.newest == NOW - timedelta(hours=2)
    walk.seen([datetime(9999, 12, 31, tzinfo=UTC)], now=NOW)
    assert walk.newest == NOW - timedelta(hours=2)


class _State:
    def __init__(self, extra: dict[str, Any]) -> None:
        self.extra = dict(extra)

    def set_extra(self, key: str, value: Any) -> None:
        self.extra[key] = value

    def delete_extra(self, key: str) -> None:
        self.extra.pop(key, None)


def _followed(reason: str, last_match: datetime | None, since: datetime) -> dict[str, Any]:
    return {
        "name": "faker-js/faker",
        "reason": reason,
        "keep_all": False,
        "since": since.isoformat(),
        "last_match": last_match.isoformat() if last_match else None,
    }


@pytest.mark.parametrize(
    ("last_match", "kept"),
    [(NOW - timedelta(days=13), True), (NOW - timedelta(days=15), False), (None, False)],
    ids=["recent-match", "stale", "never-matched"],
)
def test_a_found_repo_expires_without_a_matching_item(last_match, kept: bool) -> None:
    state = _State(
        {PREFIX + "faker-js/faker": _followed("matched", last_match, NOW - timedelta(days=30))}
    )
    registry = FollowRegistry(state, NOW, timedelta(days=14))
    assert (registry.get("Faker-JS/Faker") is not None) is kept
    assert registry.prune() == ([] if kept else ["faker-js/faker"])
    assert (PREFIX + "faker-js/faker" in state.extra) is kept


def test_the_incidents_own_repos_never_expire_and_keep_all() -> None:
    registry = FollowRegistry(_State({}), NOW, timedelta(days=1))
    registry.watch("marak/colors.js", keep_all=True)
    assert registry.keeps_all("Marak/colors.js")
    assert registry.follow("MARAK/COLORS.JS", "matched") is None  # one repo, any spelling


def test_a_matching_item_renews_a_found_repo_once_a_run() -> None:
    state = _State(
        {
            PREFIX + "faker-js/faker": _followed(
                "matched", NOW - timedelta(days=10), NOW - timedelta(days=20)
            )
        }
    )
    registry = FollowRegistry(state, NOW, timedelta(days=14))
    registry.matched("faker-js/Faker")
    assert state.extra[PREFIX + "faker-js/faker"]["last_match"] == NOW.isoformat()


SEARCH = "/search/issues?q=ByteDance+intern&sort=created&order=desc&per_page=100"
OLDEST = datetime(2024, 10, 18, 10, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("page", "total", "beyond"),
    [(10, 1001, True), (10, 1000, False), (9, 5000, False), (20, 2500, True), (3, None, False)],
)
def test_a_search_holds_more_than_github_serves_only_past_its_1000th_result(
    page: int, total: int | None, beyond: bool
) -> None:
    assert beyond_served(f"{SEARCH}&page={page}", total, 100) is beyond


def test_a_search_goes_on_narrowed_to_its_oldest_result_read() -> None:
    narrowed = search_slice(f"{SEARCH}&page=10", "search-issues", OLDEST)
    assert narrowed == (
        "/search/issues?q=ByteDance+intern+created%3A%3C%3D2024-10-18T10%3A00%3A05Z"
        "&sort=created&order=desc&per_page=100"
    )


def test_a_narrowed_search_is_narrowed_again_not_twice() -> None:
    first = search_slice(f"{SEARCH}&page=10", "search-commits", OLDEST)
    assert first is not None
    again = search_slice(f"{first}&page=10", "search-commits", OLDEST - timedelta(hours=1))
    assert again is not None and "q=ByteDance+intern+committer-date%3A%3C%3D2024-10-18T09%3A00%3A05Z&" in again  # fmt: skip
    assert search_slice(f"{again}&page=10", "search-commits", OLDEST - timedelta(hours=1)) is None


@pytest.mark.parametrize(
    ("rel", "kind"),
    [
        (f"{SEARCH}&page=10", "search-repositories"),  # sorted by `updated`: no qualifier for it
        ("/search/issues?q=sabotage+created%3A%3E2024-10-15&page=10", "search-issues"),
    ],
)
def test_a_search_that_cannot_be_narrowed_by_date_is_not(rel: str, kind: str) -> None:
    assert search_slice(rel, kind, OLDEST) is None
