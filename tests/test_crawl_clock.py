"""When a crawl says it saw something: the real time, or the moment `SPREADWATCH_CRAWL_AS_OF` names.

A real GitHub crawl (`crawlers.run`, the real spider, pipelines and node, a replay of GitHub)
stamps every post it indexes — `first_seen`, `last_seen` — and every response it archives —
`evidence.captured_at`, the WARC record's date and its day file — with the time it ran. With
`SPREADWATCH_CRAWL_AS_OF` (the demo's simulated moment) that time is the one given, to the
second; without it, the wall clock's, between the moments before and after the crawl. What a
crawl judges against its "now" — when a followed repository expires, where a search window
ends, a Weibo time re-read as `5分钟前` — is that same moment.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import social_crawl
from github_fixture import CONFESSION, T0, founding_world
from replay_helpers import SettableClock, write_incident
from social_fixtures import FIXTURES
from spider_harness import run_spider

from crawlers.github.follow import PREFIX
from crawlers.state import CrawlState, FileStateStore
from evidence.recheck import targets_path, write_targets
from spreadwatch.replay import ReplayServer
from spreadwatch.replay.github import GithubReplay
from spreadwatch.replay.hackernews import HackerNewsData, HackerNewsReplay
from spreadwatch.replay.weibo import ABSOLUTE, WeiboData, WeiboReplay
from spreadwatch.settings import SettingsError, load_settings

pytest_plugins = ["conftest_crawl"]

SOURCES = {"github": {"repos": [CONFESSION], "users": ["JusticeFighter110"], "terms": ["ByteDance intern"]}}  # fmt: skip
#: The replay's moment, and so the crawl's when it happens "as of" it: two days into the story.
AS_OF = T0 + timedelta(days=2, minutes=17, seconds=5)


@pytest.fixture
def github() -> Iterator[ReplayServer]:
    world = founding_world(stars=3, mirrors=1)
    with ReplayServer(GithubReplay(world), clock=SettableClock(AS_OF)) as server:
        yield server


def _crawl(crawl_runner, crawl_env, tmp_path: Path, github: ReplayServer, **env: str):  # type: ignore[no-untyped-def]
    incident = write_incident(tmp_path, SOURCES)
    env = {**crawl_env, "SPREADWATCH_GITHUB_BASE_URL": github.url, **env}
    result = crawl_runner(env, "--incident", str(incident), "--source", "github")
    assert result.code == 0, result.stderr[-3000:]
    return result


def _at(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _warc_dates(data_dir: Path) -> dict[str, set[datetime]]:
    """The WARC-Date of every record, by day file name, read from the files themselves."""
    dates: dict[str, set[datetime]] = {}
    for path in sorted((data_dir / "evidence").glob("*/*.warc.gz")):
        text = gzip.decompress(path.read_bytes()).decode("latin-1")
        found = {_at(line.split(":", 1)[1].strip()) for line in text.splitlines() if line.startswith("WARC-Date:")}  # fmt: skip
        dates[path.name] = found
    return dates


def test_a_crawl_as_of_a_moment_stamps_that_moment(
    crawl_runner, crawl_env, tmp_path: Path, github: ReplayServer, stored_posts
) -> None:
    _crawl(crawl_runner, crawl_env, tmp_path, github, SPREADWATCH_CRAWL_AS_OF=AS_OF.isoformat())
    posts = stored_posts()
    assert f"github:{CONFESSION.lower()}:readme" in posts
    for doc_id, post in posts.items():
        assert (_at(post["first_seen"]), _at(post["last_seen"])) == (AS_OF, AS_OF), doc_id
    captured = {_at(p["evidence"]["captured_at"]) for p in posts.values() if p.get("evidence")}
    assert captured == {AS_OF}
    data_dir = Path(crawl_env["SPREADWATCH_DATA_DIR"])
    assert _warc_dates(data_dir) == {f"{AS_OF:%Y-%m-%d}.warc.gz": {AS_OF}}


def test_a_crawl_without_it_stamps_the_real_time(
    crawl_runner, crawl_env, tmp_path: Path, github: ReplayServer, stored_posts
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    _crawl(crawl_runner, crawl_env, tmp_path, github)
    after = datetime.now(UTC)
    posts = stored_posts()
    assert posts
    stamps = [_at(p[f]) for p in posts.values() for f in ("first_seen", "last_seen")]
    stamps += [_at(p["evidence"]["captured_at"]) for p in posts.values() if p.get("evidence")]
    assert all(before <= stamp <= after for stamp in stamps), (before, sorted(stamps), after)
    warcs = _warc_dates(Path(crawl_env["SPREADWATCH_DATA_DIR"]))
    assert all(before <= d <= after for dates in warcs.values() for d in dates)


@pytest.mark.parametrize(
    ("value", "said"),
    [("2024-10-19T12:00:00", "needs a time zone"), ("yesterday", "valid datetime")],
)
def test_a_moment_without_its_zone_or_not_a_time_is_refused_naming_the_variable(
    value: str, said: str
) -> None:
    with pytest.raises(SettingsError, match=f"SPREADWATCH_CRAWL_AS_OF: .*{said}"):
        load_settings(crawl_as_of=value)


def test_the_moment_is_read_in_utc() -> None:
    settings = load_settings(crawl_as_of="2024-10-19T20:00:00+08:00")
    assert settings.crawl_as_of == datetime(2024, 10, 19, 12, tzinfo=UTC)
    assert settings.crawl_as_of.utcoffset() == timedelta(0)


# What a crawl judges against "now" is judged against the same moment it stamps: a replay of
# October 2024 must not read its story against the wall-clock date.


def _follow(name: str, last_match: datetime) -> dict[str, Any]:
    since = last_match - timedelta(days=30)
    return {"name": name, "reason": "matched", "keep_all": False, "since": since.isoformat(), "last_match": last_match.isoformat()}  # fmt: skip


def test_a_followed_repo_expires_by_the_crawls_moment(tmp_path: Path, github: ReplayServer) -> None:
    """Followed 14 days without a match expires (`follow_expiry`): 13 days before the crawl's
    moment is still followed, 15 days before is pruned."""
    work = tmp_path / "work"
    state = CrawlState()
    state.set_extra(PREFIX + "forker0/confession", _follow("forker0/confession", AS_OF - timedelta(days=13)))  # fmt: skip
    state.set_extra(PREFIX + "forker1/confession", _follow("forker1/confession", AS_OF - timedelta(days=15)))  # fmt: skip
    store = FileStateStore(work / "data")
    store.commit("test-case", "github", state.take_loose())
    env = {"SPREADWATCH_GITHUB_BASE_URL": github.url, "SPREADWATCH_CRAWL_AS_OF": AS_OF.isoformat()}
    run_spider("github", write_incident(tmp_path, SOURCES), work, env)
    assert github.count(path=r"^/repos/forker0/confession/events$") == 1
    assert github.count(path=r"^/repos/forker1/confession") == 0
    extra = store.load("test-case", "github").extra
    assert PREFIX + "forker0/confession" in extra
    assert PREFIX + "forker1/confession" not in extra


def test_a_social_search_ends_at_the_crawls_moment(tmp_path: Path) -> None:
    """An incident still open searches up to "now": the crawl's moment, not today."""
    data = HackerNewsData.load(FIXTURES / "hackernews.json")
    incident = social_crawl.write_incident(tmp_path, {"hackernews": {"terms": ["bytedance"], "comment_trees": False}})  # fmt: skip
    with ReplayServer(HackerNewsReplay(data), clock=SettableClock(AS_OF)) as algolia:
        social_crawl.crawl("hackernews", incident, tmp_path, SPREADWATCH_HACKERNEWS_BASE_URL=algolia.url, SPREADWATCH_CRAWL_AS_OF=AS_OF.isoformat())  # fmt: skip
        searches = algolia.matching(path=r"search_by_date")
    assert searches
    for search in searches:
        assert search.query["numericFilters"].endswith(f",created_at_i<{int(AS_OF.timestamp())}")


