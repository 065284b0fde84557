"""The Bluesky spider against a replayed PDS: sessions, search, followers, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from social_crawl import crawl, write_incident
from social_fixtures import FIXTURES

from spreadwatch.replay import ReplayServer, Reply, faults
from spreadwatch.replay.bluesky import BlueskyData, BlueskyReplay

ROOT = "bluesky:at://did:plc:ai4news5k2x/app.bsky.feed.post/3l6vzq2abc22k"
REPLY = "bluesky:at://did:plc:skept1c9q/app.bsky.feed.post/3l6wb7xyz11a"
OFFICIAL = "bluesky:at://did:plc:bytedanceoff/app.bsky.feed.post/3l6xq1official"
LOGIN = {"SPREADWATCH_BLUESKY_HANDLE": "watcher.bsky.social", "SPREADWATCH_BLUESKY_APP_PASSWORD": "app-pass-word-1234"}  # fmt: skip


def env(server: ReplayServer, **extra: str) -> dict[str, str]:
    return {"SPREADWATCH_BLUESKY_BASE_URL": server.url, "SPREADWATCH_BLUESKY_PUBLIC_BASE_URL": server.url, **extra}  # fmt: skip


def _incident(tmp_path: Path, **section: object) -> Path:
    return write_incident(tmp_path, {"bluesky": {"terms": ["bytedance"], **section}})


def serve(**options: int) -> ReplayServer:
    return ReplayServer(BlueskyReplay(BlueskyData.load(FIXTURES / "bluesky.json"), **options))


@pytest.fixture
def pds() -> Iterator[ReplayServer]:
    with serve() as server:
        yield server


def test_search_runs_through_an_app_password_session(pds: ReplayServer, tmp_path: Path) -> None:
    result = crawl("bluesky", _incident(tmp_path), tmp_path, **env(pds, **LOGIN))
    assert result.ids() == sorted([ROOT, REPLY, OFFICIAL])
    (search,) = pds.matching(path=r"searchPosts")
    assert search.headers["authorization"].startswith("Bearer acc-")
    assert search.query["since"] == "2024-10-17T00:00:00Z" and search.query["sort"] == "latest"


def test_followers_come_from_get_profiles_and_relations_are_kept(
    pds: ReplayServer, tmp_path: Path
) -> None:
    posts = crawl("bluesky", _incident(tmp_path), tmp_path, **env(pds, **LOGIN)).by_id()
    assert posts[ROOT]["author"]["followers"] == 18230
    assert posts[REPLY]["reply_to"] == ROOT
    assert posts[OFFICIAL]["quote_of"] == ROOT


def test_the_official_account_is_flagged(pds: ReplayServer, tmp_path: Path) -> None:
    posts = crawl("bluesky", _incident(tmp_path), tmp_path, **env(pds, **LOGIN)).by_id()
    assert posts[OFFICIAL]["author"]["official"] is True
    assert posts[ROOT]["author"]["official"] is False


def test_an_expired_access_token_is_refreshed_and_the_request_replayed(tmp_path: Path) -> None:
    with serve(access_uses=1) as server:
        result = crawl("bluesky", _incident(tmp_path), tmp_path, **env(server, **LOGIN))
        assert server.app.refreshes >= 1 and server.app.sessions == 1
    assert result.ids() == sorted([ROOT, REPLY, OFFICIAL])
    assert result.stat("bluesky/session_refreshed") >= 1


def test_a_wrong_app_password_is_a_counted_refusal(pds: ReplayServer, tmp_path: Path) -> None:
    result = crawl("bluesky", _incident(tmp_path), tmp_path, **env(pds, **{**LOGIN, "SPREADWATCH_BLUESKY_APP_PASSWORD": "nope"}))  # fmt: skip
    assert result.items == []
    assert result.stat("refused/bad_credentials") == 1


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_login_answered_with_a_redirect_sends_the_app_password_nowhere_else(
    pds: ReplayServer, tmp_path: Path, status: int
) -> None:
    with serve() as elsewhere:
        target = f"{elsewhere.url}/xrpc/com.atproto.server.createSession"
        pds.script(r"createSession", [Reply(status=status, headers={"Location": target})], method="POST")  # fmt: skip
        result = crawl("bluesky", _incident(tmp_path), tmp_path, **env(pds, **LOGIN))
        assert elsewhere.requests == []
    assert result.items == []
    assert result.stat("refused/login_redirected") == 1


def test_without_credentials_logged_out_search_is_tried_and_its_refusal_counted(
    pds: ReplayServer, tmp_path: Path
) -> None:
    result = crawl("bluesky", _incident(tmp_path), tmp_path, **env(pds))
    assert result.items == []
    assert result.stat("bluesky/without_credentials") == 1
    assert result.stat("refused/search_needs_login") == 1


def test_posts_whose_profile_lookup_fails_are_kept_without_follower_counts(
    pds: ReplayServer, tmp_path: Path
) -> None:
    """getProfiles lost on the network (after the retry): the posts it carried went with it."""
    pds.script(r"getProfiles", [faults.connection_dropped()] * 4)
    result = crawl("bluesky", _incident(tmp_path), tmp_path, **env(pds, **LOGIN))
    assert result.ids() == sorted([ROOT, REPLY, OFFICIAL])
    assert result.by_id()[ROOT]["author"]["followers"] is None
    assert result.stat("dropped/profiles_failed") == 1


def test_pages_follow_the_cursor(tmp_path: Path) -> None:
    data = BlueskyData.load(FIXTURES / "bluesky.json")
    base = data.posts[0]
    for n in range(120):
        data.posts.append(
            {**base, "uri": f"at://did:plc:ai4news5k2x/app.bsky.feed.post/3lpage{n:04d}"}
        )
    with ReplayServer(BlueskyReplay(data)) as server:
        result = crawl("bluesky", _incident(tmp_path), tmp_path, **env(server, **LOGIN))
        assert server.matching(path=r"searchPosts")[1].query["cursor"] == "100"
    assert len(set(result.ids())) == 123


def flooded(count: int) -> BlueskyData:
    """The fixture plus `count` posts about the rumour, one a minute from 20 Oct 2024."""
    data = BlueskyData.load(FIXTURES / "bluesky.json")
    base = data.posts[0]
    for n in range(count):
        moment = datetime(2024, 10, 20, tzinfo=UTC) + timedelta(minutes=n)
        stamp = moment.isoformat().replace("+00:00", ".000Z")
        data.posts.append({**base, "uri": f"at://did:plc:ai4news5k2x/app.bsky.feed.post/3lflood{n:04d}",
                           "indexedAt": stamp, "record": {**base["record"], "createdAt": stamp}})  # fmt: skip
    return data


def two_runs_of_one_page(data: BlueskyData, tmp_path: Path) -> tuple[Any, Any, Any]:
    """Two crawls at one page a run: their results, and the second's search request."""
    with ReplayServer(BlueskyReplay(data)) as server:
        incident = _incident(tmp_path, max_pages=1, refresh="1m")
        first = crawl("bluesky", incident, tmp_path, **env(server, **LOGIN))
        server.clear_log()
        second = crawl("bluesky", incident, tmp_path, **env(server, **LOGIN))
        (resumed,) = server.matching(path=r"searchPosts")
    return first, second, resumed


