"""How the shipped head's per-class offsets are chosen (`indexer.stance_train.tune_offsets`):
RumourEval's gold tells only three stances apart, so its groups are scored by those three, while
spreadwatch's own groups are scored by all five labels. Scores are written by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from indexer.stance import StanceInput
from indexer.stance_train import (
    COLLAPSE,
    OWN_WEIGHT,
    Example,
    Folds,
    Scored,
    _accuracy,
    main,
    own_weights,
    tune_offsets,
)

CLASSES = np.array(["debunk", "denial", "other", "report", "rumour"])


def one_hot_scores(predicted: list[str]) -> np.ndarray:
    """Scores whose argmax is `predicted`, the runner-up `denial` one point behind."""
    scores = np.zeros((len(predicted), len(CLASSES)))
    for row, label in enumerate(predicted):
        scores[row, list(CLASSES).index("denial")] = 1.0
        scores[row, list(CLASSES).index(label)] = 2.0
    return scores


#: Four denials the head calls debunk, four posts it rightly calls other.
GOLD = np.array(["denial"] * 4 + ["other"] * 4)
SCORES = one_hot_scores(["debunk"] * 4 + ["other"] * 4)


def predicted(offsets: np.ndarray) -> list[str]:
    return [str(CLASSES[i]) for i in np.argmax(SCORES + offsets, axis=1)]


def test_a_rumoureval_group_counts_a_debunk_as_the_denial_it_is():
    offsets = tune_offsets([Scored(GOLD, SCORES, "rumoureval")], CLASSES)
    assert np.allclose(offsets, 0.0)
    assert predicted(offsets) == ["debunk"] * 4 + ["other"] * 4


def test_an_own_group_tells_a_debunk_from_a_denial():
    offsets = tune_offsets([Scored(GOLD, SCORES, "own")], CLASSES)
    assert predicted(offsets) == ["denial"] * 4 + ["other"] * 4


@pytest.mark.parametrize("kind", ["own", "rumoureval"])
def test_offsets_are_centred(kind: str):
    offsets = tune_offsets([Scored(GOLD, SCORES, kind)], CLASSES)
    assert offsets.sum() == pytest.approx(0.0)


def test_accuracy_pools_every_group_after_mapping_the_labels():
    # A debunk read as RumourEval's deny is right; 3 of 4 posts right over two groups.
    pairs = {
        "a": (["denial", "other"], ["debunk", "other"]),
        "b": (["rumour", "other"], ["rumour", "denial"]),
    }
    assert _accuracy(pairs, COLLAPSE) == 0.75


def _own(label: str, parent: str | None) -> Example:
    return Example(StanceInput(text=f"a {label}", parent_text=parent), label, "inc", "en")


def test_own_posts_weigh_each_class_alike_among_replies_and_among_the_rest():
    # Replies: three rumours, one denial; the rest: one rumour, three reports.
    mine = [_own("rumour", "p")] * 3 + [_own("denial", "p")] + [_own("rumour", None)]
    mine += [_own("report", None)] * 3
    weights = own_weights(mine)
    assert weights[:3].sum() == pytest.approx(weights[3]) == pytest.approx(2 * OWN_WEIGHT)
    assert weights[4] == pytest.approx(weights[5:].sum()) == pytest.approx(2 * OWN_WEIGHT)
    assert weights.sum() == pytest.approx(len(mine) * OWN_WEIGHT)


def test_folds_run_in_processes_give_the_figures_of_one_process():
    # Three groups of twenty posts whose features say their label, with noise, so that each
    # fold's nested fit (offsets chosen on the other groups) has something to get wrong.
    rng = np.random.default_rng(7)
    labels = [str(CLASSES[i % 5]) for i in range(60)]
    features = rng.normal(0.0, 1.0, (60, 12))
    features[np.arange(60), [i % 5 for i in range(60)]] += 1.5
    folds = Folds(
        "ngram",
        sparse.csr_matrix(features),
        labels,
        [f"g{i // 20}" for i in range(60)],
        np.ones(60),
    )
    alone = folds.leave_one_out(bool, jobs=1)
    assert set(alone) == {"g0", "g1", "g2"}
    assert folds.leave_one_out(bool, jobs=2) == alone


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_a_count_of_processes_that_is_none_is_refused_before_any_work(jobs: str, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--jobs", jobs])
    assert stopped.value.code == 2
    assert "expected a number of processes" in capsys.readouterr().err
