"""`spreadwatch demo`, played fast (one round per simulated day, no pacing), against its truth.

The demo runs the real system — replay servers on a simulated clock, the real spiders, the
pipelines, the real Elasticsearch node, the alert job and a real SMTP server — and its story is
compared with the dataset's truth (spreadwatch/demo/data/truth.json). Platforms the replay
package cannot serve yet are reported by the demo; the expectations follow what was replayed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import psutil
import pytest
from elasticsearch import Elasticsearch

from indexer.connection import IndexNames
from indexer.purge import delete_incident
from indexer.templates import delete_all
from spreadwatch.demo import RECONSTRUCTION_NOTICE, dataset
from spreadwatch.demo.display import Display
from spreadwatch.demo.runner import DemoOptions, DemoResult, run_demo
from spreadwatch.settings import Settings

EVERY = timedelta(hours=24)
#: Platform names in the index where the dataset's differ (the feeds spider says "news").
INDEXED_AS = {"feeds": "news"}

pytestmark = pytest.mark.slow


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def played(
    es_settings: Settings, es_client: Elasticsearch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DemoResult, Path]]:
    out = tmp_path_factory.mktemp("demo")
    options = DemoOptions(out=out, every=EVERY, pace=False)
    with (out / "display.txt").open("w") as stream, Display(stream=stream, live=False) as display:
        result = run_demo(es_settings, options, display)
    yield result, out
    delete_incident(es_client, IndexNames(result.prefix), result.incident)


def _expected_firsts(result: DemoResult) -> dict[str, datetime]:
    """First post per platform in the truth, for the platforms the demo could replay."""
    firsts = dataset.truth()["first_per_platform"]
    skipped = set(result.not_replayed)
    return {INDEXED_AS.get(p, p): _at(ref["at"]) for p, ref in firsts.items() if p not in skipped}


def test_origin_is_the_truths_first_post(played: tuple[DemoResult, Path]) -> None:
    result, _ = played
    firsts = _expected_firsts(result)
    platform = min(firsts, key=lambda p: firsts[p])
    origin = result.story.origin
    assert origin is not None
    assert (origin.platform, origin.timestamp) == (platform, firsts[platform])
    if "weibo" not in result.not_replayed:
        truth = dataset.truth()["origin"]
        assert (origin.platform, origin.timestamp) == ("weibo", _at(truth["at"]))


def test_platform_order_follows_the_truth(played: tuple[DemoResult, Path]) -> None:
    result, _ = played
    firsts = _expected_firsts(result)
    assert result.story.platform_order == sorted(firsts, key=lambda p: firsts[p])


def test_official_denial_is_the_statement_and_alerted_within_one_round(
    played: tuple[DemoResult, Path],
) -> None:
    result, _ = played
    truth = dataset.truth()["denial"]
    denial = result.story.denial
    assert denial is not None
    assert (denial.platform, denial.timestamp) == (truth["platform"], _at(truth["at"]))
    (alert,) = [a for a in result.story.alerts if a.rule_type == "official_denial"]
    assert timedelta(0) <= alert.at - _at(truth["at"]) < EVERY


def test_alert_types_fire_in_the_order_of_the_incident(played: tuple[DemoResult, Path]) -> None:
    result, _ = played
    first_of = {}
    for alert in result.story.alerts:
        first_of.setdefault(alert.rule_type, alert.at)
    truth = dataset.truth()
    assert first_of["first_platform"] < first_of["new_repo"] < first_of["official_denial"]
    assert timedelta(0) <= first_of["new_repo"] - _at(truth["evidence"]["at"]) < EVERY


def test_no_alert_fires_twice(played: tuple[DemoResult, Path]) -> None:
    result, _ = played
    keys = [(a.rule, a.key) for a in result.story.alerts]
    assert len(keys) == len(set(keys))


def test_every_alert_arrived_once_as_an_email(played: tuple[DemoResult, Path]) -> None:
    result, out = played
    emails = sorted((out / "emails").glob("*.eml"))
    # Compared with whitespace folded: long subjects are folded around encoded words in transit.
    subjects = [
        " ".join(message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"].split())
        for p in emails
    ]
    assert sorted(subjects) == sorted(" ".join(a.subject.split()) for a in result.story.alerts)


def test_noise_is_not_indexed_and_nothing_matching_is_lost(played: tuple[DemoResult, Path]) -> None:
    result, _ = played
    counts = dataset.truth()["counts"]
    for platform in ("weibo", "hackernews", "mastodon", "bluesky", "feeds"):
        indexed = result.story.posts_per_platform.get(INDEXED_AS.get(platform, platform), 0)
        assert indexed == counts[platform]["matching"], platform


def test_outputs_are_written_and_labelled_as_reconstruction(
    played: tuple[DemoResult, Path],
) -> None:
    result, out = played
    names = {p.name for p in result.written}
    assert {"report.html", "kibana.ndjson", "story.txt", "story.json"} <= names
    assert RECONSTRUCTION_NOTICE in (out / "story.txt").read_text(encoding="utf-8")
    assert "RECONSTRUCTION" in (out / "report.html").read_text(encoding="utf-8")
    assert RECONSTRUCTION_NOTICE.split(":")[0] in (out / "display.txt").read_text(encoding="utf-8")


def test_ctrl_c_stops_everything_the_demo_started(
    es_settings: Settings, es_client: Elasticsearch, tmp_path: Path
) -> None:
    prefix = f"{es_settings.index_prefix}-int"
    env = {**os.environ, "SPREADWATCH_INDEX_PREFIX": prefix}
    if es_settings.es_url:
        env["SPREADWATCH_ES_URL"] = es_settings.es_url
    command = [
        str(Path(sys.executable).parent / "spreadwatch"),
        "demo",
        "--no-pace",
        "--every",
        "24h",
    ]
    demo = subprocess.Popen(
        [*command, "--out", str(tmp_path)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert demo.stdout is not None
    while "[  2/" not in demo.stdout.readline():  # playing: a crawl round is under way
        assert demo.poll() is None, "the demo ended before it was interrupted"
    children = psutil.Process(demo.pid).children(recursive=True)
    demo.send_signal(signal.SIGINT)
    assert demo.wait(timeout=60) == 130
    assert not [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    # What the demo indexed before the interrupt stays in the normal indices, to explore.
    assert es_client.indices.exists(index=f"{prefix}-posts")
    delete_all(es_client, IndexNames(prefix))


def test_denial_and_rumour_reach_are_measured(played: tuple[DemoResult, Path]) -> None:
    result, _ = played
    measures = result.story.found.measures
    assert measures.rumour_reach > 0
    assert measures.denial_reach > 0
    assert measures.reach_ratio == pytest.approx(measures.denial_reach / measures.rumour_reach)


def test_demo_out_holds_a_valid_wacz_and_nothing_is_falsely_deleted(
    played: tuple[DemoResult, Path],
) -> None:
    """Evidence (#15): every post the demo archived is in demo-out/evidence.wacz, whose digests
    and manifest check out; posts the dataset neither deletes nor edits are never reported so."""
    from evidence.export import verify

    result, out = played
    report = verify(out / "evidence.wacz")
    assert report.package_valid is True and report.mismatched == []
    assert report.manifest_rows >= sum(result.story.posts_per_platform.values()) // 2
    assert report.manifest_missing == []
    changed = dataset.truth().get("changed") or {"deleted": [], "edited": []}
    expected = {f"{r['platform']}:{r['id']}" for r in changed["deleted"] + changed["edited"]}
    assert {c.id for c in result.story.changed} <= {INDEXED_AS.get(i, i) for i in expected}


def test_the_posts_of_interest_are_rechecked_each_round(
    played: tuple[DemoResult, Path], es_client: Elasticsearch
) -> None:
    result, _ = played
    runs = IndexNames(result.prefix).runs
    es_client.indices.refresh(index=runs)
    found = es_client.search(index=runs, size=100, query={"term": {"source": "recheck"}})
    by_round = {h["_source"]["run_id"]: h["_source"]["status"] for h in found["hits"]["hits"]}
    # From the first round with posts of interest on, every round re-checks them.
    assert f"demo-{result.rounds:03d}-recheck" in by_round
    assert set(by_round.values()) <= {"ok", "partial"}


def test_an_archived_post_of_the_demo_replays_in_pywb(
    played: tuple[DemoResult, Path], es_client: Elasticsearch, tmp_path: Path
) -> None:
    import csv
    import re
    import urllib.request

    from pywb_support import replaying

    result, out = played
    with (out / "evidence.wacz.manifest.csv").open(encoding="utf-8") as file:
        row = next(
            r for r in csv.DictReader(file) if r["platform"] == "weibo" and r["archived_uri"]
        )
    post = es_client.get(index=IndexNames(result.prefix).posts, id=row["post_id"])["_source"]
    words = max(re.findall(r"[\u4e00-\u9fff]+", post["text"]), key=len)[:6]  # its text, in Chinese
    stamp = "".join(c for c in row["captured_at"][:19] if c.isdigit())
    with (
        replaying(out / "evidence.wacz", tmp_path) as url,
        urllib.request.urlopen(f"{url}/{stamp}id_/{row['archived_uri']}", timeout=30) as reply,
    ):
        body = reply.read().decode("utf-8")
    assert words in body


# ---------------------------------------------------------------- a world to explore (#14)


def test_the_demo_leaves_its_posts_in_the_normal_indices(
    played: tuple[DemoResult, Path], es_client: Elasticsearch, es_settings: Settings
) -> None:
    from indexer.search import SearchRequest, search_posts

    result, _ = played
    assert (result.prefix, result.incident) == (
        es_settings.index_prefix,
        "bytedance-intern-2024-demo",
    )
    found = search_posts(
        es_client, IndexNames(es_settings.index_prefix), SearchRequest(incident=result.incident)
    )
    assert found.total == sum(result.story.posts_per_platform.values()) > 0


def test_the_demos_kibana_objects_point_at_indices_that_exist(
    played: tuple[DemoResult, Path], es_client: Elasticsearch
) -> None:
    import json

    _, out = played
    objects = [json.loads(line) for line in (out / "kibana.ndjson").read_text().splitlines()]
    patterns = [o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"]
    assert patterns
    for pattern in patterns:
        assert es_client.indices.get(index=pattern), pattern


def test_clean_removes_what_the_demo_indexed(
    played: tuple[DemoResult, Path], es_client: Elasticsearch, es_settings: Settings
) -> None:
    from click.testing import CliRunner

    from spreadwatch.cli import cli

    result, _ = played
    env = {
        "SPREADWATCH_INDEX_PREFIX": result.prefix,
        "SPREADWATCH_DATA_DIR": str(es_settings.data_dir),
    }
    done = CliRunner().invoke(cli, ["demo", "--clean"], env=env)
    assert done.exit_code == 0, done.output
    names = IndexNames(result.prefix)
    es_client.indices.refresh(index=names.posts)
    left = es_client.count(index=names.posts, query={"term": {"incident": result.incident}})
    assert left["count"] == 0
