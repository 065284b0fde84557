"""The shipped learned stance head: it loads without downloading anything, labels posts written
for this test (tests/data/stance/model_fixtures.jsonl: an invented bank-run rumour in zh/de/en,
one post per class and language, labels decided when the posts were written), keeps pinned
statements official, and is refused when it does not fit the code that builds its features."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from indexer.documents import STANCES
from indexer.stance import StanceInput
from indexer.stance_eval import read_labelled, stance_input
from indexer.stance_model import HEAD, META, StanceModel, StanceModelError, classify_batch
from spreadwatch.incident import load_incident

FIXTURES = Path(__file__).parent / "data" / "stance" / "model_fixtures.jsonl"
#: The same invented rumour as an incident file, so that posts are read with its claims matched.
ORBIS = Path(__file__).parent / "data" / "stance" / "orbis-bank.yml"
#: 15 posts; the floor allows two misses (the head scores 0.71–0.78 macro-F1 on unseen incidents
#: written by other hands, docs/stance.md; these were written with the test).
FLOOR = 13


@pytest.fixture(scope="module")
def model() -> StanceModel:
    return StanceModel.load()


def test_the_shipped_head_is_small_and_has_every_class(model: StanceModel):
    assert HEAD.stat().st_size + META.stat().st_size < 5 * 1024 * 1024
    assert sorted(model.classes) == sorted(STANCES)
    assert model.coef.shape[0] == len(STANCES)


def test_it_labels_posts_of_an_unseen_incident(model: StanceModel):
    posts = read_labelled(FIXTURES)
    stances = model.classify_batch([stance_input(p.record, None) for p in posts])
    missed = [(p.record["text"], s.label) for p, s in zip(posts, stances, strict=True)
              if s.label != p.label]  # fmt: skip
    assert len(posts) - len(missed) >= FLOOR, missed


def test_a_model_label_says_where_it_came_from(model: StanceModel):
    (stance,) = model.classify_batch([StanceInput(text="Orbis Bank denies the rumours")])
    fields = stance.fields()
    assert (fields["stance_source"], fields["stance_model"]) == ("model", model.version)
    assert 0.0 < fields["stance_confidence"] <= 1.0
    assert f"model:{model.design}" in fields["stance_cues"]


def test_a_pinned_statement_stays_the_official_denial(model: StanceModel):
    (stance,) = model.classify_batch([StanceInput(text="Hinweis zu Berichten", pinned=True)])
    assert (stance.label, stance.source, stance.confidence) == ("denial", "official", 1.0)


#: Posts of the bank's own account that deny nothing (written for this test): an official author
#: alone is no denial — a head that learned "official → denial" raised a false "Official denial"
#: on a real press release.
OFFICIAL_NOT_DENYING = [
    "Orbis Bank is hiring graduates for its Frankfurt data team. Apply by 30 June.",
    "Die Orbis Bank eröffnet am Montag eine neue Filiale in Leipzig.",
    "奥比斯银行发布第三季度财报，营业收入同比增长5%。",
    "Orbis Bank: our new mobile app is out today, with instant transfers.",
]
OFFICIAL_DENYING = [
    "Orbis Bank: the reports that withdrawals are frozen are false. Your deposits are safe.",
    "Die Orbis Bank dementiert: Die Meldung über gestoppte Auszahlungen ist falsch.",
    "奥比斯银行郑重声明：冻结取款的传闻纯属谣言，业务一切正常。",
]


@pytest.mark.parametrize("text", OFFICIAL_NOT_DENYING)
def test_an_official_post_denying_nothing_is_not_a_denial(model: StanceModel, text: str):
    (stance,) = model.classify_batch([StanceInput(text=text, official=True)])
    assert stance.label != "denial", (text, stance.confidence)


@pytest.mark.parametrize("text", OFFICIAL_DENYING)
def test_an_official_post_denying_in_words_is_a_denial(model: StanceModel, text: str):
    (stance,) = model.classify_batch([StanceInput(text=text, official=True)])
    assert (stance.label, stance.source) == ("denial", "model")


#: A claim stated flat, as the first post of a rumour often is — no hedge, no marker, no comment
#: (written for this test): `rumour` by spreadwatch's definition. The head of 2026-12-03 11:28
#: called such a post in Chinese `other`.
FLAT_CLAIMS = [
    ("zh", "奥比斯银行冻结取款"),
    ("zh", "奥比斯银行董事长跑路"),
    ("de", "Orbis Bank hat alle Auszahlungen gesperrt"),
    ("de", "Orbis-Chef ins Ausland geflohen"),
    ("en", "Orbis Bank froze withdrawals"),
    ("en", "Orbis chairman fled the country"),
]
#: Replies repeating a claim under a post that makes none (written for this test): RumourEval
#: calls most replies comments; spreadwatch calls one repeating the claim `rumour`.
REPLIES_REPEATING = [
    ("zh", "奥比斯银行已经冻结取款了", "奥比斯银行出什么事了？"),
    (
        "de",
        "Orbis hat die Konten eingefroren, kommt nichts mehr raus",
        "Was ist mit der Orbis Bank los?",
    ),
    ("en", "Orbis froze withdrawals this morning", "Anyone know what's going on with Orbis?"),
]


@pytest.fixture(scope="module")
def orbis():
    return load_incident(ORBIS)


@pytest.mark.parametrize(("lang", "text"), FLAT_CLAIMS)
def test_a_claim_stated_flat_is_a_rumour(model: StanceModel, orbis, lang: str, text: str):
    post = stance_input({"text": text, "lang": lang, "platform": "weibo"}, orbis)
    assert post.claims, "the test's claim patterns must match"
    (stance,) = model.classify_batch([post])
    assert stance.label == "rumour", (stance.label, stance.confidence)


@pytest.mark.parametrize(("lang", "text", "parent"), REPLIES_REPEATING)
def test_a_reply_repeating_a_claim_is_a_rumour(
    model: StanceModel, orbis, lang: str, text: str, parent: str
):
    record = {"text": text, "lang": lang, "kind": "comment", "parent": parent}
    post = stance_input(record, orbis)
    assert post.claims and post.parent_text == parent
    (stance,) = model.classify_batch([post])
    assert stance.label == "rumour", (stance.label, stance.confidence)


def test_a_batch_is_labelled_like_its_posts_one_by_one(model: StanceModel):
    posts = [stance_input(p.record, None) for p in read_labelled(FIXTURES)]
    together = [s.label for s in model.classify_batch(posts)]
    alone = [model.classify_batch([p])[0].label for p in posts]
    assert together == alone


def test_a_head_built_for_other_features_is_refused(tmp_path: Path):
    meta = json.loads(META.read_text(encoding="utf-8"))
    meta["context_columns"] = meta["context_columns"][:-1]
    changed = tmp_path / "head.json"
    changed.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(StanceModelError, match="other context features"):
        StanceModel.load(HEAD, changed)


def test_a_missing_head_is_an_error_naming_it(tmp_path: Path):
    with pytest.raises(StanceModelError, match="cannot read the stance head"):
        StanceModel.load(tmp_path / "none.npz", META)


def test_a_mixed_batch_keeps_each_posts_source(model: StanceModel):
    posts = [StanceInput(text="ByteDance denies it"), StanceInput(text="x", pinned=True)]
    assert [s.source for s in classify_batch(posts, model)] == ["model", "official"]


def test_a_saved_head_labels_as_the_head_in_memory(model: StanceModel, tmp_path: Path):
    """Heads are stored in half precision: saved and loaded again, the same labels."""
    head, meta = tmp_path / "head.npz", tmp_path / "head.json"
    model.save(head, meta)
    again = StanceModel.load(head, meta)
    posts = [stance_input(p.record, None) for p in read_labelled(FIXTURES)]
    assert [s.label for s in again.classify_batch(posts)] == [
        s.label for s in model.classify_batch(posts)
    ]
    with np.load(head) as stored:
        assert stored["coef"].dtype == np.float16
