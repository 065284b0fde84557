"""Weibo's absolute and relative Chinese times are read as Beijing time and stored in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.parsers import ParseError
from crawlers.parsers.weibo_time import parse_count, parse_weibo_time

# Saturday 19 Oct 2024, 10:30 in Beijing: the morning ByteDance answered the rumour.
NOW = datetime(2024, 10, 19, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        ("Tue Feb 23 12:28:47 +0800 2021", datetime(2021, 2, 23, 4, 28, 47, tzinfo=UTC)),
        ("Fri Oct 18 23:05:00 +0800 2024", datetime(2024, 10, 18, 15, 5, tzinfo=UTC)),
        ("刚刚", NOW),
        ("30秒前", datetime(2024, 10, 19, 2, 29, 30, tzinfo=UTC)),
        ("5分钟前", datetime(2024, 10, 19, 2, 25, tzinfo=UTC)),
        ("3小时前", datetime(2024, 10, 18, 23, 30, tzinfo=UTC)),
        ("今天 08:15", datetime(2024, 10, 19, 0, 15, tzinfo=UTC)),
        ("昨天 12:00", datetime(2024, 10, 18, 4, 0, tzinfo=UTC)),
        ("前天 23:59", datetime(2024, 10, 17, 15, 59, tzinfo=UTC)),
        ("10-18", datetime(2024, 10, 17, 16, 0, tzinfo=UTC)),
        ("10-18 09:41", datetime(2024, 10, 18, 1, 41, tzinfo=UTC)),
        ("2023-10-18", datetime(2023, 10, 17, 16, 0, tzinfo=UTC)),
        ("2023-10-18 09:41:05", datetime(2023, 10, 18, 1, 41, 5, tzinfo=UTC)),
    ],
)
def test_weibo_times_are_converted_to_utc(created_at: str, expected: datetime) -> None:
    assert parse_weibo_time(created_at, NOW) == expected


def test_a_month_day_later_than_today_is_from_last_year() -> None:
    assert parse_weibo_time("12-31", NOW) == datetime(2023, 12, 30, 16, 0, tzinfo=UTC)


def test_yesterday_crosses_midnight_in_beijing_not_in_utc() -> None:
    # 00:30 on 20 Oct in Beijing is still 19 Oct in UTC; "yesterday" is the 19th in Beijing.
    just_after_midnight = datetime(2024, 10, 19, 16, 30, tzinfo=UTC)
    assert parse_weibo_time("昨天 12:00", just_after_midnight) == datetime(
        2024, 10, 19, 4, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("garbage", ["", "   ", "不久以前", "13-45", "25:00", "Tue Feb 30 +0800"])
def test_unknown_or_impossible_times_are_parse_errors(garbage: str) -> None:
    with pytest.raises(ParseError, match="created_at"):
        parse_weibo_time(garbage, NOW)


def test_a_non_string_time_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="expected text"):
        parse_weibo_time(1729300000, NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1234, 1234),
        ("1234", 1234),
        ("12,345", 12345),
        ("6335万", 63_350_000),
        ("1.2万", 12_000),
        ("3.5亿", 350_000_000),
        ("100万+", 1_000_000),
        ("", None),
        ("很多", None),
        (None, None),
        (True, None),
        ([1], None),
        (float("inf"), None),
        (float("nan"), None),
        (12.0, 12),
        ("9" * 400, None),
    ],
)
def test_follower_counts_are_read_with_chinese_units(raw: object, expected: int | None) -> None:
    assert parse_count(raw) == expected
