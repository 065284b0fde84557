"""The demo's live display: what a round shows, on a terminal and in a log."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from spreadwatch.demo import RECONSTRUCTION_NOTICE
from spreadwatch.demo.display import Display, Frame
from spreadwatch.demo.story import FiredAlert

AT = datetime(2024, 10, 19, 6, tzinfo=UTC)
FRAME = Frame(
    at=AT,
    round=18,
    rounds=49,
    phase="denial",
    posts={"weibo": 120, "github": 40},
    alerts=[
        FiredAlert(
            AT,
            "official-denial",
            "official_denial",
            "denial",
            "Official denial: [/b]@字节跳动[bold]",
        )
    ],
    problems=["reddit: crawl of reddit failed: refused"],
)


@pytest.mark.parametrize("live", [True, False])
def test_a_round_shows_time_phase_posts_and_alerts(live: bool) -> None:
    stream = io.StringIO()
    with Display(stream=stream, live=live) as display:
        display.show(FRAME)
    shown = " ".join(stream.getvalue().split())
    assert RECONSTRUCTION_NOTICE.split(";")[0] in shown
    for expected in ("Sat 19 Oct", "06:00 UTC", "denial", "weibo", "120", "github", "40"):
        assert expected in shown
    assert "Official denial: [/b]@字节跳动[bold]" in shown  # printed as text, never as markup


def test_a_log_gets_one_line_per_round() -> None:
    stream = io.StringIO()
    with Display(stream=stream, live=False) as display:
        display.show(FRAME)
        display.show(FRAME)
    rounds = [line for line in stream.getvalue().splitlines() if line.startswith("[ 18/49]")]
    assert len(rounds) == 2
