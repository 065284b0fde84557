"""The stance classifier against the labelled founding-case set (tests/data/stance_eval.yml).

Floor: precision and recall of every class ≥ 0.85, accuracy per language ≥ 0.85. Why 0.85: the
set (162 posts) was written alongside the lexicons, so its figures (0.94–1.00 when this floor was
set) are optimistic for unseen text; it holds ~5 % deliberate hard cases (sarcasm, rhetorical
questions, links without a domain) that a lexicon cannot get right. 0.85 leaves room for those
while a lexicon or rule regression (a category or a language broken) drops below it at once.

A second, held-out set (tests/data/stance_holdout.yml, 45 posts) was written after the rules were
frozen and never used to tune them: 35/45 correct (0.78) when added (36/45 with lexicon-3), misses being paraphrased
claims without a pattern, denials phrased without a cue word ("并不存在"), and evidence called
fake in words the lexicon lacks. Its floors — accuracy ≥ 0.70, every class's recall ≥ 0.5 — sit
about three posts (one per class) below that, since each class has only 6–12 posts.
Print the tables with `.venv/bin/python tests/stance_eval.py [FILE]`.
"""

from __future__ import annotations

from collections import Counter

import pytest
from stance_eval import EVAL_FILE, load_set, predictions, scores, table

from indexer.documents import STANCES

FLOOR = 0.85
HOLDOUT = EVAL_FILE.with_name("stance_holdout.yml")
HOLDOUT_ACCURACY = 0.70
HOLDOUT_RECALL = 0.5


@pytest.fixture(scope="module")
def pairs():
    return predictions()


def test_the_set_has_at_least_150_posts_across_zh_en_de_each_justified():
    _, posts = load_set()
    languages = Counter(p["lang"] for p in posts)
    assert len(posts) >= 150
    assert {lang: n >= 40 for lang, n in languages.items()} == {"zh": True, "en": True, "de": True}
    assert all(p["label"] in STANCES and p.get("why", "").strip() for p in posts)
    assert len({p["id"] for p in posts}) == len(posts)


def test_every_class_has_enough_examples_to_score():
    _, posts = load_set()
    assert min(Counter(p["label"] for p in posts).values()) >= 20


@pytest.mark.parametrize("label", STANCES)
def test_precision_and_recall_of_each_class_reach_the_floor(pairs, label):
    score = scores(pairs)[label]
    assert (score.precision >= FLOOR, score.recall >= FLOOR) == (True, True), table(scores(pairs))


@pytest.mark.parametrize("lang", ["zh", "en", "de"])
def test_accuracy_in_each_language_reaches_the_floor(pairs, lang):
    mine = [(post, predicted) for post, predicted in pairs if post["lang"] == lang]
    correct = sum(post["label"] == predicted for post, predicted in mine)
    assert correct / len(mine) >= FLOOR


@pytest.fixture(scope="module")
def holdout_pairs():
    return predictions(HOLDOUT)


def test_the_held_out_set_covers_every_class_in_every_language():
    _, posts = load_set(HOLDOUT)
    cells = Counter((p["lang"], p["label"]) for p in posts)
    assert min(cells[(lang, label)] for lang in ("zh", "en", "de") for label in STANCES) >= 2
    assert all(p.get("why", "").strip() for p in posts)


def test_held_out_accuracy_reaches_its_floor(holdout_pairs):
    correct = sum(post["label"] == predicted for post, predicted in holdout_pairs)
    assert correct / len(holdout_pairs) >= HOLDOUT_ACCURACY, table(scores(holdout_pairs))


@pytest.mark.parametrize("label", STANCES)
def test_held_out_recall_of_each_class_reaches_its_floor(holdout_pairs, label):
    assert scores(holdout_pairs)[label].recall >= HOLDOUT_RECALL, table(scores(holdout_pairs))
