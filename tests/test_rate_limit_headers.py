"""Rate-limit headers as the platforms send them, and as a broken proxy might: a number the
spider can wait on, or unknown — never a wait of forever."""

from __future__ import annotations

import pytest

from crawlers.social import header_number


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