def test_a_run_stopped_by_max_pages_leaves_the_since_value_for_the_next_to_read_below(
    tmp_path: Path,
) -> None:
    """150 new posts, 100 a page, one page a run: the first run reads 100 and says so; the
    next goes on below them (`until`) down to the window's start, not from the newest post."""
    data = flooded(150)
    expected = {ROOT, REPLY, OFFICIAL} | {f"bluesky:at://did:plc:ai4news5k2x/app.bsky.feed.post/3lflood{n:04d}" for n in range(150)}  # fmt: skip
    first, second, resumed = two_runs_of_one_page(data, tmp_path)
    assert (len(set(first.ids())), first.stat("bluesky/capped")) == (100, 1)
    assert resumed.query["until"] == "2024-10-20T00:50:01Z"  # a second past the oldest read
    assert resumed.query["since"] == "2024-10-17T00:00:00Z"  # the first run's start
    assert set(first.ids()) | set(second.ids()) == expected


@pytest.mark.parametrize("reply", [faults.garbage(), faults.truncated_json({"posts": []})], ids=["garbage", "truncated"])  # fmt: skip
def test_unreadable_pages_are_counted_drops(
    pds: ReplayServer, tmp_path: Path, reply: object
) -> None:
    pds.script(r"searchPosts", [reply])
    result = crawl("bluesky", _incident(tmp_path), tmp_path, **env(pds, **LOGIN))
    assert result.stat("dropped/bad_json") == 1 and result.items == []


def test_a_post_with_a_changed_field_type_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    data = BlueskyData.load(FIXTURES / "bluesky.json")
    data.posts[1]["record"] = {**data.posts[1]["record"], "createdAt": 1729276800}
    with ReplayServer(BlueskyReplay(data)) as server:
        result = crawl("bluesky", _incident(tmp_path, terms=["sabotage"]), tmp_path, **env(server, **LOGIN))  # fmt: skip
    assert result.ids() == [ROOT]
    assert result.stat("dropped/bad_record") == 1


def test_a_page_whose_posts_are_all_dropped_still_leads_to_the_next(tmp_path: Path) -> None:
    """The newest 100 posts carry a changed time field: the 30 below them are still read."""
    data = BlueskyData.load(FIXTURES / "bluesky.json")
    base = data.posts[0]
    for n in range(130):
        stamp = (datetime(2024, 10, 20, tzinfo=UTC) + timedelta(minutes=n)).isoformat().replace("+00:00", ".000Z")  # fmt: skip
        created: object = 1729400000 if n >= 30 else stamp
        data.posts.append({**base, "uri": f"at://did:plc:ai4news5k2x/app.bsky.feed.post/3lbad{n:04d}",
                           "indexedAt": stamp, "record": {**base["record"], "createdAt": created}})  # fmt: skip
    with ReplayServer(BlueskyReplay(data)) as server:
        result = crawl("bluesky", _incident(tmp_path), tmp_path, **env(server, **LOGIN))
    kept = {f"bluesky:at://did:plc:ai4news5k2x/app.bsky.feed.post/3lbad{n:04d}" for n in range(30)}
    assert kept <= set(result.ids())
    assert result.stat("dropped/bad_record") == 100


