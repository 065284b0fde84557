"""Stacking the encoder and the n-gram head (`indexer.stance_stack`) scores each event with a
blend chosen on the other events only, and reads saved probabilities only for the rows they
were computed on. The truth for the scores is scikit-learn's macro-F1."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from indexer import stance_stack as stack
from indexer.stance import StanceInput
from indexer.stance_corpus import FOUR, Example
from indexer.stance_finetune import save_out_of_fold

EVENTS = ("alpha", "beta", "gamma", "delta")


def posts(per_event: int = 60, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Gold labels (`CLASSES_4`, every class in every event) and events."""
    rng = np.random.default_rng(seed)
    gold = np.array([stack.CLASSES_4[i % 4] for i in range(per_event)] * len(EVENTS))
    rng.shuffle(gold)
    return gold, np.repeat(EVENTS, per_event)


def knowing(gold: np.ndarray, right: float, seed: int) -> np.ndarray:
    """Probabilities that put 0.7 on the gold class for a `right` share of rows, else on a
    random class."""
    rng = np.random.default_rng(seed)
    chosen = np.searchsorted(stack.CLASSES_4, gold)
    wrong = rng.random(len(gold)) > right
    chosen[wrong] = rng.integers(0, 4, wrong.sum())
    probabilities = np.full((len(gold), 4), 0.1)
    probabilities[np.arange(len(gold)), chosen] = 0.7
    return probabilities


def test_per_event_scores_are_scikit_learns_macro_f1() -> None:
    gold, events = posts()
    predicted = np.argmax(knowing(gold, 0.6, seed=2), 1)
    figures = stack.per_event(gold, events, predicted, stack.CLASSES_4)
    names = np.asarray(stack.CLASSES_4)
    for event in EVENTS:
        here = events == event
        assert figures[event] == pytest.approx(
            f1_score(gold[here], names[predicted[here]], average="macro")
        )
    assert figures["mean"] == pytest.approx(np.mean([figures[e] for e in EVENTS]))


def test_the_model_right_on_the_other_events_gets_the_weight() -> None:
    gold, events = posts()
    good, poor = knowing(gold, 0.9, seed=3), knowing(gold, 0.2, seed=4)
    _, chosen = stack.stacked(gold, events, good, poor, classes=stack.CLASSES_4, weights=(0, 1))
    assert {c["encoder_weight"] for c in chosen.values()} == {1}
    _, chosen = stack.stacked(gold, events, poor, good, classes=stack.CLASSES_4, weights=(0, 1))
    assert {c["encoder_weight"] for c in chosen.values()} == {0}


def test_an_events_own_gold_labels_never_choose_its_blend() -> None:
    gold, events = posts()
    encoder, ngram = knowing(gold, 0.6, seed=5), knowing(gold, 0.5, seed=6)
    before, _ = stack.stacked(
        gold, events, encoder, ngram, classes=stack.CLASSES_4, weights=stack.WEIGHTS
    )
    relabelled = gold.copy()
    here = events == "gamma"
    relabelled[here] = np.random.default_rng(7).permutation(gold[here])
    after, _ = stack.stacked(
        relabelled, events, encoder, ngram, classes=stack.CLASSES_4, weights=stack.WEIGHTS
    )
    assert np.array_equal(before[here], after[here])
    assert not np.array_equal(before[~here], after[~here])  # the others' blends did see them


def test_the_three_class_view_merges_query_and_comment_into_other() -> None:
    probabilities = np.array([[0.3, 0.1, 0.35, 0.25]])  # comment, deny, query, support
    assert stack.merge_three(probabilities) == pytest.approx(np.array([[0.1, 0.65, 0.25]]))
    assert stack._to_three(np.array([0, 1, 2, 3])).tolist() == [1, 0, 1, 2]


def examples(labels: list[str]) -> list[Example]:
    return [Example(StanceInput(text=f"post {i}"), label, "alpha", "en") for i, label in enumerate(labels)]  # fmt: skip


def test_saved_probabilities_come_back_in_sorted_class_order(tmp_path: Path) -> None:
    tweets = examples(["support", "deny", "query"])
    saved = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.7, 0.1]])
    save_out_of_fold(tmp_path / "oof.npz", tweets, saved)  # columns in FOUR's order
    loaded = stack.load_out_of_fold(tmp_path / "oof.npz", tweets)
    names = np.asarray(stack.CLASSES_4)
    assert names[np.argmax(loaded, 1)].tolist() == ["support", "deny", "query"]
    assert FOUR != stack.CLASSES_4


def test_probabilities_of_other_rows_or_none_at_all_are_refused(tmp_path: Path) -> None:
    save_out_of_fold(tmp_path / "oof.npz", examples(["support", "deny"]), np.full((2, 4), 0.25))
    with pytest.raises(stack.StaleProbabilitiesError, match="re-run"):
        stack.load_out_of_fold(tmp_path / "oof.npz", examples(["deny", "support"]))
    with pytest.raises(FileNotFoundError, match=r"indexer\.stance_finetune"):
        stack.load_out_of_fold(tmp_path / "missing.npz", examples(["deny"]))


def one_tweet(tmp_path: Path) -> Path:
    """A RumourEval folder of one labelled source tweet."""
    folder = tmp_path / "rumoureval"
    folder.mkdir(exist_ok=True)
    tweet = {"id": "1", "text": "is it true?", "stance": "query", "event": "alpha", "thread": "1",
             "is_source": True}  # fmt: skip
    (folder / "train.jsonl").write_text(json.dumps(tweet) + "\n", encoding="utf-8")
    (folder / "dev.jsonl").write_text("", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--rumoureval", "{tmp}/nowhere"], "no RumourEval data at"),
        (["--rumoureval", "{tmp}"], "no labelled tweets in"),
        (["--rumoureval", "{re}", "--encoder", "{tmp}/none.npz"], "no out-of-fold probabilities"),
    ],
    ids=["no data", "no tweets", "no probabilities"],
)
def test_a_missing_input_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], said: str
) -> None:
    (tmp_path / "train.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "dev.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        stack.main([a.format(tmp=tmp_path, re=one_tweet(tmp_path)) for a in arguments])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error
    assert said in error
