"""Each fault class of #17, a few faults each (the long form: bench/bench_faults.py).

Crawls SIGKILLed and a full spool have their own modules here; an unwritable spool runs the
same code path as the full one (the write fails with an OSError) and is in the long form.

A class holds when every injected fault survived (a clear error, a counted drop, a retry) and
nothing was lost or doubled against the case's own truth (see `cases.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from random import Random

import pytest
from alerts_support import Inbox, SmtpServer, free_port
from cases import (
    INCIDENT_MUTATIONS,
    SETTINGS_MUTATIONS,
    Outcome,
    Place,
    bad_replies,
    broken_configs,
    catastrophic_regexes,
    demo_world,
    es_down,
    hostile_text,
    private_targets,
    redirect_loops,
    smtp_faults,
)
from elasticsearch import Elasticsearch

from spreadwatch.settings import Settings

SEED = 17


def held(outcome: Outcome) -> tuple[int, int, int, list[str]]:
    return outcome.injected - outcome.survived, outcome.lost, outcome.doubled, outcome.problems


def test_every_broken_config_is_a_clear_error(tmp_path: Path) -> None:
    count = len(INCIDENT_MUTATIONS) + len(SETTINGS_MUTATIONS)
    outcome = broken_configs(Random(SEED), count, tmp_path)
    assert outcome.injected == count
    assert held(outcome) == (0, 0, 0, [])


def test_catastrophic_patterns_run_in_linear_time_or_are_refused() -> None:
    outcome = catastrophic_regexes(Random(SEED), 12)
    assert outcome.injected == 12
    assert held(outcome) == (0, 0, 0, [])


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(Inbox(), free_port())
    server.start()
    yield server
    server.stop()


def test_hostile_names_reach_no_e_mail_as_such(es_client: Elasticsearch, smtp: SmtpServer) -> None:
    outcome = hostile_text(Random(SEED), 3, es_client, smtp.url, smtp.inbox)
    assert outcome.injected == 3
    assert held(outcome) == (0, 0, 0, [])


def test_smtp_faults_lose_no_alert_and_copy_only_after_a_lost_250(
    es_client: Elasticsearch,
) -> None:
    outcome = smtp_faults(Random(SEED), 8, es_client)
    assert outcome.injected == 8
    assert held(outcome) == (0, 0, 0, [])


def test_private_network_targets_are_refused_without_a_connection(tmp_path: Path) -> None:
    outcome = private_targets(Random(SEED), 8, tmp_path)
    assert outcome.injected == 8
    assert held(outcome) == (0, 0, 0, [])


def test_every_redirect_loop_is_counted_and_the_rest_is_read(tmp_path: Path) -> None:
    outcome = redirect_loops(Random(SEED), 4, tmp_path)
    assert outcome.injected == 4
    assert held(outcome) == (0, 0, 0, [])


@pytest.fixture
def place(es_client: Elasticsearch, es_settings: Settings, tmp_path: Path) -> Iterator[Place]:
    with demo_world(
        es_client, es_settings, f"{es_settings.index_prefix}-faults", tmp_path
    ) as world:
        yield world


@pytest.mark.slow
def test_elasticsearch_going_down_mid_crawl_loses_and_doubles_nothing(place: Place) -> None:
    outcome = es_down(Random(SEED), 1, place, sources=("feeds", "mastodon", "pages"))
    assert outcome.injected == 1
    assert held(outcome) == (0, 0, 0, [])


@pytest.mark.slow
def test_bad_replies_mid_crawl_lose_and_double_nothing_after_the_next(place: Place) -> None:
    outcome = bad_replies(Random(SEED), 3, place, sources=("feeds", "mastodon", "pages"))
    assert outcome.injected == 3
    assert held(outcome) == (0, 0, 0, [])
