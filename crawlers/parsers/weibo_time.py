"""Weibo's times and counts as the mobile API shows them, made exact.

m.weibo.cn writes `created_at` as an absolute RFC-2822-like time (`Tue Feb 23 12:28:47 +0800
2021`) for old posts but relative Chinese phrases for recent ones (`刚刚`, `5分钟前`, `3小时前`,
`昨天 12:00`, `今天 08:15`, `10-18`, `2023-10-18`), always meant in Beijing time. Relative
phrases only make sense against the moment of the crawl, so `now` is a parameter.
Follower counts arrive as ints or strings like `"6335万"` or `"1.2亿"`.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crawlers.parsers.common import ParseError, opt_int

BEIJING = ZoneInfo("Asia/Shanghai")

_ABSOLUTE = "%a %b %d %H:%M:%S %z %Y"
_AGO = re.compile(r"^(\d+)\s*(秒|分钟|小时|天)前$")
_AGO_UNITS = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days"}
_DAY_CLOCK = re.compile(r"^(今天|昨天|前天)\s*(\d{1,2}):(\d{2})$")
_DAY_OFFSETS = {"今天": 0, "昨天": 1, "前天": 2}
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_FULL_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_COUNT = re.compile(r"^(\d+(?:\.\d+)?)\s*(万|亿|w|W|k|K)?\+?$")
_MULTIPLIERS = {"万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "k": 1000, "K": 1000}


def parse_weibo_time(value: str, now: datetime) -> datetime:
    """The UTC moment a Weibo `created_at` names, relative phrases read against `now`.

    Raises `ParseError` on anything else, so a new format shows up as a counted drop.
    """
    if not isinstance(value, str) or not value.strip():
        raise ParseError(f"weibo created_at: expected text, got {value!r:.80}")
    text = value.strip()
    local_now = _aware(now).astimezone(BEIJING)
    for parse in (_absolute, _just_now, _ago, _day_clock, _full_date, _month_day):
        result = parse(text, local_now)
        if result is not None:
            return result.astimezone(UTC)
    raise ParseError(f"weibo created_at: unknown time format {text!r:.80}")


def parse_count(value: object) -> int | None:
    """`6335万` → 63,350,000; `1.2亿` → 120,000,000; ints pass; unreadable → None."""
    if not isinstance(value, str):
        return opt_int(value)
    match = _COUNT.match(value.strip().replace(",", ""))
    if not match:
        return None
    number, unit = match.groups()
    counted = float(number) * _MULTIPLIERS.get(unit or "", 1)
    return round(counted) if math.isfinite(counted) else None  # 400 nines: no count at all


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _absolute(text: str, _now: datetime) -> datetime | None:
    try:
        return datetime.strptime(text, _ABSOLUTE)
    except ValueError:
        return None


def _just_now(text: str, now: datetime) -> datetime | None:
    return now if text == "刚刚" else None


def _ago(text: str, now: datetime) -> datetime | None:
    match = _AGO.match(text)
    if not match:
        return None
    return now - timedelta(**{_AGO_UNITS[match.group(2)]: int(match.group(1))})


def _day_clock(text: str, now: datetime) -> datetime | None:
    match = _DAY_CLOCK.match(text)
    if not match:
        return None
    day = now - timedelta(days=_DAY_OFFSETS[match.group(1)])
    return _at(day.year, day.month, day.day, match.group(2), match.group(3), text=text)


def _month_day(text: str, now: datetime) -> datetime | None:
    """`10-18`: this year's date, or last year's when that would lie in the future."""
    match = _MONTH_DAY.match(text)
    if not match:
        return None
    month, day, hour, minute = match.groups()
    result = _at(now.year, int(month), int(day), hour or "0", minute or "0", text=text)
    if result > now + timedelta(days=1):
        result = _at(now.year - 1, int(month), int(day), hour or "0", minute or "0", text=text)
    return result


def _full_date(text: str, _now: datetime) -> datetime | None:
    match = _FULL_DATE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second = match.groups()
    moment = _at(int(year), int(month), int(day), hour or "0", minute or "0", text=text)
    return moment.replace(second=int(second or 0))


def _at(year: int, month: int, day: int, hour: str, minute: str, *, text: str) -> datetime:
    try:
        return datetime(year, month, day, int(hour), int(minute), tzinfo=BEIJING)
    except ValueError:
        raise ParseError(f"weibo created_at: impossible date {text!r}") from None
