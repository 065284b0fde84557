"""A crawl SIGKILLed at a random moment loses nothing and doubles nothing once the next runs.

The crawl state (ETags, since-values, cursors) may only move past what is stored: were it
committed before its posts are durable, the killed crawl's buffered posts would be skipped by
every later run (a 304, a since-value past them) — lost for good while every run says `ok`.
Truth: the demo's dataset (every record marked matching must be stored once).
"""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from harness import Tally, World, crawl, tally, world

from indexer.connection import IndexNames
from indexer.templates import delete_all, init
from spreadwatch.demo.dataset import INCIDENT_FILE
from spreadwatch.incident import load_incident
from spreadwatch.settings import Settings

SEED = 20241019
#: The sources whose losses were measured (GitHub 195 of 210 after one kill, pages 145 of 145,
#: Bluesky 82 of 90), and a kill point drawn from the requests a full crawl of each makes.
KILL_RANGE = {"github": (15, 80), "pages": (4, 10), "bluesky": (2, 10)}


def _killed_then_recovered(place: World, source: str, kill_after: int) -> str:
    """Kill one crawl after `kill_after` answered requests, then let the next one finish."""
    killed = crawl(place, source, f"kill-{source}", kill_after=kill_after)
    assert killed.killed, f"{source}: the crawl ended before its {kill_after}th request"
    recovered = crawl(place, source, f"next-{source}")
    assert recovered.returncode == 0, f"{source}: the next crawl failed\n{recovered.stderr}"
    return source


@pytest.mark.slow
def test_a_crawl_killed_at_a_random_moment_loses_and_doubles_nothing_after_the_next(
    es_client: Elasticsearch, es_settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    kills = {source: rng.randint(*bounds) for source, bounds in KILL_RANGE.items()}
    names = IndexNames(f"{es_settings.index_prefix}-kill-{uuid.uuid4().hex[:6]}")
    init(es_client, names)
    end = load_incident(INCIDENT_FILE).window.end
    assert end is not None
    try:
        with (
            world(es_settings, names.prefix, tmp_path / "data", end) as place,
            ThreadPoolExecutor(max_workers=len(kills)) as pool,
        ):
            done = list(pool.map(lambda s: _killed_then_recovered(place, s, kills[s]), kills))
        results: list[Tally] = [tally(es_client, names, source, end) for source in done]
    finally:
        delete_all(es_client, names)
    report = {t.source: (t.expected, len(t.lost), len(t.doubled), kills[t.source]) for t in results}
    assert all(t.expected > 0 for t in results), report
    assert [(t.source, t.lost[:5], t.doubled[:5]) for t in results] == [
        (t.source, [], []) for t in results
    ], report
