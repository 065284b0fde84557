"""Spread analytics and phases on a small indexed spread whose figures are known (spread_case)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import Elasticsearch, helpers
from spread_case import (
    DENIAL_REACH,
    INCIDENT,
    PLATFORM_ORDER,
    POSTS,
    RUMOUR_REACH,
    at,
    indexed_case,
)

from indexer import analytics
from indexer.connection import IndexNames
from indexer.intervals import MAX_BUCKETS
from indexer.phases import phases
from indexer.templates import delete_all, init
from spreadwatch.settings import Settings


@pytest.fixture(scope="module")
def case(es_client: Elasticsearch, es_settings: Settings) -> Iterator[IndexNames]:
    """The case indexed once for the module (the tests only read it)."""
    yield from indexed_case(es_client, es_settings.index_prefix)


def test_span_covers_only_the_incidents_posts(es_client, case):
    span = analytics.span(es_client, case, INCIDENT)
    assert (span.start, span.end, span.posts) == (at(18, 2), at(19, 10), 18)


def test_an_incident_without_posts_has_no_span_and_an_empty_timeline(es_client, case):
    assert analytics.span(es_client, case, "nothing-here") is None
    assert analytics.timeline(es_client, case, "nothing-here").buckets == []


def test_timeline_counts_posts_per_day_by_platform_and_stance_with_running_total(es_client, case):
    timeline = analytics.timeline(es_client, case, INCIDENT, interval="1d")
    first, second = timeline.buckets
    assert (first.start, first.total, first.cumulative) == (at(18, 0), 6, 6)
    assert (second.start, second.total, second.cumulative) == (at(19, 0), 12, 18)
    assert first.by_platform == {"weibo": 3, "reddit": 1, "github": 2}
    assert first.by_stance == {"rumour": 4, "other": 1, "debunk": 1}
    assert timeline.series("stance", "report") == [0, 4]


def test_timeline_chooses_its_interval_from_the_span(es_client, case):
    timeline = analytics.timeline(es_client, case, INCIDENT)
    assert timeline.interval == "30m"
    assert len(timeline.buckets) == 65  # 32 h of half-hours, both ends included
    assert timeline.total == 18


def test_first_seen_names_the_origin_and_the_order_platforms_picked_it_up(es_client, case):
    origin = analytics.first_seen(es_client, case, INCIDENT)
    assert origin.first.id == "weibo:1"
    assert origin.first.author == "w_alpha"
    assert origin.platform_order == PLATFORM_ORDER
    assert [ref.timestamp for ref in origin.per_platform][:3] == [
        at(18, 2),
        at(18, 3, 10),
        at(18, 4),
    ]


def _max_reach_per_author() -> list[tuple[str, int]]:
    """The truth from the case's rows: an author's reach is their widest post, counted once."""
    best: dict[str, int] = {}
    for row in POSTS:
        best[row[5]] = max(best.get(row[5], 0), row[6])
    return sorted(best.items(), key=lambda item: (-item[1], item[0]))[:4]


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("reach", _max_reach_per_author()),
        ("reposts", [("bytedance", 900), ("w_alpha", 80), ("w_beta", 12), ("w_eps", 5)]),
    ],
)
def test_top_amplifiers_count_an_authors_reach_once_and_sum_reposts(es_client, case, by, expected):
    top = analytics.amplifiers(es_client, case, INCIDENT, by=by, size=4)
    value = "reach" if by == "reach" else "reposts"
    assert [(a.author, getattr(a, value)) for a in top] == expected


def test_amplifier_carries_post_count_and_platform(es_client, case):
    top = analytics.amplifiers(es_client, case, INCIDENT, by="reach", size=2)
    assert (top[1].author, top[1].platform, top[1].posts) == ("caixin", "feeds", 2)


def test_near_duplicate_cluster_counts_accounts_posts_first_and_last(es_client, case):
    (cluster,) = analytics.clusters(es_client, case, INCIDENT)
    assert (cluster.fingerprint, cluster.posts, cluster.accounts) == ("fpA", 4, 4)
    assert (cluster.first, cluster.last) == (at(18, 2), at(19, 1))
    assert cluster.first_post.id == "weibo:1"


def test_clusters_page_through_composite_buckets(es_client, case):
    found = analytics.clusters(es_client, case, INCIDENT, min_accounts=1, page_size=1)
    assert [(c.fingerprint, c.posts, c.accounts) for c in found] == [("fpA", 4, 4), ("fpD", 2, 1)]


def test_github_activity_counts_stars_forks_and_issues_per_hour(es_client, case):
    activity = analytics.github_activity(es_client, case, INCIDENT)
    assert activity.interval == "1h"
    assert [(b.start, b.stars, b.forks, b.issues) for b in activity.buckets] == [
        (at(18, 4), 3, 1, 0),
        (at(18, 5), 1, 2, 1),
    ]


@pytest.fixture(scope="module")
def star_history(es_client: Elasticsearch, es_settings: Settings) -> Iterator[IndexNames]:
    """A repo starred weekly from 2011 to the incident (2022): ~570 stars over 11 years."""
    names = IndexNames(f"{es_settings.index_prefix}-years")
    init(es_client, names)
    first = datetime(2011, 3, 1, 12, tzinfo=UTC)
    actions = [
        {
            "_index": names.activity,
            "_id": f"github:star:marak/colors.js:fan{n}",
            "_source": {
                "@timestamp": (first + timedelta(weeks=n)).isoformat(),
                "incident": ["colors"],
                "platform": "github",
                "event": "star",
                "repo": "marak/colors.js",
            },
        }
        for n in range(570)
    ]
    helpers.bulk(es_client, actions, refresh="wait_for")
    yield names
    delete_all(es_client, names)


def test_years_of_star_history_give_a_bounded_curve(es_client, star_history) -> None:
    activity = analytics.github_activity(es_client, star_history, "colors")
    assert activity.interval == "90d"
    assert len(activity.buckets) <= MAX_BUCKETS
    assert sum(b.stars for b in activity.buckets) == 570
    assert activity.buckets[0].start <= datetime(2011, 3, 1, 12, tzinfo=UTC)


def test_phase_boundaries_follow_the_spread(es_client, case):
    result = phases(es_client, case, INCIDENT, interval="1h")
    assert result.boundaries() == {
        "onset": at(18, 2),
        "evidence": at(18, 4),
        "denial": at(19, 6),
        "coverage_peak": at(19, 7),
        "decay": at(19, 8),
    }
    assert result.denial.id == "toutiao:8"
    assert [(p.name, p.start, p.end) for p in result.phases] == [
        ("rumour", at(18, 2), at(18, 4)),
        ("evidence", at(18, 4), at(19, 6)),
        ("denial", at(19, 6), at(19, 7)),
        ("coverage", at(19, 7), at(19, 8)),
        ("decay", at(19, 8), at(19, 10)),
    ]


def test_phase_measures_compare_before_and_after_the_denial(es_client, case):
    measures = phases(es_client, case, INCIDENT, interval="1h").measures
    assert measures.time_to_denial == timedelta(hours=28)
    assert measures.rumour_share_before == pytest.approx(5 / 7)
    assert measures.rumour_share_after == pytest.approx(5 / 11)
    assert (measures.denial_reach, measures.rumour_reach) == (DENIAL_REACH, RUMOUR_REACH)
    assert measures.reach_ratio == pytest.approx(20000 / 3800)
    assert measures.half_life == timedelta(hours=2)


def test_without_an_official_denial_the_denial_measures_are_absent(es_client, index_names):
    from spread_case import POSTS, post_doc

    rows = [row for row in POSTS if row[4] != "denial"]
    es_client.bulk(
        operations=[
            op
            for row in rows
            for op in ({"index": {"_index": index_names.posts, "_id": row[0]}}, post_doc(row))
        ],
        refresh="wait_for",
    )
    result = phases(es_client, index_names, INCIDENT, interval="1h")
    assert result.denial is None
    assert result.measures.time_to_denial is None
    assert result.measures.rumour_share_after is None
    assert result.measures.half_life is None
    assert "denial" not in [p.name for p in result.phases]


def test_an_incident_without_posts_has_no_phases(es_client, index_names):
    result = phases(es_client, index_names, "nothing-here")
    assert result.phases == []
    assert result.onset is None


@pytest.mark.parametrize(
    ("values", "start", "limit", "expected"),
    [
        ([10, 4, 9, 4, 3], 1, 5, 3),  # one quiet bucket inside a busy stretch is not the decay
        ([10, 6, 4], 1, 5, 2),  # the last bucket counts on its own
        ([10, 8, 9], 1, 5, None),  # never halves
        ([10, 5, 5], 1, 5, 1),  # exactly half counts
    ],
)
def test_decay_needs_two_quiet_buckets_in_a_row(values, start, limit, expected):
    from indexer.phases import first_sustained

    assert first_sustained(values, start, limit) == expected


def test_timeline_keys_list_platforms_busiest_first_for_chart_legends(es_client, case):
    timeline = analytics.timeline(es_client, case, INCIDENT, interval="1d")
    assert timeline.keys("platform") == [
        "weibo",
        "feeds",
        "github",
        "mastodon",
        "reddit",
        "toutiao",
    ]
    assert timeline.keys("stance") == ["rumour", "report", "debunk", "denial", "other"]
