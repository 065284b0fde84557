"""The Mastodon spider against a replayed instance: hashtag timelines, search, closed instances."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from social_crawl import crawl, write_incident
from social_fixtures import FIXTURES

from crawlers.spiders.mastodon import snowflake
from spreadwatch.replay import ReplayServer, Reply, faults
from spreadwatch.replay.mastodon import MastodonData, MastodonReplay
from spreadwatch.replay.server import parse_time

ORIGINAL = "mastodon:https://mastodon.social/users/aiwatch/statuses/113329333862400100"
REPLY = "mastodon:https://chaos.social/users/kritisch/statuses/113330999"


def data(instance: str = "mastodon.social") -> MastodonData:
    return MastodonData.load(FIXTURES / "mastodon.json", instance)


@pytest.fixture
def instance() -> Iterator[ReplayServer]:
    with ReplayServer(MastodonReplay(data(), tokens=("user-token",))) as server:
        yield server


def _incident(tmp_path: Path, hashtags: list[str], **instance: object) -> Path:
    section = {"terms": ["bytedance"], "instances": [{"url": "https://mastodon.social", "hashtags": hashtags, **instance}]}  # fmt: skip
    return write_incident(tmp_path, {"mastodon": section})


def test_a_hashtag_timeline_is_read_without_a_token(instance: ReplayServer, tmp_path: Path) -> None:
    result = crawl(
        "mastodon",
        _incident(tmp_path, ["ByteDance"]),
        tmp_path,
        SPREADWATCH_MASTODON_BASE_URL=instance.url,
    )
    assert result.ids() == [ORIGINAL]
    assert result.by_id()[ORIGINAL]["author"]["handle"] == "aiwatch@mastodon.social"
    assert result.stat("mastodon/search_without_token") == 1
    assert instance.count(path=r"^/api/v2/search") == 0


def test_the_timeline_is_asked_from_the_window_start_as_a_since_id(
    instance: ReplayServer, tmp_path: Path
) -> None:
    crawl(
        "mastodon",
        _incident(tmp_path, ["bytedance"]),
        tmp_path,
        SPREADWATCH_MASTODON_BASE_URL=instance.url,
    )
    first = instance.matching(path=r"/timelines/tag/")[0]
    assert first.query["since_id"] == str(snowflake(parse_time("2024-10-17T00:00:00Z")))


def test_with_a_token_statuses_are_searched(instance: ReplayServer, tmp_path: Path) -> None:
    incident = _incident(tmp_path, [], token_env="MASTO_TOKEN")
    result = crawl("mastodon", incident, tmp_path, SPREADWATCH_MASTODON_BASE_URL=instance.url, MASTO_TOKEN="user-token")  # fmt: skip
    assert result.ids() == [REPLY, ORIGINAL]
    assert result.by_id()[REPLY]["reply_to"] == ORIGINAL  # the parent's own document id
    (search,) = instance.matching(path=r"^/api/v2/search")
    assert search.headers["authorization"] == "Bearer user-token"


def test_an_instance_with_public_timelines_off_is_reported_clearly(tmp_path: Path) -> None:
    with ReplayServer(MastodonReplay(data("closed.example"))) as closed:
        result = crawl("mastodon", _incident(tmp_path, ["bytedance", "ai"]), tmp_path, SPREADWATCH_MASTODON_BASE_URL=closed.url)  # fmt: skip
    assert result.items == []
    assert result.stat("refused/public_timeline_disabled") == 2


def test_pages_are_followed_by_the_link_header(tmp_path: Path) -> None:
    many = data()
    base = many.statuses[0]
    for n in range(90):
        status = dict(
            base,
            id=str(int(base["id"]) + 1000 + n),
            uri=f"https://mastodon.social/users/x/statuses/{n}",
        )
        many.statuses.append(status)
    with ReplayServer(MastodonReplay(many)) as server:
        result = crawl("mastodon", _incident(tmp_path, ["bytedance"]), tmp_path, SPREADWATCH_MASTODON_BASE_URL=server.url)  # fmt: skip
        assert server.count(path=r"/timelines/tag/") == 4  # 40 + 40 + 11, then an empty page
    assert len(set(result.ids())) == 91


def _paged(tmp_path: Path, max_pages: int) -> Path:
    instances = [{"url": "https://mastodon.social", "hashtags": ["bytedance"]}]
    section = {"terms": ["bytedance"], "instances": instances, "max_pages": max_pages}
    return write_incident(tmp_path, {"mastodon": {**section, "refresh": "1m"}})


def _flood_status(base: dict, n: int) -> dict:
    """Status `n` of a burst about the rumour, one a minute from 20 Oct 2024 (id by its time)."""
    moment = datetime(2024, 10, 20, tzinfo=UTC) + timedelta(minutes=n)
    created = moment.isoformat().replace("+00:00", ".000Z")
    uri = f"https://mastodon.social/users/x/statuses/flood{n}"
    return dict(base, id=str(snowflake(moment)), created_at=created, uri=uri)


def test_a_run_stopped_by_max_pages_leaves_the_since_value_for_the_next_to_read_below(
    tmp_path: Path,
) -> None:
    """100 new statuses, 40 a page, two pages a run: the first run reads 80 and says so; the
    next goes on below them (`max_id`, with the first run's `since_id`), not from the newest."""
    many = data()
    many.statuses += [_flood_status(many.statuses[0], n) for n in range(100)]
    flood = {f"mastodon:https://mastodon.social/users/x/statuses/flood{n}" for n in range(100)}
    incident = _paged(tmp_path, max_pages=2)
    with ReplayServer(MastodonReplay(many)) as server:
        capped = crawl("mastodon", incident, tmp_path, SPREADWATCH_MASTODON_BASE_URL=server.url)
        asked = server.matching(path=r"/timelines/tag/")
        server.clear_log()
        resumed_run = crawl(
            "mastodon", incident, tmp_path, SPREADWATCH_MASTODON_BASE_URL=server.url
        )
        resuming = server.matching(path=r"/timelines/tag/")[0]
    assert (len(flood & set(capped.ids())), capped.stat("mastodon/capped")) == (80, 1)
    assert asked[1].query["since_id"] == asked[0].query["since_id"]  # kept past Mastodon's link
    assert resuming.query["since_id"] == asked[0].query["since_id"]
    assert "max_id" in resuming.query
    assert flood <= set(capped.ids()) | set(resumed_run.ids())


@pytest.mark.parametrize(
    ("reply", "stat"),
    [(faults.garbage(), "dropped/bad_json"), (faults.forbidden(), "refused/403")],
    ids=["garbage", "forbidden"],
)
def test_bad_answers_are_counted(
    instance: ReplayServer, tmp_path: Path, reply: object, stat: str
) -> None:
    instance.script(r"/timelines/tag/", [reply])
    result = crawl(
        "mastodon",
        _incident(tmp_path, ["bytedance"]),
        tmp_path,
        SPREADWATCH_MASTODON_BASE_URL=instance.url,
    )
    assert result.stat(stat) == 1 and result.items == []


def test_a_status_with_a_changed_field_type_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    changed = data()
    extra = dict(changed.statuses[0], id=str(int(changed.statuses[0]["id"]) + 5), uri=42)
    changed.statuses.append(extra)
    with ReplayServer(MastodonReplay(changed)) as server:
        result = crawl("mastodon", _incident(tmp_path, ["bytedance"]), tmp_path, SPREADWATCH_MASTODON_BASE_URL=server.url)  # fmt: skip
    assert result.ids() == [ORIGINAL]
    assert result.stat("dropped/bad_record") == 1


def _remote_reply(ident: str, parent: str, text: str) -> dict[str, object]:
    """A status from another server, as this instance shows it, answering `parent` (this
    instance's id of a status by kritisch@chaos.social, also on another server)."""
    zed = {"id": "40001", "username": "zed", "acct": "zed@far.example", "url": "https://far.example/@zed", "followers_count": 7, "display_name": "Zed"}  # fmt: skip
    kritisch = {"id": "20440", "username": "kritisch", "acct": "kritisch@chaos.social", "url": "https://chaos.social/@kritisch"}  # fmt: skip
    return {
        "id": ident,
        "uri": f"https://far.example/users/zed/statuses/{ident}",
        "url": f"https://far.example/@zed/{ident}",
        "created_at": "2024-10-19T10:00:00.000Z",
        "in_reply_to_id": parent,
        "in_reply_to_account_id": "20440",
        "content": f"<p>{text}</p>",
        "language": "en",
        "account": zed,
        "mentions": [kritisch],
        "tags": [{"name": "bytedance"}],
        "media_attachments": [],
    }


def test_a_reply_to_a_status_on_another_server_asks_the_instance_for_its_parent(
    tmp_path: Path,
) -> None:
    world = data()
    world.statuses += [
        _remote_reply("113333500000000201", "113333030092800101", "ByteDance: agreed"),
        _remote_reply("113333500000000202", "113333030092800101", "ByteDance: same here"),
        _remote_reply("113333500000000203", "999", "ByteDance: to a deleted status"),
    ]
    with ReplayServer(MastodonReplay(world)) as server:
        result = crawl("mastodon", _incident(tmp_path, ["bytedance"]), tmp_path, SPREADWATCH_MASTODON_BASE_URL=server.url)  # fmt: skip
        asked = [r.path for r in server.matching(path=r"^/api/v1/statuses/")]
    found = result.by_id()
    for ident in ("201", "202"):
        reply = found[f"mastodon:https://far.example/users/zed/statuses/113333500000000{ident}"]
        assert reply["reply_to"] == REPLY  # the parent's URI, learnt from the instance
    assert sorted(asked) == ["/api/v1/statuses/113333030092800101", "/api/v1/statuses/999"]
    orphan = found["mastodon:https://far.example/users/zed/statuses/113333500000000203"]
    assert orphan["reply_to"] is None and result.stat("mastodon/parent_unknown") == 1


@pytest.mark.parametrize(
    "reset",
    ["2024-10-19T12:00:00", "2024-10-19 12:00:00", "soon"],
    ids=["no-offset", "space", "text"],
)
def test_a_spent_rate_limit_with_an_odd_reset_time_does_not_stop_the_paging(
    instance: ReplayServer, tmp_path: Path, reset: str
) -> None:
    status = data().statuses[0]
    spent = Reply.json([status], **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    spent.headers["Link"] = f'<{instance.url}/api/v1/timelines/tag/bytedance?max_id=1>; rel="next"'
    instance.script(r"/timelines/tag/", [spent])
    result = crawl(
        "mastodon",
        _incident(tmp_path, ["bytedance"]),
        tmp_path,
        SPREADWATCH_MASTODON_BASE_URL=instance.url,
    )
    assert instance.count(path=r"/timelines/tag/") == 2
    assert "spider_exceptions/count" not in result.stats


KRITISCH = "https://chaos.social/users/kritisch"


def test_a_flood_of_parent_lookups_is_paced_by_the_iso_reset_with_no_429(tmp_path: Path) -> None:
    """Sixty replies to statuses from another server: a page of 40 asks for 40 parents at once,
    on a budget of 20 a second. The middleware reads Mastodon's reset (an ISO 8601 time) and
    holds what the budget cannot take, so no request meets a 429 and every reply names its
    parent."""
    world = data()
    kritisch = world.statuses[1]  # a status from another server, as this instance shows it
    parents = [
        dict(kritisch, id=str(113333000000000000 + n), uri=f"{KRITISCH}/statuses/p{n}")
        for n in range(60)
    ]
    replies = [_remote_reply(str(113334000000000000 + n), p["id"], f"ByteDance: reply {n}") for n, p in enumerate(parents)]  # fmt: skip
    world.statuses += parents + replies
    with ReplayServer(MastodonReplay(world, budget=20, window_seconds=1)) as server:
        result = crawl("mastodon", _incident(tmp_path, ["bytedance"]), tmp_path, SPREADWATCH_MASTODON_BASE_URL=server.url)  # fmt: skip
        asked, limited = len(server.requests), server.count(status=429)
    found = result.by_id()
    truth = {f"mastodon:{r['uri']}": f"mastodon:{p['uri']}" for r, p in zip(replies, parents, strict=True)}  # fmt: skip
    told = {reply: found.get(reply, {}).get("reply_to") for reply in truth}
    assert (limited, result.stat("ratelimit/gave_up")) == (0, 0), f"{limited} of {asked} requests answered 429"  # fmt: skip
    assert told == truth and set(truth.values()) <= set(found)
    assert result.stat("ratelimit/paced_seconds") >= 1
