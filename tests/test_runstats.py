"""The run document built from a crawl's Scrapy stats, and the run's status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawlers.runstats import build_run_doc

STARTED = datetime(2024, 10, 19, 8, 0, tzinfo=UTC)
CLEAN = {
    "item_scraped_count": 8,
    "item_dropped_count": 2,
    "spreadwatch/dropped/no_match": 2,
    "spreadwatch/writer/indexed_new": 5,
    "spreadwatch/writer/updated": 3,
    "downloader/request_count": 4,
    "downloader/response_status_count/200": 3,
    "downloader/response_status_count/304": 1,
}


def run(stats: dict, reason: str = "finished") -> dict:
    return build_run_doc(
        stats,
        started=STARTED,
        incident="bytedance-intern-2024",
        source="github",
        run_id="r1",
        finish_reason=reason,
        errors=[],
        finished=STARTED + timedelta(seconds=12.5),
    )


def test_figures_come_from_the_stats():
    doc = run(CLEAN)
    assert (doc["items_scraped"], doc["items_indexed"], doc["items_updated"]) == (10, 5, 3)
    assert (doc["requests"], doc["not_modified"], doc["duration_s"]) == (4, 1, 12.5)
    assert doc["drops"] == [{"key": "no_match", "count": 2}]
    assert doc["http_status"] == [{"key": "200", "count": 3}, {"key": "304", "count": 1}]


@pytest.mark.parametrize(
    ("extra", "reason", "status"),
    [
        ({}, "finished", "ok"),
        ({"log_count/ERROR": 1}, "finished", "partial"),
        ({"spreadwatch/writer/spooled": 3}, "finished", "partial"),
        ({"spreadwatch/refused/403": 2}, "finished", "partial"),
        ({"retry/max_reached": 1}, "finished", "partial"),
        ({}, "shutdown", "failed"),
        ({}, "closespider_timeout", "failed"),
    ],
)
def test_status(extra, reason, status):
    assert run({**CLEAN, **extra}, reason)["status"] == status


def test_errors_with_nothing_fetched_is_a_failed_run():
    assert run({"log_count/ERROR": 3, "downloader/request_count": 2})["status"] == "failed"


def test_nothing_new_behind_304s_is_ok():
    assert run({"downloader/response_status_count/304": 5})["status"] == "ok"


def test_a_source_refusing_everything_is_a_refused_run():
    assert run({"spreadwatch/refused/403": 3, "downloader/request_count": 3})["status"] == "refused"
