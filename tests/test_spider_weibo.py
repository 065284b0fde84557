"""The Weibo spider against a replayed m.weibo.cn: search, timelines, long text, login wall."""

from __future__ import annotations

import copy
import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
from social_crawl import crawl, write_incident
from social_fixtures import FIXTURES

from spreadwatch.replay import ReplayServer, Reply, faults
from spreadwatch.replay.weibo import ABSOLUTE, WeiboData, WeiboReplay

COOKIE = {"SPREADWATCH_WEIBO_COOKIE": "SUB=_2A25replay; SUBP=0033WrSX"}
RUMOUR, LONG, STATEMENT, REPOST = (f"weibo:509123456789000{n}" for n in range(1, 5))


def env(server: ReplayServer, **extra: str) -> dict[str, str]:
    return {"SPREADWATCH_WEIBO_BASE_URL": server.url, **extra}


def _incident(tmp_path: Path, **section: object) -> Path:
    return write_incident(tmp_path, {"weibo": {"terms": ["字节跳动"], **section}})


def serve(data: WeiboData | None = None, **options: bool) -> ReplayServer:
    return ReplayServer(WeiboReplay(data or WeiboData.load(FIXTURES / "weibo.json"), **options))


@pytest.fixture
def weibo() -> Iterator[ReplayServer]:
    with serve() as server:
        yield server


def test_search_finds_posts_reposts_and_their_originals(
    weibo: ReplayServer, tmp_path: Path
) -> None:
    result = crawl("weibo", _incident(tmp_path), tmp_path, **env(weibo, **COOKIE))
    assert sorted(set(result.ids())) == [RUMOUR, STATEMENT, REPOST]
    posts = result.by_id()
    assert posts[REPOST]["repost_of"] == STATEMENT
    assert posts[RUMOUR]["timestamp"].startswith("2024-10-18 02:15:00")
    (search,) = weibo.matching(path=r"getIndex")[:1]
    assert search.headers["referer"] == "https://m.weibo.cn/"
    assert search.query["containerid"] == "100103type=61&q=字节跳动"


def test_the_official_account_is_flagged_with_its_chinese_follower_count(
    weibo: ReplayServer, tmp_path: Path
) -> None:
    posts = crawl("weibo", _incident(tmp_path), tmp_path, **env(weibo, **COOKIE)).by_id()
    assert posts[STATEMENT]["author"]["official"] is True
    assert posts[STATEMENT]["author"]["followers"] == 63_350_000
    assert posts[RUMOUR]["author"]["official"] is False


def test_a_long_post_gets_its_full_text(weibo: ReplayServer, tmp_path: Path) -> None:
    posts = crawl("weibo", _incident(tmp_path, terms=["JusticeFighter110"]), tmp_path, **env(weibo, **COOKIE)).by_id()  # fmt: skip
    assert posts[LONG]["text"].endswith("真假待官方回应。")
    assert weibo.count(path=r"^/statuses/extend$") == 1


def test_watched_user_timelines_are_read(weibo: ReplayServer, tmp_path: Path) -> None:
    incident = _incident(tmp_path, search=False, users=["1400854834"])
    result = crawl("weibo", incident, tmp_path, **env(weibo, **COOKIE))
    assert result.ids() == [STATEMENT]


@pytest.mark.parametrize(
    ("options", "extra_env"),
    [({}, {}), ({"expired": True}, COOKIE)],
    ids=["no-cookie-432", "expired-ok-minus-100"],
)
def test_the_login_wall_is_a_clear_counted_error(tmp_path: Path, options: dict[str, bool], extra_env: dict[str, str]) -> None:  # fmt: skip
    with serve(**options) as server:
        result = crawl("weibo", _incident(tmp_path, users=["1400854834"]), tmp_path, **env(server, **extra_env))  # fmt: skip
    assert result.items == []
    assert result.stat("refused/cookie_missing_or_expired") == 2
    assert result.stats["finish_reason"] == "finished"


