"""`spreadwatch demo`, played fast (one round per simulated day, no pacing), against its truth.

The demo runs the real system — replay servers on a simulated clock, the real spiders, the
pipelines, the real Elasticsearch node, the alert job and a real SMTP server — and what it
indexed is compared with the dataset's truth (spreadwatch/demo/data/truth.json, computed by the
generator from its own records): every platform, every matching post and no noise, the first
post per platform, time to denial, reach, and stance counts within the stance classifier's
documented error (docs/stance.md). Expectations come from the truth, never from the code's
own figures.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import psutil
import pytest
from elasticsearch import Elasticsearch
from elasticsearch.helpers import scan

from child_support import children_take_ctrl_c  # isort: skip
from stance_eval import DEMO_CAPTION, DEMO_CLASSIFIERS, demo_predictions  # isort: skip
from indexer.connection import IndexNames
from indexer.phases import DECAY_QUIET
from indexer.purge import delete_incident
from indexer.templates import delete_all
from spreadwatch.demo import RECONSTRUCTION_NOTICE, dataset
from spreadwatch.demo.display import Display
from spreadwatch.demo.runner import DemoOptions, DemoResult, run_demo
from spreadwatch.demo.truth import NON_POST_KINDS
from spreadwatch.incident import load_incident
from spreadwatch.settings import Settings

EVERY = timedelta(hours=24)
#: Platform names in the index where the dataset's differ (the feeds spider says "news").
INDEXED_AS = {"feeds": "news"}
STANCE_DOC = Path(__file__).resolve().parent.parent / "docs" / "stance.md"

#: One demo run (the module fixture) takes minutes, more on a loaded machine: the first test's
#: setup holds it, so the default per-test timeout would cut it short.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


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


@pytest.fixture(scope="module")
def indexed(played: tuple[DemoResult, Path], es_client: Elasticsearch) -> dict[str, dict[str, Any]]:
    """Every document the demo indexed, by id."""
    result, _ = played
    index = IndexNames(result.prefix).posts
    es_client.indices.refresh(index=index)
    query = {"query": {"term": {"incident": result.incident}}}
    return {h["_id"]: h["_source"] for h in scan(es_client, index=index, query=query)}


def _platform(name: str) -> str:
    return INDEXED_AS.get(name, name)


def doc_id(entry: dataset.Entry) -> str:
    """The id a dataset record has once indexed, by each platform's documented id scheme
    (crawlers/parsers/*: GitHub names case-folded, comments under their issue; V2EX replies by
    their `r_` anchor; Mastodon statuses by URI; news articles by the SHA-1 of their guid)."""
    data = entry.data
    if entry.platform == "v2ex":
        return f"v2ex:r_{entry.id}" if entry.kind == "reply" else f"v2ex:{entry.id}"
    if entry.platform == "github":
        if entry.kind == "readme":
            return f"github:{entry.id.lower()}:readme"
        if entry.kind == "comment":
            repo, number = data["issue_url"].split("/repos/", 1)[1].split("/issues/")
            return f"github:{repo.lower()}#{number}/comment-{entry.id}"
        return f"github:{entry.id.lower()}"
    if entry.platform == "mastodon":
        return f"mastodon:{data['uri']}"
    if entry.platform == "feeds":
        return "news:" + hashlib.sha1(entry.id.encode("utf-8")).hexdigest()
    return f"{entry.platform}:{entry.id}"


def _posts(platform: str, matching: bool) -> set[str]:
    return {
        doc_id(e)
        for e in dataset.entries(platform)
        if e.kind not in NON_POST_KINDS and e.matches == matching
    }


def _firsts() -> dict[str, datetime]:
    """First post per platform in the truth, by the index's platform names."""
    firsts = dataset.truth()["first_per_platform"]
    return {_platform(p): _at(ref["at"]) for p, ref in firsts.items()}


def test_every_platform_of_the_truth_is_replayed_and_crawled(
    played: tuple[DemoResult, Path],
) -> None:
    result, _ = played
    assert result.crawl_failures == {}
    counts = dataset.truth()["counts"]
    expected = {_platform(p) for p, c in counts.items() if c["matching"]}
    assert set(result.story.posts_per_platform) == expected == {_platform(p) for p in dataset.PLATFORMS}  # fmt: skip


@pytest.mark.parametrize("platform", dataset.PLATFORMS)
def test_every_matching_post_is_indexed_and_no_noise(
    indexed: dict[str, dict[str, Any]], platform: str
) -> None:
    counts = dataset.truth()["counts"][platform]
    ids = {i for i, doc in indexed.items() if doc["platform"] == _platform(platform)}
    assert len(ids) == counts["matching"]
    assert ids & _posts(platform, matching=False) == set()
    assert sorted(_posts(platform, matching=True) - ids) == []


def test_the_first_post_of_each_platform_is_the_truths(
    indexed: dict[str, dict[str, Any]],
) -> None:
    truth = dataset.truth()["first_per_platform"]
    earliest: dict[str, tuple[datetime, set[str]]] = {}
    for i, doc in indexed.items():
        at, platform = _at(doc["@timestamp"]), doc["platform"]
        if platform not in earliest or at < earliest[platform][0]:
            earliest[platform] = (at, {i})
        elif at == earliest[platform][0]:
            earliest[platform][1].add(i)
    for platform, ref in truth.items():
        # A README shares its repository's id and time: either document is the first.
        named = {
            doc_id(e)
            for e in dataset.entries(platform)
            if e.id == ref["id"] and e.kind not in NON_POST_KINDS
        }
        at, ids = earliest[_platform(platform)]
        assert at == _at(ref["at"]) and named & ids, (platform, at, ids, named)


def test_origin_is_the_truths_first_post(played: tuple[DemoResult, Path]) -> None:
    result, _ = played
    truth = dataset.truth()["origin"]
    origin = result.story.origin
    assert origin is not None
    assert (origin.platform, origin.timestamp) == (_platform(truth["platform"]), _at(truth["at"]))


def test_platform_order_follows_the_truth(played: tuple[DemoResult, Path]) -> None:
    result, _ = played
    firsts = _firsts()
    assert result.story.platform_order == sorted(firsts, key=lambda p: firsts[p])
    assert result.story.platform_order == [_platform(p) for p in dataset.truth()["platform_order"]]


def test_time_to_denial_is_the_truths_to_the_minute(played: tuple[DemoResult, Path]) -> None:
    result, _ = played
    truth = dataset.truth()
    expected = _at(truth["denial"]["at"]) - _at(truth["origin"]["at"])
    found = result.story.found.measures.time_to_denial
    assert found is not None
    minute = timedelta(minutes=1)
    assert found // minute == expected // minute


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
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as errors, children_take_ctrl_c():
        demo = subprocess.Popen(
            [*command, "--out", str(tmp_path / "out")], env=env, stdout=subprocess.PIPE,
            stderr=errors, text=True,
        )  # fmt: skip
    assert demo.stdout is not None
    while "[  2/" not in demo.stdout.readline():  # playing: a crawl round is under way
        assert demo.poll() is None, "the demo ended before it was interrupted"
    children = psutil.Process(demo.pid).children(recursive=True)
    demo.send_signal(signal.SIGINT)
    assert _exit_code(demo, stderr, timeout=60) == 130
    assert not [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    # What the demo indexed before the interrupt stays in the normal indices, to explore.
    assert es_client.indices.exists(index=f"{prefix}-posts")
    delete_all(es_client, IndexNames(prefix))


def _exit_code(process: subprocess.Popen[str], stderr: Path, timeout: float) -> int:
    """The process's exit code; if it is still running after `timeout`, it is asked for its
    threads' stacks (SIGUSR1, the CLI's faulthandler), killed, and the test fails with them and
    its signal masks (pending, blocked, ignored, caught)."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        status = Path(f"/proc/{process.pid}/status").read_text(encoding="utf-8")
        masks = [line for line in status.splitlines() if line.startswith(("Sig", "ShdPnd"))]
        process.send_signal(signal.SIGUSR1)
        time.sleep(2)
        process.kill()
        process.wait()
        stacks = stderr.read_text(encoding="utf-8", errors="replace")
        raise AssertionError(
            f"still running {timeout:.0f} s after SIGINT ({', '.join(masks)}):\n{stacks}"
        ) from None


def documented_error(stance_model: bool) -> dict[str, tuple[float, float]]:
    """(precision, recall) per class on the demo corpus, from docs/stance.md: the table of the
    classifier the demo ran with (`stance_model`: the learned head, else the lexicon), whose
    post counts must be this dataset's truth (a table measured on another dataset is not it)."""
    doc = STANCE_DOC.read_text(encoding="utf-8")
    caption = DEMO_CAPTION.format(
        classifier=DEMO_CLASSIFIERS["model" if stance_model else "lexicon"]
    )
    assert caption in doc, f"docs/stance.md has no {caption!r} table; re-render it"
    rows = re.findall(
        r"^\| (\w+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \|", doc.split(caption, 1)[1], re.MULTILINE
    )
    truth = dataset.truth()["stances"]
    table = rows[: len(truth)]
    assert {label: int(n) for label, n, _, _ in table} == truth, (
        f"docs/stance.md's {caption!r} table was measured on another dataset; re-render it"
    )
    return {label: (float(p), float(r)) for label, _, p, r in table}


def _within_error(true_value: float, precision: float, recall: float) -> tuple[float, float]:
    """The range a class worth `true_value` in truth can take once labelled by a classifier
    with this precision and recall (as documented, rounded to 0.01): at most every post it
    misses (1 − recall) and every false one (recall × (1 − precision) ÷ precision) off."""
    half = 0.005
    missed = 1 - recall + half
    false = min(1.0, recall + half) * (1 - precision + half) / (precision - half)
    return true_value * (1 - missed - false), true_value * (1 + false + missed)


def test_stance_counts_are_the_truths_within_the_documented_error(
    indexed: dict[str, dict[str, Any]], es_settings: Settings
) -> None:
    truth = dataset.truth()["stances"]
    found = {label: 0 for label in truth}
    for doc in indexed.values():
        found[doc["stance"]] += 1
    for label, (precision, recall) in documented_error(es_settings.stance_model).items():
        low, high = _within_error(truth[label], precision, recall)
        assert low <= found[label] <= high, (label, found[label], truth[label])


def test_the_documented_demo_table_labels_posts_as_the_demo_did(
    indexed: dict[str, dict[str, Any]], es_settings: Settings
) -> None:
    """The documented error above is only the demo's if its table (tests/stance_eval.py
    `--demo`) reads the posts as the demo's ingest does: same texts, same claims, same parents.
    (The table reads every parent at once, the demo those indexed when a reply's batch is
    written; the demo crawls a thread's posts in order, so each parent is there in time.)"""
    classifier = "model" if es_settings.stance_model else "lexicon"
    table = demo_predictions(classifier)
    differ = [
        (gold["entry"].id, label, indexed[doc_id(gold["entry"])]["stance"])
        for gold, label in table
        if indexed[doc_id(gold["entry"])]["stance"] != label
    ]
    assert differ == [], differ[:20]


def test_denial_and_rumour_reach_are_the_truths_within_the_documented_error(
    played: tuple[DemoResult, Path], es_settings: Settings
) -> None:
    """Reach as `indexer.phases` documents it (followers summed over a stance's posts), against
    the generator's sums over its own labels; the labels differ by the classifier's error."""
    result, _ = played
    measures = result.story.found.measures
    truth = dataset.truth()["reach_summed"]
    error = documented_error(es_settings.stance_model)
    for label, found in (("denial", measures.denial_reach), ("rumour", measures.rumour_reach)):
        low, high = _within_error(truth[label], *error[label])
        assert low <= found <= high, (label, found, truth[label])


def test_the_display_shows_phases_the_truth_allows(played: tuple[DemoResult, Path]) -> None:
    """Each round's phase (indexer.phases on what was indexed by then) against the truth's
    boundaries: quiet before the onset, never quiet after it; the evidence phase not before the
    evidence, the denial and its coverage not before the denial, decay not before the onset
    has had `DECAY_QUIET` to fade; a team watching sees the rumour and, between the evidence and
    the denial, the evidence phase."""
    _, out = played
    truth = dataset.truth()
    onset, evidence, denial = (_at(truth["phases"][k]) for k in ("onset", "evidence", "denial"))
    start = _at(truth["window"]["start"])
    text = (out / "display.txt").read_text("utf-8")
    lines = re.findall(r"^\[ *(\d+)/\d+\] .* phase=(\w+)", text, re.MULTILINE)
    assert len(lines) == played[0].rounds
    allowed = {
        "quiet": (None, onset),
        "rumour": (onset, evidence),
        "evidence": (evidence, denial),
        "denial": (denial, None),
        "coverage": (denial, None),
        "decay": (onset + DECAY_QUIET, None),
    }
    shown = [(start + (int(number) - 1) * EVERY, phase) for number, phase in lines]
    for moment, phase in shown:
        since, until = allowed[phase]
        assert (since is None or since <= moment) and (until is None or moment < until), (moment, phase)  # fmt: skip
    assert "rumour" in {phase for _, phase in shown}
    assert "evidence" in {phase for moment, phase in shown if evidence <= moment < denial}
    assert shown[-1][1] in ("denial", "coverage", "decay")


def _changed_ids(kind: str) -> dict[str, datetime]:
    """The truth's deleted or edited posts, by their indexed id, with when it happened."""
    found = {}
    for ref in dataset.truth()["changed"][kind]:
        entry = next(
            e
            for e in dataset.entries(ref["platform"])
            if e.id == ref["id"] and e.kind == ref["kind"]
        )
        found[doc_id(entry)] = _at(ref[f"{kind}_at"])
    return found


def test_demo_out_holds_a_valid_wacz_and_nothing_is_falsely_deleted(
    played: tuple[DemoResult, Path],
) -> None:
    """Evidence (#15): every post the demo archived is in demo-out/evidence.wacz, whose digests
    and manifest check out; the story lists exactly the posts the dataset deletes and edits."""
    from evidence.export import verify

    result, out = played
    report = verify(out / "evidence.wacz")
    assert report.package_valid is True and report.mismatched == []
    assert report.manifest_rows >= sum(result.story.posts_per_platform.values()) // 2
    assert report.manifest_missing == []
    deleted, edited = _changed_ids("deleted"), _changed_ids("edited")
    assert deleted and edited
    statuses = {c.id: c.status for c in result.story.changed}
    assert set(statuses) == set(deleted) | set(edited)
    assert all(statuses[i].startswith("deleted") for i in deleted)
    assert all(statuses[i].startswith("edited") for i in edited)


def test_the_deletion_is_alerted_within_one_round(played: tuple[DemoResult, Path]) -> None:
    result, _ = played
    removed = [a for a in result.story.alerts if a.rule_type == "evidence_removed"]
    ((doc, deleted_at),) = _changed_ids("deleted").items()
    assert [a.key for a in removed] == [doc]
    assert timedelta(0) <= removed[0].at - deleted_at < EVERY


def test_the_deletion_alert_says_when_in_the_story_it_was_found(
    played: tuple[DemoResult, Path],
) -> None:
    """Found deleted in the round after the truth's deletion, at that round's simulated time —
    not at the wall clock's (the alert once said "deleted at ~2026-12-03 04:58 UTC")."""
    result, _ = played
    ((removed,),) = [[a for a in result.story.alerts if a.rule_type == "evidence_removed"]]
    ((deleted_at,),) = [list(_changed_ids("deleted").values())]
    found = _rounds(_window())
    found_at = min(moment for moment in found if moment >= deleted_at)
    assert f"deleted at ~{found_at:%Y-%m-%d %H:%M} UTC" in removed.subject


def _window() -> tuple[datetime, datetime]:
    window = load_incident(dataset.INCIDENT_FILE).window
    assert window.end is not None
    return window.start, window.end


def _rounds(window: tuple[datetime, datetime]) -> set[datetime]:
    """The simulated moments of the test's rounds: from the window's start, EVERY apart, and its end."""
    start, end = window
    return {start + n * EVERY for n in range((end - start) // EVERY + 1)} | {end}


def test_what_the_crawls_stamped_is_the_simulated_moment_of_their_round(
    indexed: dict[str, dict[str, Any]],
) -> None:
    """first_seen, last_seen, deleted_at, edited_at and capture times are rounds' moments, and
    no post was seen before it was published."""
    rounds = _rounds(_window())
    for doc_id, post in indexed.items():
        stamps = {f: post.get(f) for f in ("first_seen", "last_seen", "deleted_at", "edited_at")}
        stamps["captured_at"] = (post.get("evidence") or {}).get("captured_at")
        for field, value in stamps.items():
            assert value is None or _at(value) in rounds, (doc_id, field, value)
        assert _at(post["@timestamp"]) <= _at(post["first_seen"]), doc_id


#: A date as the story, the e-mails and the report write one (2024-10-19, 2024-10-19T05:31).
_DATE = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")


def test_the_story_emails_and_report_print_only_dates_of_the_story(
    played: tuple[DemoResult, Path],
) -> None:
    _, out = played
    start, end = (moment.date() for moment in _window())
    texts = {name: (out / name).read_text(encoding="utf-8") for name in ("story.txt", "story.json", "report.html")}  # fmt: skip
    for path in sorted((out / "emails").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None, path
        texts[path.name] = f"{message['Subject']}\n{message['Date']}\n{body.get_content()}"
    for name, text in texts.items():
        dates = {date(*map(int, found)) for found in _DATE.findall(text)}
        assert dates, name
        outside = sorted(d for d in dates if not start <= d <= end)
        assert outside == [], name


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
