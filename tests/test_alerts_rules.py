"""Each rule type, evaluated with an injected clock over indexed posts where the answer is known."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alerts_support import (
    NOW,
    incident_with,
    index_docs,
    index_posts,
    official_denial,
    post,
    run_doc,
    spread,
)

from alerts.engine import evaluate

pytest_plugins = ["conftest_alerts"]


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


H = timedelta(hours=1)


def fired(client, names, rules, now=NOW):
    """(rule, key) of every finding, for readable assertions."""
    incident = incident_with(rules)
    return sorted((ev.rule.name, ev.finding.key) for ev in evaluate(client, names, incident, now))


def findings(client, names, rules, now=NOW):
    return [ev.finding for ev in evaluate(client, names, incident_with(rules), now)]


SPIKE = {
    "name": "spike",
    "type": "spike",
    "window": "1h",
    "baseline": "6h",
    "ratio": 3,
    "min_count": 5,
}


@pytest.mark.parametrize(
    ("in_window", "in_baseline", "fires"),
    [
        (12, 6, True),  # 12 against 1 expected per hour
        (4, 0, False),  # new, but under min_count
        (6, 0, True),  # nothing before: a spike from zero
    ],
)
def test_spike_compares_window_with_scaled_baseline(
    es_client, index_names, in_window, in_baseline, fires
):
    index_posts(es_client, index_names, spread(in_window, NOW - H, NOW, "w"))
    index_posts(es_client, index_names, spread(in_baseline, NOW - 7 * H, NOW - H, "b"))
    assert (fired(es_client, index_names, [SPIKE]) == [("spike", "all")]) is fires


def test_spike_subject_gives_ratio_platform_and_window(es_client, index_names):
    index_posts(es_client, index_names, spread(21, NOW - H, NOW, "w"))
    index_posts(es_client, index_names, spread(30, NOW - 7 * H, NOW - H, "b"))
    rule = {**SPIKE, "per_platform": True}
    [finding] = findings(es_client, index_names, [rule])
    assert finding.headline == "Spike: ×4.2 on Weibo in the last hour"


def test_spike_per_platform_fires_only_where_volume_jumped(es_client, index_names):
    index_posts(es_client, index_names, spread(10, NOW - H, NOW, "w"))
    index_posts(es_client, index_names, spread(6, NOW - 7 * H, NOW - H, "b"))
    flat = spread(6, NOW - 7 * H, NOW, "g", platform="github")
    index_posts(es_client, index_names, flat)
    rule = {**SPIKE, "per_platform": True}
    assert fired(es_client, index_names, [rule]) == [("spike", "weibo")]


def test_spike_down_fires_when_volume_collapses(es_client, index_names):
    index_posts(es_client, index_names, spread(60, NOW - 7 * H, NOW - H, "b"))
    index_posts(es_client, index_names, spread(1, NOW - H, NOW, "w"))
    rule = {**SPIKE, "direction": "down"}
    [finding] = findings(es_client, index_names, [rule])
    assert finding.headline.startswith("Drop: ÷10.0")


@pytest.mark.parametrize(("posts", "fires"), [(50, True), (49, False)])
def test_threshold_counts_posts_in_window(es_client, index_names, posts, fires):
    index_posts(es_client, index_names, spread(posts, NOW - H, NOW, "w"))
    index_posts(es_client, index_names, spread(10, NOW - 3 * H, NOW - 2 * H, "old"))
    rule = {"name": "many", "type": "threshold", "window": "1h", "count": 50}
    assert bool(fired(es_client, index_names, [rule])) is fires


def test_first_platform_reports_earliest_post_of_each_platform(es_client, index_names):
    index_posts(
        es_client,
        index_names,
        [
            post("w1", NOW - 30 * H),
            post("w2", NOW - 40 * H),
            post("g1", NOW - 20 * H, platform="github"),
            post("late", NOW + H, platform="reddit"),  # after the clock: not seen yet
        ],
    )
    found = findings(es_client, index_names, [{"name": "first", "type": "first_platform"}])
    assert {f.key: f.posts[0]["_id"] for f in found} == {"github": "github:g1", "weibo": "weibo:w2"}


def test_influential_author_fires_once_per_author_above_followers(es_client, index_names):
    big = {"id": "big", "handle": "bigvoice", "followers": 2_000_000}
    index_posts(
        es_client,
        index_names,
        [
            post("a", NOW - 3 * H, author=big),
            post("b", NOW - 2 * H, author=big),
            post("c", NOW - H, author={"id": "small", "handle": "small", "followers": 500}),
        ],
    )
    rule = {"name": "big", "type": "influential_author", "followers": 1_000_000}
    [finding] = findings(es_client, index_names, [rule])
    assert (finding.key, finding.posts[0]["_id"]) == ("weibo:big", "weibo:a")
    # The post of the fixture has stance rumour: the headline says which side the account is on.
    assert finding.headline == (
        "Influential author: @bigvoice (2.0M followers) spreads the rumour on Weibo"
    )


def test_new_repo_fires_for_github_repositories_only(es_client, index_names):
    index_posts(
        es_client,
        index_names,
        [
            post(
                "r1", NOW - 5 * H, platform="github", kind="repo", repo="JusticeFighter110/record"
            ),
            post("i1", NOW - 4 * H, platform="github", kind="issue", repo="other/repo"),
        ],
    )
    assert fired(es_client, index_names, [{"name": "repo", "type": "new_repo"}]) == [
        ("repo", "JusticeFighter110/record")
    ]


def test_official_denial_fires_on_the_first_official_denial(es_client, index_names):
    index_posts(
        es_client,
        index_names,
        [
            post("r", NOW - 5 * H),
            official_denial("d1", NOW - 2 * H),
            official_denial("d2", NOW - H, platform="weibo"),  # the same denial, second channel
        ],
    )
    [finding] = findings(es_client, index_names, [{"name": "denied", "type": "official_denial"}])
    assert (finding.key, finding.basis) == ("toutiao:d1", ["toutiao:d1"])
    assert finding.headline == "Official denial: @bytedance on Toutiao"


NOT_THE_OFFICIAL_DENIAL = {
    "someone else's denial": {"author": {"id": "u", "handle": "debunker", "official": False}},
    "official but about something else": {"matched": {"queries": [], "claims": []}},
    "official, matching, but not a denial": {"stance": "report"},
    "official denial, unsure": {"stance_confidence": 0.4},
}


@pytest.mark.parametrize("changed", NOT_THE_OFFICIAL_DENIAL.values(), ids=NOT_THE_OFFICIAL_DENIAL)
def test_what_is_not_the_official_denial(es_client, index_names, changed):
    index_posts(
        es_client, index_names, [post("r", NOW - 5 * H), official_denial("d", NOW - H, **changed)]
    )
    assert fired(es_client, index_names, [{"name": "denied", "type": "official_denial"}]) == []


def test_an_official_denial_before_the_window_is_not_the_incident_s(es_client, index_names):
    before = NOW - timedelta(days=5)  # the window starts 3 days before NOW
    index_posts(es_client, index_names, [official_denial("old", before)])
    assert fired(es_client, index_names, [{"name": "denied", "type": "official_denial"}]) == []


def test_a_statement_pinned_by_the_incident_file_is_the_official_denial(es_client, index_names):
    pinned = {"stance": "other", "matched": {"queries": [], "statement": True}}
    index_posts(es_client, index_names, [official_denial("s", NOW - H, **pinned)])
    assert fired(es_client, index_names, [{"name": "denied", "type": "official_denial"}]) == [
        ("denied", "toutiao:s")
    ]


def test_no_denial_no_official_denial_alert(es_client, index_names):
    index_posts(es_client, index_names, [post("r", NOW - 5 * H)])
    assert fired(es_client, index_names, [{"name": "denied", "type": "official_denial"}]) == []


@pytest.mark.parametrize(("now_rumours", "before_rumours", "fires"), [(8, 4, True), (4, 8, False)])
def test_denial_not_landing_when_rumour_still_rises(
    es_client, index_names, now_rumours, before_rumours, fires
):
    index_posts(es_client, index_names, [official_denial("d", NOW - 5 * H)])
    index_posts(es_client, index_names, spread(now_rumours, NOW - 2 * H, NOW, "n"))
    index_posts(es_client, index_names, spread(before_rumours, NOW - 4 * H, NOW - 2 * H, "p"))
    rule = {"name": "landing", "type": "denial_not_landing", "window": "2h", "min_count": 3}
    assert bool(fired(es_client, index_names, [rule])) is fires


def test_denial_not_landing_waits_one_window_after_the_denial(es_client, index_names):
    index_posts(es_client, index_names, [official_denial("d", NOW - H)])
    index_posts(es_client, index_names, spread(8, NOW - 2 * H, NOW, "n"))
    rule = {"name": "landing", "type": "denial_not_landing", "window": "2h", "min_count": 3}
    assert fired(es_client, index_names, [rule]) == []


@pytest.mark.parametrize(("denial_reach", "fires"), [(5000, True), (900, False)])
def test_denial_overtakes_compares_summed_reach(es_client, index_names, denial_reach, fires):
    # Debunks do not count: the measure is the report's denial reach ÷ rumour reach.
    index_posts(es_client, index_names, [post("b", NOW - H, stance="debunk", reach=10_000)])
    index_posts(es_client, index_names, spread(10, NOW - 9 * H, NOW - 5 * H, "r", reach=100))
    index_posts(es_client, index_names, [post("d", NOW - H, stance="denial", reach=denial_reach)])
    rule = {"name": "overtakes", "type": "denial_overtakes"}
    assert bool(fired(es_client, index_names, [rule])) is fires


@pytest.mark.parametrize(
    ("statuses", "fires"),
    [
        ([("ok", 0), ("failed", 0), ("ok", 0)], True),
        ([("ok", 0), ("ok", 3), ("ok", 0)], False),
    ],
)
def test_silent_source_after_n_empty_or_failed_runs(es_client, index_names, statuses, fires):
    runs = [run_doc("github", NOW - 10 * H, "ok", 12)]
    runs += [run_doc("github", NOW - (3 - i) * H, s, n) for i, (s, n) in enumerate(statuses)]
    index_docs(es_client, index_names.runs, runs)
    rule = {"name": "silent", "type": "silent_source", "runs": 3}
    assert (fired(es_client, index_names, [rule]) == [("silent", "github")]) is fires


def test_silent_source_ignores_a_source_that_never_returned_data(es_client, index_names):
    runs = [run_doc("weibo", NOW - i * H, "failed", 0) for i in range(1, 6)]
    index_docs(es_client, index_names.runs, runs)
    assert fired(es_client, index_names, [{"name": "silent", "type": "silent_source"}]) == []
