"""The Telegram spider against replayed channel previews: pages, views, official channels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from social_crawl import crawl, write_incident
from social_fixtures import FIXTURES

from spreadwatch.replay import ReplayServer, faults
from spreadwatch.replay.telegram import TelegramData, TelegramReplay


def data() -> TelegramData:
    return TelegramData.load(FIXTURES / "telegram.json")


@pytest.fixture
def telegram() -> Iterator[ReplayServer]:
    with ReplayServer(TelegramReplay(data())) as server:
        yield server


def _incident(tmp_path: Path, channels: list[str], **section: object) -> Path:
    return write_incident(tmp_path, {"telegram": {"channels": channels, **section}})


def run(server: ReplayServer, tmp_path: Path, channels: list[str], **section: object):  # type: ignore[no-untyped-def]
    return crawl("telegram", _incident(tmp_path, channels, **section), tmp_path, SPREADWATCH_TELEGRAM_BASE_URL=server.url)  # fmt: skip


def test_channel_messages_in_the_window_are_read_with_views_and_relations(telegram: ReplayServer, tmp_path: Path) -> None:  # fmt: skip
    result = run(telegram, tmp_path, ["aifrontline"])
    assert result.ids() == [
        "telegram:aifrontline/1201",
        "telegram:aifrontline/1202",
    ]  # 1190 is before the window
    denial = result.by_id()["telegram:aifrontline/1202"]
    assert denial["engagement"]["views"] == 3_100_000
    assert denial["repost_of"] == "telegram:technews_cn/8841"
    assert denial["reply_to"] == "telegram:aifrontline/1201"
    assert "<script>" not in denial["text"] and "alert" not in denial["text"]


def test_an_official_channel_is_flagged(telegram: ReplayServer, tmp_path: Path) -> None:
    (statement,) = run(telegram, tmp_path, ["bytedance_official"]).items
    assert statement["author"]["official"] is True


def test_older_pages_are_fetched_with_before(tmp_path: Path) -> None:
    many = data()
    messages = many.channels["aifrontline"]["messages"]
    for n in range(45):
        messages.append({"id": 1300 + n, "datetime": f"2024-10-20T{n // 60:02d}:{n % 60:02d}:00+00:00", "views": "10", "html": f"update {n}"})  # fmt: skip
    with ReplayServer(TelegramReplay(many)) as server:
        result = run(server, tmp_path, ["aifrontline"])
        befores = [r.query.get("before") for r in server.matching(path=r"^/s/aifrontline")]
    assert befores == [None, "1325", "1305"]
    assert len(result.ids()) == 47


def test_a_run_stopped_by_max_pages_leaves_the_since_value_for_the_next_to_read_below(
    tmp_path: Path,
) -> None:
    """45 new messages, 20 a page, one page a run: the first run reads 20 and says so; the
    next goes on below them (`before`), not from the newest; the third finishes the walk."""
    many = data()
    messages = many.channels["aifrontline"]["messages"]
    for n in range(45):
        messages.append({"id": 1300 + n, "datetime": f"2024-10-20T{n // 60:02d}:{n % 60:02d}:00+00:00", "views": "10", "html": f"update {n}"})  # fmt: skip
    with ReplayServer(TelegramReplay(many)) as server:
        runs = [run(server, tmp_path, ["aifrontline"], max_pages=1, refresh="1m") for _ in range(3)]  # fmt: skip
        befores = [r.query.get("before") for r in server.matching(path=r"^/s/aifrontline")]
    assert (len(runs[0].ids()), runs[0].stat("telegram/capped")) == (20, 1)
    assert befores == [None, "1325", "1305"]  # each run goes on where the last one stopped
    assert len(set().union(*(r.ids() for r in runs))) == 47


def test_a_channel_without_a_public_preview_is_reported(
    telegram: ReplayServer, tmp_path: Path
) -> None:
    result = run(telegram, tmp_path, ["no_such_channel"])
    assert result.items == []
    assert result.stat("telegram/no_preview") == 1


def test_a_second_run_starts_from_the_newest_message_minus_refresh(
    telegram: ReplayServer, tmp_path: Path
) -> None:
    run(telegram, tmp_path, ["aifrontline"], refresh="1h")
    again = run(telegram, tmp_path, ["aifrontline"], refresh="1h")
    assert again.ids() == ["telegram:aifrontline/1202"]


@pytest.mark.parametrize("reply", [faults.garbage("text/html"), faults.server_error(404, "Not Found")], ids=["garbage", "404"])  # fmt: skip
def test_unreadable_pages_give_nothing_and_do_not_crash(
    telegram: ReplayServer, tmp_path: Path, reply: object
) -> None:
    telegram.script(r"^/s/aifrontline", [reply])
    result = run(telegram, tmp_path, ["aifrontline"])
    assert result.items == []
    assert result.stats["finish_reason"] == "finished"


def test_a_message_with_a_changed_time_format_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    changed = data()
    changed.channels["aifrontline"]["messages"][1]["time_attr"] = "18 Oct 16:45"
    with ReplayServer(TelegramReplay(changed)) as server:
        result = run(server, tmp_path, ["aifrontline"])
    assert result.ids() == ["telegram:aifrontline/1202"]
    assert result.stat("dropped/bad_record") == 1


def test_a_saved_walk_that_reached_the_channels_first_message_ends_and_newer_ones_are_read(
    tmp_path: Path,
) -> None:
    """A channel opened for the incident, 40 messages, one page a run: the second run's page
    ends at message 1 and is capped there, so the third goes on with `before=1` and finds no
    older message. That is the end of the walk, not a channel without a preview: the saved
    walk goes, and the fourth run reads what was posted meanwhile (it asked `before=1` again,
    for good, and never read anything newer)."""
    many = data()
    burst = [{"id": n, "datetime": f"2024-10-20T10:{n:02d}:00+00:00", "views": "10", "html": f"update {n}"} for n in range(1, 41)]  # fmt: skip
    many.channels["burstnews"] = {"title": "Burst news", "messages": burst}
    with ReplayServer(TelegramReplay(many)) as server:
        runs = [run(server, tmp_path, ["burstnews"], max_pages=1, refresh="1m") for _ in range(3)]  # fmt: skip
        burst += [{"id": n, "datetime": f"2024-10-21T10:{n:02d}:00+00:00", "views": "10", "html": f"later {n}"} for n in range(41, 46)]  # fmt: skip
        later = run(server, tmp_path, ["burstnews"], max_pages=1, refresh="1m")
        befores = [r.query.get("before") for r in server.matching(path=r"^/s/burstnews")]
    assert befores == [None, "21", "1", None]
    assert runs[2].stat("telegram/no_preview") == 0
    assert len(set().union(*(r.ids() for r in runs))) == 40
    assert {f"telegram:burstnews/{n}" for n in range(41, 46)} <= set(later.ids())