def test_a_weibo_recheck_reads_minutes_ago_before_the_crawls_moment(tmp_path: Path) -> None:
    """Weibo writes a post of five minutes ago as `5分钟前`: a re-check as of a moment reads it
    as five minutes before that moment, as the Weibo spider does."""
    data = WeiboData.load(FIXTURES / "weibo.json")
    mblog = data.mblogs[0]
    mblog["created_at"] = (AS_OF - timedelta(minutes=5)).strftime(ABSOLUTE)
    incident = social_crawl.write_incident(tmp_path, {})
    target = {"platform": "weibo", "native_id": str(mblog["id"]), "kind": "post"}
    write_targets(targets_path(tmp_path / "data", "bytedance-test"), [target])
    with ReplayServer(WeiboReplay(data), clock=SettableClock(AS_OF)) as weibo:
        env = {
            "SPREADWATCH_WEIBO_BASE_URL": weibo.url,
            "SPREADWATCH_WEIBO_COOKIE": "SUB=_2A25replay; SUBP=0033WrSX",
            "SPREADWATCH_CRAWL_AS_OF": AS_OF.isoformat(),
        }
        result = social_crawl.crawl("recheck", incident, tmp_path, **env)
        (show,) = weibo.matching(path=r"^/statuses/show$")
    assert (show.status, show.query["id"]) == (200, mblog["id"])
    (post,) = result.items
    assert datetime.fromisoformat(post["timestamp"]) == AS_OF - timedelta(minutes=5)
