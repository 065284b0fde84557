"""The reconstructed founding case: deterministic, true to the reporting's anchors, native shapes.

The shape checks parse every record with the spiders' own parsers (crawlers/parsers), so a record
the replay serves is one a spider can read; matching uses the pipeline's own matcher.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.parsers import github
from indexer.matching import match_post
from spreadwatch.demo import RECONSTRUCTION_NOTICE, dataset
from spreadwatch.demo.generate import generate, write
from spreadwatch.demo.truth import NON_POST_KINDS
from spreadwatch.incident import load_incident


def _posts(platform: str) -> list[dataset.Entry]:
    return [e for e in dataset.entries(platform) if e.kind not in NON_POST_KINDS]


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    written = write(*generate(), folder=tmp_path)
    for path in written:
        committed = dataset.DATA_DIR / path.name
        assert path.read_bytes() == committed.read_bytes(), f"{path.name} differs; regenerate"


@pytest.mark.parametrize("platform", dataset.PLATFORMS)
def test_matching_posts_match_the_demo_incident_and_noise_does_not(platform: str) -> None:
    incident = load_incident(dataset.INCIDENT_FILE)
    wrong = [
        (e.id, e.matches)
        for e in _posts(platform)
        if match_post(incident, *dataset.visible_text(e)).matched != e.matches
    ]
    assert wrong == []


@pytest.mark.parametrize("platform", [p for p in dataset.PLATFORMS if p != "toutiao"])
def test_every_platform_has_noise_that_must_not_match(platform: str) -> None:
    assert any(not e.matches for e in _posts(platform))


def test_dataset_size_languages_and_label() -> None:
    truth = dataset.truth()
    total = sum(c["matching"] + c["noise"] for c in truth["counts"].values())
    assert 500 <= total <= 5000
    assert set(truth["languages"]) == {"zh", "en", "de"}
    assert truth["notice"] == RECONSTRUCTION_NOTICE
    assert "RECONSTRUCTION" in dataset.INCIDENT_FILE.read_text(encoding="utf-8")


def test_origin_is_the_earliest_matching_post_on_weibo() -> None:
    truth = dataset.truth()
    earliest = min((e for e in dataset.all_entries() if e.matches), key=lambda e: e.at)
    assert (truth["origin"]["platform"], truth["origin"]["id"]) == ("weibo", earliest.id)
    assert earliest.at < datetime(2024, 10, 18, tzinfo=UTC)


def test_anchors_follow_the_reporting() -> None:
    truth = dataset.truth()
    at = {k: datetime.fromisoformat(v.replace("Z", "+00:00")) for k, v in truth["phases"].items()}
    evidence = truth["evidence"]
    assert evidence["id"].startswith("JusticeFighter110/")
    assert at["evidence"].date().isoformat() == "2024-10-18"
    fake = next(e for e in dataset.entries("github") if e.meta.get("role") == "debunk")
    assert fake.at.date() == at["evidence"].date()
    denial = truth["denial"]
    denial_at = datetime.fromisoformat(denial["at"].replace("Z", "+00:00"))
    assert denial["platform"] == "toutiao"
    assert denial_at.strftime("%a %Y-%m-%d") == "Sat 2024-10-19"
    assert at["onset"] < at["evidence"] < at["denial"] <= at["coverage"]
    german = [e.at for e in dataset.entries("feeds") if e.matches and e.meta["lang"] == "de"]
    assert min(german).date().isoformat() == "2024-10-21"


def test_statement_says_what_bytedance_said() -> None:
    (statement,) = dataset.entries("toutiao")
    text = statement.data["text"]
    for cue in ("实习生", "8月", "辞退", "商业化技术团队", "大模型", "行业联盟", "学校", "重构"):
        assert cue in text


def _parse(entry: dataset.Entry) -> list[datetime]:
    """Timestamps the spiders' parsers read from one record (a weibo repost's own, not its
    original's; a README's is the spider's, from the repository), and stars' and forks'."""
    d = entry.data
    if entry.kind == "star":
        return [github.star_activity(d, "o/r").timestamp]
    if entry.kind == "fork":
        return [github.fork_activity(d, "o/r").timestamp]
    if entry.kind == "readme":
        return []
    return [p.timestamp for p in dataset.spider_posts(entry)][-1:]


@pytest.mark.parametrize(
    "platform", ["weibo", "github", "hackernews", "reddit", "mastodon", "bluesky"]
)
def test_records_parse_with_the_spiders_parsers_at_their_time(platform: str) -> None:
    for entry in dataset.entries(platform):
        for stamp in _parse(entry):
            moment = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
            assert moment.astimezone(UTC) == entry.at, entry.id
