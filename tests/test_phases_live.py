"""The phase a live view shows: phases computed on what has been indexed by `now`, as the demo's
display, the monitor's report and a dashboard opened mid-incident see them. A rumour's first
hours are uneven (a burst, a quiet night, a second wave); only a sustained fall is its decay,
and coverage follows the official denial."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alerts_support import index_posts, official_denial, post

from indexer.phases import DECAY_QUIET, phase_at, phases
from indexer.scope import IncidentScope

pytest_plugins = ["conftest_alerts"]

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
SCOPE = IncidentScope("bytedance-intern-2024", T0 - 2 * H)


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


def burst(name: str, at: datetime, count: int, **fields: object) -> list[dict]:
    """`count` posts one minute apart from `at`."""
    return [
        post(f"{name}{n}", at + n * timedelta(minutes=1), stance="rumour", **fields)
        for n in range(count)
    ]


def live_phase(es_client, index_names, now: datetime) -> str | None:
    return phase_at(phases(es_client, index_names, SCOPE, now=now), now)


def test_a_lull_in_a_rumours_first_hours_is_not_its_decay(es_client, index_names):
    index_posts(es_client, index_names, [*burst("r", T0, 8), post("late", T0 + 2 * H)])
    assert live_phase(es_client, index_names, T0 + 5 * H) == "rumour"


def test_a_rumour_quiet_for_half_a_day_has_decayed(es_client, index_names):
    index_posts(es_client, index_names, [*burst("r", T0, 8), post("late", T0 + 4 * H)])
    now = T0 + 4 * H + DECAY_QUIET + 3 * H
    found = phases(es_client, index_names, SCOPE, now=now)
    assert phase_at(found, now) == "decay"
    assert T0 < found.decay <= now - DECAY_QUIET


def test_a_second_wave_is_the_rumour_again_not_its_decay(es_client, index_names):
    index_posts(es_client, index_names, burst("r", T0, 8))
    assert live_phase(es_client, index_names, T0 + DECAY_QUIET + 5 * H) == "decay"
    wave_at = T0 + DECAY_QUIET + 6 * H
    index_posts(es_client, index_names, burst("w", wave_at, 10))
    assert live_phase(es_client, index_names, wave_at + H) == "rumour"


def test_press_reports_before_the_denial_are_not_the_coverage_phase(es_client, index_names):
    reports = [post(f"p{n}", T0 + H + n * timedelta(minutes=10), stance="report") for n in range(6)]
    index_posts(es_client, index_names, [*burst("r", T0, 3), *reports])
    found = phases(es_client, index_names, SCOPE, now=T0 + 3 * H)
    assert found.coverage_peak is None
    assert [p.name for p in found.phases] == ["rumour"]


def test_the_evidence_phase_shows_until_the_denial(es_client, index_names):
    repo = post("g1", T0 + 10 * H, platform="github", kind="repo", stance="rumour")
    reports = [post(f"p{n}", T0 + 11 * H + n * timedelta(minutes=10), stance="report") for n in range(4)]  # fmt: skip
    index_posts(es_client, index_names, [*burst("r", T0, 5), repo, *reports])
    assert live_phase(es_client, index_names, T0 + 13 * H) == "evidence"


def test_after_the_denial_the_press_wave_is_the_coverage(es_client, index_names):
    reports = [post(f"p{n}", T0 + 3 * H + n * timedelta(minutes=5), stance="report") for n in range(6)]  # fmt: skip
    index_posts(
        es_client,
        index_names,
        [*burst("r", T0, 3), official_denial("d1", T0 + 2 * H), *reports],
    )
    found = phases(es_client, index_names, SCOPE, now=T0 + 4 * H)
    assert [p.name for p in found.phases] == ["rumour", "denial", "coverage"]
    assert phase_at(found, T0 + 4 * H) == "coverage"