def test_relative_chinese_times_are_read_as_the_moment_they_name(tmp_path: Path) -> None:
    data = WeiboData.load(FIXTURES / "weibo.json")
    recent = (datetime.now(UTC) - timedelta(minutes=5)).astimezone().strftime(ABSOLUTE)
    data.mblogs[0]["created_at"] = recent
    with serve(data) as server:
        result = crawl(
            "weibo", _incident(tmp_path, terms=["传言"]), tmp_path, **env(server, **COOKIE)
        )
    (post,) = result.items
    seen = datetime.fromisoformat(post["timestamp"])
    assert abs(seen - datetime.strptime(recent, ABSOLUTE)) < timedelta(minutes=2)


def test_pages_are_followed_until_the_end_marker(tmp_path: Path) -> None:
    data = WeiboData.load(FIXTURES / "weibo.json")
    base = data.mblogs[2]
    for n in range(15):
        data.mblogs.append({**base, "id": f"50912345678{n:05d}", "mid": f"50912345678{n:05d}"})
    with serve(data) as server:
        result = crawl(
            "weibo", _incident(tmp_path, terms=["回应"]), tmp_path, **env(server, **COOKIE)
        )
        pages = [r.query.get("page", "1") for r in server.matching(path=r"getIndex")]
    assert pages == ["1", "2", "3"]
    assert len(set(result.ids())) == 17


def test_a_run_stopped_by_max_pages_leaves_the_since_value_for_the_next_to_read_below(
    tmp_path: Path,
) -> None:
    """25 new posts, 10 a page: the first run reads one page (max_pages 1) and says so; the
    next, with max_pages raised, reads down to the window's start, not from the newest."""
    data = WeiboData.load(FIXTURES / "weibo.json")
    base = data.mblogs[2]
    start = datetime(2024, 10, 20, tzinfo=UTC)
    flood = [f"50912345678{n:05d}" for n in range(25)]
    for n, mid in enumerate(flood):
        created = (start + timedelta(minutes=n)).astimezone(timezone(timedelta(hours=8)))
        data.mblogs.append({**base, "id": mid, "mid": mid, "created_at": created.strftime(ABSOLUTE)})  # fmt: skip
    with serve(data) as server:
        first = crawl("weibo", _incident(tmp_path, terms=["回应"], max_pages=1, refresh="1m"), tmp_path, **env(server, **COOKIE))  # fmt: skip
        second = crawl("weibo", _incident(tmp_path, terms=["回应"], max_pages=5, refresh="1m"), tmp_path, **env(server, **COOKIE))  # fmt: skip
    found = {f"weibo:{mid}" for mid in flood}
    assert (len(found & set(first.ids())), first.stat("weibo/capped")) == (10, 1)
    assert found <= set(first.ids()) | set(second.ids())


def test_a_capped_user_timeline_goes_on_by_since_id_at_the_next_run(tmp_path: Path) -> None:
    """25 new posts on a watched timeline, 10 a page, one page a run: each run goes on where
    the last one stopped (`since_id`), and three runs read them all."""
    data = WeiboData.load(FIXTURES / "weibo.json")
    uid = "1400854834"
    base = next(m for m in data.mblogs if f"weibo:{m['id']}" == STATEMENT)
    start = datetime(2024, 10, 20, tzinfo=UTC)
    flood = [f"50912345679{n:05d}" for n in range(25)]
    for n, mid in enumerate(flood):
        created = (start + timedelta(minutes=n)).astimezone(timezone(timedelta(hours=8)))
        data.mblogs.append({**base, "id": mid, "mid": mid, "created_at": created.strftime(ABSOLUTE)})  # fmt: skip
        data.timelines.setdefault(uid, []).append(mid)
    incident = _incident(tmp_path, search=False, users=[uid], max_pages=1, refresh="1m")
    with serve(data) as server:
        runs = [crawl("weibo", incident, tmp_path, **env(server, **COOKIE)) for _ in range(3)]
        asked = [r.query.get("since_id") for r in server.matching(path=r"getIndex")]
    assert asked == [None, "5091234567900015", "5091234567900005"]
    assert {f"weibo:{mid}" for mid in flood} <= set().union(*(r.ids() for r in runs))


@pytest.mark.parametrize("reply", [faults.garbage(), faults.truncated_json({"ok": 1})], ids=["garbage", "truncated"])  # fmt: skip
def test_unreadable_pages_are_counted_drops(
    weibo: ReplayServer, tmp_path: Path, reply: object
) -> None:
    weibo.script(r"getIndex", [reply])
    result = crawl("weibo", _incident(tmp_path), tmp_path, **env(weibo, **COOKIE))
    assert result.stat("dropped/bad_json") == 1 and result.items == []


