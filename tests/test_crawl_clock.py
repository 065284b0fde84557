"""When a crawl says it saw something: the real time, or the moment `SPREADWATCH_CRAWL_AS_OF` names.

A real GitHub crawl (`crawlers.run`, the real spider, pipelines and node, a replay of GitHub)
stamps every post it indexes — `first_seen`, `last_seen` — and every response it archives —
`evidence.captured_at`, the WARC record's date and its day file — with the time it ran. With
`SPREADWATCH_CRAWL_AS_OF` (the demo's simulated moment) that time is the one given, to the
second; without it, the wall clock's, between the moments before and after the crawl.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from github_fixture import CONFESSION, T0, founding_world
from replay_helpers import SettableClock, write_incident

from spreadwatch.replay import ReplayServer
from spreadwatch.replay.github import GithubReplay
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