@pytest.mark.parametrize(
    "count", [b"1e400", b"-1e400", rb'"\u00b2"'], ids=["huge", "huge-negative", "superscript"]
)
def test_a_follower_count_no_number_can_hold_leaves_followers_unknown_and_keeps_the_posts(
    pds: ReplayServer, tmp_path: Path, count: bytes
) -> None:
    """1e400 is valid JSON (Python reads it as infinity); the profiles answer is otherwise fine."""
    body = b'{"profiles": [{"did": "did:plc:ai4news5k2x", "handle": "ai4news.bsky.social", "followersCount": ' + count + b"}]}"  # fmt: skip
    pds.script(r"getProfiles", [Reply(body=body)])
    result = crawl("bluesky", _incident(tmp_path), tmp_path, **env(pds, **LOGIN))
    assert result.ids() == sorted([ROOT, REPLY, OFFICIAL])
    assert result.by_id()[ROOT]["author"]["followers"] is None


def test_a_capped_walk_goes_on_below_its_oldest_post_not_below_a_post_it_quotes(
    tmp_path: Path,
) -> None:
    """150 new posts, one page a run, and one of the first run's posts quotes a post of 2023:
    the quoted post comes along (kept when it matches) but is no result of the search. Taken as
    the oldest read, the next run asked `until` 2023, below the window's start: it read nothing,
    ended the walk as complete, and the 50 posts below the cap were never read."""
    data = flooded(150)
    old = "at://did:plc:skept1c9q/app.bsky.feed.post/3jold2023aaa"
    quoting = data.posts[-30]  # read by the first run
    quoting["record"] = {**quoting["record"], "embed": {"$type": "app.bsky.embed.record", "record": {"uri": old, "cid": "bafyold"}}}  # fmt: skip
    quoting["embed"] = {"$type": "app.bsky.embed.record#view", "record": {
        "$type": "app.bsky.embed.record#viewRecord", "uri": old, "cid": "bafyold",
        "author": {"did": "did:plc:skept1c9q", "handle": "skeptic.bsky.social"},
        "value": {"$type": "app.bsky.feed.post", "createdAt": "2023-03-01T12:00:00.000Z", "text": "an old post"},
        "indexedAt": "2023-03-01T12:00:01.000Z"}}  # fmt: skip
    flood = {f"bluesky:at://did:plc:ai4news5k2x/app.bsky.feed.post/3lflood{n:04d}" for n in range(150)}  # fmt: skip
    first, second, resumed = two_runs_of_one_page(data, tmp_path)
    assert resumed.query["until"] == "2024-10-20T00:50:01Z"  # a second past the oldest result
    assert flood <= set(first.ids()) | set(second.ids())


def _author(n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Author `n` of a burst: the post view's author and the profile `getProfiles` gives."""
    did, handle = f"did:plc:burst{n:04d}", f"burst{n:04d}.bsky.social"
    return {"did": did, "handle": handle}, {"did": did, "handle": handle, "followersCount": 1000 + n}  # fmt: skip


def test_a_burst_of_pages_and_profile_lookups_is_paced_by_the_epoch_reset_with_no_429(
    tmp_path: Path,
) -> None:
    """300 posts by 300 authors: each page of 100 asks `getProfiles` four times at once, with
    the next page, on a budget of 4 a second. The middleware reads Bluesky's
    `ratelimit-remaining`/`-reset` (epoch seconds) and holds what the budget cannot take: no
    429, and every post comes with its author's followers."""
    world = BlueskyData.load(FIXTURES / "bluesky.json")
    template = world.posts[0]
    for n in range(300):
        author, profile = _author(n)
        at = (datetime(2024, 10, 18, 16, tzinfo=UTC) + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")  # fmt: skip
        record = {"$type": "app.bsky.feed.post", "createdAt": at, "langs": ["en"], "text": f"ByteDance intern, take {n}"}  # fmt: skip
        uri = f"at://{author['did']}/app.bsky.feed.post/3burst{n:04d}"
        world.posts.append({**template, "uri": uri, "author": author, "record": record, "indexedAt": at})  # fmt: skip
        world.profiles.append(profile)
    followers = {f"bluesky:at://did:plc:burst{n:04d}/app.bsky.feed.post/3burst{n:04d}": 1000 + n for n in range(300)}  # fmt: skip
    with ReplayServer(BlueskyReplay(world, budget=4, window_seconds=1)) as server:
        result = crawl("bluesky", _incident(tmp_path), tmp_path, **env(server, **LOGIN))
        asked, limited = len(server.requests), server.count(status=429)
    found = result.by_id()
    read = {uri: (found.get(uri) or {}).get("author", {}).get("followers") for uri in followers}
    assert (limited, result.stat("ratelimit/gave_up")) == (0, 0), f"{limited} of {asked} requests answered 429"  # fmt: skip
    assert read == followers
    assert result.stat("ratelimit/paced_seconds") >= 1