def test_a_post_with_an_unknown_time_format_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    data = WeiboData.load(FIXTURES / "weibo.json")
    data.mblogs[0]["text"] += " 字节跳动"
    with serve(data) as server:
        server.app.render_time = lambda created, now: "很久以前"  # type: ignore[attr-defined]
        result = crawl("weibo", _incident(tmp_path), tmp_path, **env(server, **COOKIE))
    assert result.items == []
    assert result.stat("dropped/bad_record") == 3


def test_a_follower_count_of_a_changed_type_is_left_empty(tmp_path: Path) -> None:
    data = WeiboData.load(FIXTURES / "weibo.json")
    data.users["5981234567"]["followers_count"] = ["changed", "type"]
    with serve(data) as server:
        result = crawl("weibo", _incident(tmp_path), tmp_path, **env(server, **COOKIE))
    assert result.by_id()[RUMOUR]["author"]["followers"] is None


def test_a_418_throttle_is_counted_and_the_crawl_ends_cleanly(
    weibo: ReplayServer, tmp_path: Path
) -> None:
    teapot = faults.server_error(418, "")
    weibo.script(r"getIndex", [teapot])
    result = crawl("weibo", _incident(tmp_path), tmp_path, **env(weibo, **COOKIE))
    assert result.stat("refused/throttled_418") == 1
    assert result.items == [] and result.stats["finish_reason"] == "finished"


def test_a_repost_of_an_old_original_does_not_stop_paging(tmp_path: Path) -> None:
    """A repost embeds its original from before the window; only the page's own posts end paging."""
    fixture = WeiboData.load(FIXTURES / "weibo.json")
    uid = next(iter(fixture.users))
    now = datetime.now(UTC)
    old = {"id": "4000000000000001", "mid": "4000000000000001", "bid": "Old1", "user_id": uid,
           "created_at": datetime(2024, 10, 1, tzinfo=UTC).strftime(ABSOLUTE), "text": "旧闻：字节跳动",
           "reposts_count": 1, "comments_count": 0, "attitudes_count": 0}  # fmt: skip
    fresh = [
        {"id": f"50{n:014d}", "mid": f"50{n:014d}", "bid": f"New{n}", "user_id": uid,
         "created_at": (now - timedelta(minutes=5 * n + 1)).strftime(ABSOLUTE),
         "text": f"字节跳动 实习生 传闻 第{n}条", "reposts_count": n, "comments_count": 0,
         "attitudes_count": 0, **({"retweeted_id": old["id"]} if n == 1 else {})}
        for n in range(15)
    ]  # fmt: skip
    data = WeiboData(users=fixture.users, mblogs=[old, *fresh], timelines={})
    with serve(data) as server:
        result = crawl("weibo", _incident(tmp_path), tmp_path, **env(server, **COOKIE))
        pages = {r.query.get("page") for r in server.matching(path=r"getIndex")}
        assert "2" in pages
    assert {f"weibo:{m['id']}" for m in fresh} <= set(result.ids())


def test_a_search_reads_the_real_time_tab_so_an_old_hit_does_not_end_it(tmp_path: Path) -> None:
    """Weibo's 综合 tab ranks a much-shared post from before the window first; the 实时 tab
    lists posts newest first, so every post of the window is read before an old one."""
    fixture = WeiboData.load(FIXTURES / "weibo.json")
    uid = next(iter(fixture.users))
    now = datetime.now(UTC)
    viral = {"id": "4000000000000002", "mid": "4000000000000002", "bid": "Viral", "user_id": uid,
             "created_at": datetime(2024, 10, 1, tzinfo=UTC).strftime(ABSOLUTE),
             "text": "字节跳动 旧闻", "reposts_count": 90_000, "comments_count": 5_000,
             "attitudes_count": 200_000}  # fmt: skip
    fresh = [
        {"id": f"51{n:014d}", "mid": f"51{n:014d}", "bid": f"Fresh{n}", "user_id": uid,
         "created_at": (now - timedelta(minutes=7 * n + 1)).strftime(ABSOLUTE),
         "text": f"字节跳动 实习生 第{n}条", "reposts_count": n, "comments_count": 0,
         "attitudes_count": 0}
        for n in range(25)
    ]  # fmt: skip
    data = WeiboData(users=fixture.users, mblogs=[viral, *fresh], timelines={})
    with serve(data) as server:
        result = crawl("weibo", _incident(tmp_path), tmp_path, **env(server, **COOKIE))
    assert {f"weibo:{m['id']}" for m in fresh} <= set(result.ids())
    assert "weibo:4000000000000002" not in result.ids()


