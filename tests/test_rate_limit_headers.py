"""Rate-limit headers as the platforms send them, and as a broken proxy might: a budget the
middleware can pace by, or unknown — never a crash, never a wait of forever."""

from __future__ import annotations

import pytest
from scrapy.http import Request, Response

from crawlers.ratelimit_headers import Budget, budget, header_number, reset_seconds, retry_after

#: The wall clock the replies below are read at: 2024-10-19T06:00:00Z.
NOW = 1729317600.0


@pytest.mark.parametrize(
    ("header", "number"),
    [
        (b"12", 12.0),
        (b"0.4", 0.4),
        (b"-3", -3.0),
        ("7", 7.0),
        (b"inf", None),
        (b"-inf", None),
        (b"nan", None),
        (b"1e999", None),
        (b"soon", None),
        (None, None),
    ],
)
def test_a_rate_limit_header_is_a_finite_number_or_unknown(
    header: bytes | str | None, number: float | None
) -> None:
    assert header_number(header) == number


def _reply(status: int = 200, **headers: str) -> Response:
    url = "https://api.example/x"
    return Response(url, status=status, headers=headers, request=Request(url))


@pytest.mark.parametrize(
    ("headers", "told"),
    [
        ({"ratelimit-remaining": "2", "ratelimit-reset": str(int(NOW))}, Budget(2, 0.0)),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) - 1)}, None),
    ],
    ids=["passed-under-a-second", "passed-a-second-ago"],
)
def test_an_epoch_reset_rounded_down_still_counts_for_a_second(
    headers: dict[str, str], told: Budget | None
) -> None:
    """Epoch resets are whole seconds, rounded down: at 0.5 s past the announced second the
    window may still run, so its budget is kept (the middleware holds past it by its margin)."""
    assert budget(_reply(**headers), now=NOW + 0.5) == told


@pytest.mark.parametrize(
    ("headers", "told"),
    [
        (
            {
                "x-ratelimit-remaining": "4987",
                "x-ratelimit-reset": str(int(NOW) + 1200),
                "x-ratelimit-resource": "core",
            },
            Budget(4987, 1200.0),
        ),
        (
            {"X-Ratelimit-Used": "4", "X-Ratelimit-Remaining": "596.0", "X-Ratelimit-Reset": "341"},
            Budget(596, 341.0),
        ),
        (
            {"X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "12"},
            Budget(0, 12.0),
        ),
        (
            {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "299",
                "X-RateLimit-Reset": "2024-10-19T06:05:00.000Z",
            },
            Budget(299, 300.0),
        ),
        (
            {"X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "2024-10-19T06:00:30.019685Z"},
            Budget(7, 30.019685),
        ),
        (
            {"X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "2024-10-19T06:01:00"},
            Budget(7, 60.0),  # no offset: UTC, as everywhere the parsers read times
        ),
        (
            {
                "ratelimit-limit": "3000",
                "ratelimit-remaining": "2999",
                "ratelimit-reset": str(int(NOW) + 300),
                "ratelimit-policy": "3000;w=300",
            },
            Budget(2999, 300.0),
        ),
        (
            {"RateLimit-Limit": "100", "RateLimit-Remaining": "50", "RateLimit-Reset": "30"},
            Budget(50, 30.0),
        ),
    ],
    ids=[
        "github-epoch",
        "reddit-seconds",
        "reddit-spent",
        "mastodon-iso",
        "mastodon-iso-microseconds",
        "mastodon-iso-no-offset",
        "bluesky-epoch",
        "ietf-draft-seconds",
    ],
)
def test_each_platforms_budget_is_read_as_requests_left_and_seconds_to_the_reset(
    headers: dict[str, str], told: Budget
) -> None:
    read = budget(_reply(**headers), now=NOW)
    assert read is not None
    assert read.remaining == told.remaining
    assert read.reset_in == pytest.approx(told.reset_in)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-ratelimit-remaining": "10"},
        {"x-ratelimit-reset": "30"},
        {"x-ratelimit-remaining": "inf", "x-ratelimit-reset": "30"},
        {"x-ratelimit-remaining": "nan", "x-ratelimit-reset": "30"},
        {"x-ratelimit-remaining": "-1", "x-ratelimit-reset": "30"},
        {"x-ratelimit-remaining": "many", "x-ratelimit-reset": "30"},
        {"x-ratelimit-remaining": "10", "x-ratelimit-reset": "inf"},
        {"x-ratelimit-remaining": "10", "x-ratelimit-reset": "nan"},
        {"x-ratelimit-remaining": "10", "x-ratelimit-reset": "1e999"},
        {"x-ratelimit-remaining": "10", "x-ratelimit-reset": "-5"},
        {"x-ratelimit-remaining": "10", "x-ratelimit-reset": "soon"},
        {"x-ratelimit-remaining": "10", "x-ratelimit-reset": str(int(NOW) - 60)},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2024-10-19T05:55:00.000Z"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9999-12-31T23:59:00-01:00"},
        {"ratelimit-remaining": "0", "ratelimit-reset": "0"},
    ],
    ids=[
        "none",
        "no-reset",
        "no-remaining",
        "remaining-inf",
        "remaining-nan",
        "remaining-negative",
        "remaining-text",
        "reset-inf",
        "reset-nan",
        "reset-overflow",
        "reset-negative",
        "reset-text",
        "epoch-reset-passed",
        "iso-reset-passed",
        "iso-reset-past-the-calendar",
        "reset-now",
    ],
)
def test_a_budget_that_cannot_be_read_or_is_over_is_unknown(headers: dict[str, str]) -> None:
    assert budget(_reply(**headers), now=NOW) is None


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"x-ratelimit-reset": str(int(NOW) + 90)}, 90.0),
        ({"X-Ratelimit-Reset": "12"}, 12.0),
        ({"X-RateLimit-Reset": "2024-10-19T06:02:00.000Z"}, 120.0),
        ({"ratelimit-reset": str(int(NOW) + 45)}, 45.0),
        ({"x-ratelimit-reset": str(int(NOW) - 60)}, 0.0),  # passed: no wait left
        ({"x-ratelimit-reset": "inf"}, None),
        ({"x-ratelimit-reset": "-3"}, None),
        ({}, None),
    ],
    ids=["epoch", "seconds", "iso", "bluesky", "passed", "inf", "negative", "none"],
)
def test_the_reset_of_a_limited_reply_is_seconds_from_now(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert reset_seconds(_reply(429, **headers), now=NOW) == seconds


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), ("Sat, 19 Oct 2024 06:00:30 GMT", 30.0), ("inf", None), ("later", None)],
    ids=["seconds", "http-date", "inf", "text"],
)
def test_retry_after_is_seconds_or_an_http_date(value: str, seconds: float | None) -> None:
    assert retry_after(_reply(429, **{"Retry-After": value}), now=NOW) == seconds
