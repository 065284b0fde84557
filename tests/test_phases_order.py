"""Phases come only from in-window posts, always in order, and time to denial is never negative."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alerts_support import index_posts, official_denial, post

from indexer.phases import PHASE_NAMES, phase_at, phases
from indexer.scope import IncidentScope

pytest_plugins = ["conftest_alerts"]

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
SCOPE = IncidentScope("bytedance-intern-2024", T0 - 2 * H)
IN_ORDER = list(PHASE_NAMES.values())


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


def assert_in_order(found):
    names = [p.name for p in found.phases]
    assert names == [n for n in IN_ORDER if n in names]
    starts = [p.start for p in found.phases]
    assert starts == sorted(starts)


def test_an_official_item_from_before_the_window_is_not_the_denial(es_client, index_names):
    """The airline's old press release, kept as a 'denial', made time to denial -2 d 3 h."""
    index_posts(
        es_client,
        index_names,
        [
            official_denial("winter-routes", T0 - 2 * D - 3 * H, platform="news"),
            post("hedged", T0, stance="other"),
            post("rumour", T0 + H),
            official_denial("real", T0 + 5 * H),
            post("press", T0 + 6 * H, stance="report", platform="news"),
        ],
    )
    found = phases(es_client, index_names, SCOPE, interval="1h")
    assert (found.onset.id, found.denial.id) == ("weibo:rumour", "toutiao:real")
    assert found.measures.time_to_denial == 4 * H
    assert found.span.posts == 4  # the old release is not a post of the incident
    assert_in_order(found)


def test_a_denial_before_any_rumour_post_starts_the_story_at_the_first_post(es_client, index_names):
    index_posts(
        es_client,
        index_names,
        [
            post("hedged", T0, stance="other"),
            official_denial("denial", T0 + H),
            post("rumour", T0 + 2 * H),
        ],
    )
    found = phases(es_client, index_names, SCOPE, interval="1h")
    assert (found.onset.id, found.measures.time_to_denial) == ("weibo:hedged", H)
    assert_in_order(found)


def test_coverage_before_the_denial_is_not_shown_as_coming_first(es_client, index_names):
    press = [post(f"p{i}", T0 + H + i * timedelta(minutes=5), stance="report") for i in range(6)]
    index_posts(
        es_client,
        index_names,
        [post("rumour", T0), *press, official_denial("denial", T0 + 3 * H + timedelta(minutes=20))],
    )
    found = phases(es_client, index_names, SCOPE, interval="1h")
    assert found.coverage_peak >= found.denial.timestamp
    assert_in_order(found)


def test_evidence_after_the_denial_is_not_the_evidence_phase(es_client, index_names):
    index_posts(
        es_client,
        index_names,
        [
            post("rumour", T0),
            official_denial("denial", T0 + H),
            post("repo", T0 + 2 * H, platform="github", kind="repo"),
        ],
    )
    found = phases(es_client, index_names, SCOPE, interval="1h")
    assert found.evidence is None
    assert_in_order(found)


def test_no_denial_yet_says_how_long_since_the_onset(es_client, index_names):
    index_posts(es_client, index_names, [post("rumour", T0), post("d", T0 + H, stance="denial")])
    found = phases(es_client, index_names, SCOPE, interval="1h", now=T0 + 26 * H)
    assert found.denial is None  # someone's denial is a denial, not the official denial
    assert (found.measures.time_to_denial, found.measures.time_since_onset) == (None, 26 * H)


def test_the_phase_at_a_moment_is_the_last_begun_by_then(es_client, index_names):
    """What a live view shows (the demo's display): quiet before the onset, then each phase."""
    index_posts(
        es_client,
        index_names,
        [
            post("r1", T0, stance="rumour"),
            post("g1", T0 + 2 * H, platform="github", kind="repo", stance="rumour"),
            official_denial("d1", T0 + 5 * H),
        ],
    )
    found = phases(es_client, index_names, SCOPE, now=T0 + 6 * H)
    assert phase_at(found, T0 - H) is None
    assert phase_at(found, T0 + H) == "rumour"
    assert phase_at(found, T0 + 5 * H - timedelta(minutes=1)) == "evidence"
    assert phase_at(found, T0 + 6 * H) == found.phases[-1].name


def test_a_one_post_incident_decays_where_its_3h_bucket_ends(es_client, index_names):
    """The quiet after a finished incident's busiest (last) bucket begins where that bucket
    ends, on buckets of at least 3 h: the rumour phase runs to there, the decay has no length."""
    index_posts(es_client, index_names, [post("only", T0)])
    found = phases(es_client, index_names, SCOPE, interval="1h", now=T0 + 2 * D)
    decay = T0 + 3 * H  # T0 starts an hourly bucket; three of them make the 3-h bucket
    assert [(p.name, p.start, p.end) for p in found.phases] == [
        ("rumour", T0, decay),
        ("decay", decay, decay),
    ]