@pytest.mark.parametrize(
    ("tab", "first"),
    [("61", "weibo:51000000000000000"), ("1", "weibo:4000000000000002")],
    ids=["real-time-newest-first", "mixed-most-shared-first"],
)
def test_the_replayed_search_tabs_order_as_weibo_does(tab: str, first: str) -> None:
    fixture = WeiboData.load(FIXTURES / "weibo.json")
    uid = next(iter(fixture.users))
    now = datetime.now(UTC)
    posts = [
        {"id": "4000000000000002", "mid": "4000000000000002", "bid": "Viral", "user_id": uid,
         "created_at": (now - timedelta(days=20)).strftime(ABSOLUTE), "text": "字节跳动",
         "reposts_count": 900, "comments_count": 0, "attitudes_count": 0},
        {"id": "51000000000000000", "mid": "51000000000000000", "bid": "New", "user_id": uid,
         "created_at": (now - timedelta(minutes=3)).strftime(ABSOLUTE), "text": "字节跳动",
         "reposts_count": 0, "comments_count": 0, "attitudes_count": 0},
    ]  # fmt: skip
    with serve(WeiboData(users=fixture.users, mblogs=posts, timelines={})) as server:
        query = urlencode({"containerid": f"100103type={tab}&q=字节跳动", "page_type": "searchall"})
        request = urllib.request.Request(
            f"{server.url}/api/container/getIndex?{query}",
            headers={
                "Cookie": COOKIE["SPREADWATCH_WEIBO_COOKIE"],
                "Referer": "https://m.weibo.cn/",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            reply = json.load(answer)
    (group,) = reply["data"]["cards"]
    assert f"weibo:{group['card_group'][0]['mblog']['id']}" == first


def test_a_card_of_an_unknown_type_is_a_counted_drop_and_the_posts_stay(tmp_path: Path) -> None:
    """A silently skipped card is how a changed page format goes unnoticed."""
    data = WeiboData.load(FIXTURES / "weibo.json")
    mblog = copy.deepcopy(next(m for m in data.mblogs if f"weibo:{m['id']}" == RUMOUR))
    mblog["user"] = data.users[mblog.pop("user_id")]
    mblog.pop("long_text", None)
    cards = [{"card_type": 9, "mblog": mblog}, {"card_type": 131, "itemid": "new-widget"}]
    with serve(data) as server:
        server.script(r"getIndex", [Reply.json({"ok": 1, "data": {"cards": cards}})])
        result = crawl("weibo", _incident(tmp_path), tmp_path, **env(server, **COOKIE))
    assert result.stat("dropped/unknown_card") == 1
    assert RUMOUR in result.ids()


@pytest.mark.parametrize("info", [None, [], "x"], ids=["null", "list", "text"])
def test_a_page_whose_cardlist_info_is_not_an_object_still_pages_on(
    tmp_path: Path, info: object
) -> None:
    data = WeiboData.load(FIXTURES / "weibo.json")
    mblog = copy.deepcopy(next(m for m in data.mblogs if f"weibo:{m['id']}" == RUMOUR))
    mblog["user"] = data.users[mblog.pop("user_id")]
    mblog.pop("long_text", None)
    page = {"ok": 1, "data": {"cardlistInfo": info, "cards": [{"card_type": 9, "mblog": mblog}]}}
    with serve(data) as server:
        server.script(r"getIndex", [Reply.json(page)])
        result = crawl("weibo", _incident(tmp_path), tmp_path, **env(server, **COOKIE))
        second = server.matching(path=r"getIndex")[1:]
    assert RUMOUR in result.ids()
    assert [r.query.get("page") for r in second] == ["2"]
    assert "spider_exceptions/count" not in result.stats
