"""The standby lease on a real node: one holder, takeover only after silence, races have one winner.

Time is a settable monotonic clock per monitor (each host measures on its own clock), so the
TTL logic is checked without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from elasticsearch import Elasticsearch

from indexer.connection import IndexNames
from indexer.versioned import read
from scheduler.lease import LEASE_ID, Lease

TTL = 15.0


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make_lease(
    es_client: Elasticsearch, session_names: IndexNames
) -> Iterator[Callable[[str], tuple[Lease, Ticks]]]:
    made: list[Lease] = []

    def build(holder: str) -> tuple[Lease, Ticks]:
        ticks = Ticks()
        lease = Lease(es_client, session_names, holder, ttl=TTL, monotonic=ticks)
        made.append(lease)
        return lease, ticks

    yield build
    for lease in made:
        lease.release()
    existing = read(es_client, session_names.monitors, LEASE_ID)
    if existing is not None:
        es_client.delete(index=session_names.monitors, id=LEASE_ID, refresh=True)


def test_the_first_monitor_takes_the_lease_and_the_second_waits(make_lease) -> None:
    first, _ = make_lease("a")
    second, _ = make_lease("b")
    assert first.renew() is True
    assert second.renew() is False
    assert first.renew() is True and first.held()
    assert not second.held()


def test_a_standby_takes_over_only_after_the_lease_went_unrenewed_for_its_ttl(make_lease) -> None:
    active, active_ticks = make_lease("a")
    standby, standby_ticks = make_lease("b")
    active.renew()
    assert standby.renew() is False  # sees the version for the first time
    standby_ticks.now += TTL - 1
    assert standby.renew() is False
    active.renew()  # a renewal restarts the standby's count
    standby_ticks.now += 2
    assert standby.renew() is False  # 1 s past the first version's ttl, but a new version
    standby_ticks.now += TTL - 1
    assert standby.renew() is False
    # The active stops renewing (killed): once the version is ttl old, the standby takes it.
    standby_ticks.now += 1
    assert standby.renew() is True
    # The old active, if it comes back, finds the lease taken and stays standby.
    active_ticks.now += 1
    assert active.renew() is False and not active.held()


def test_a_holder_that_cannot_renew_stops_counting_itself_active_after_ttl(make_lease) -> None:
    active, ticks = make_lease("a")
    assert active.renew()
    ticks.now += TTL - 0.1
    assert active.held()
    ticks.now += 0.2
    assert not active.held()  # without a renewal it must not start jobs any more


def test_two_standbys_racing_for_an_expired_lease_have_one_winner(
    make_lease, es_client: Elasticsearch, session_names: IndexNames
) -> None:
    gone, _ = make_lease("gone")
    gone.renew()
    racers = [make_lease(name) for name in ("b", "c")]
    for lease, _ in racers:
        lease.renew()
    for _, ticks in racers:
        ticks.now += TTL
    results = [lease.renew() for lease, _ in racers]
    assert results == [True, False]
    stored = read(es_client, session_names.monitors, LEASE_ID)
    assert stored is not None and stored.source["holder"] == "b"


def test_a_released_lease_is_taken_at_the_next_renewal(make_lease) -> None:
    active, _ = make_lease("a")
    standby, _ = make_lease("b")
    active.renew()
    standby.renew()
    active.release()
    assert not active.held()
    assert standby.renew() is True


def test_listeners_hear_when_the_lease_is_won_and_when_it_is_lost(make_lease) -> None:
    active, active_ticks = make_lease("a")
    standby, standby_ticks = make_lease("b")
    heard: list[bool] = []
    active.on_change(heard.append)
    active.renew()
    active.renew()  # kept: no news
    standby.renew()
    active_ticks.now += TTL + 1  # the active stalls past its ttl ...
    standby_ticks.now += TTL + 1
    standby.renew()  # ... and the standby takes over
    active.renew()
    assert heard == [True, False]
