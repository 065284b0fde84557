"""How the shipped head's per-class offsets are chosen (`indexer.stance_fit.tune_offsets`):
RumourEval's gold tells only three stances apart, so its groups are scored by those three, while
spreadwatch's own groups are scored by all five labels. Scores are written by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import sparse

from crawlers.conformance.check import part
from indexer.stance import StanceInput, classify
from indexer.stance_card import _as_shipped_line, _classes_line, _design_name
from indexer.stance_corpus import (
    CLAIMLESS_SHARE,
    OWN_WEIGHT,
    RECORDED_WEIGHT,
    Example,
    claims_dropped,
    own_weights,
    recorded,
)
from indexer.stance_eval import AS_RUMOUREVAL
from indexer.stance_fit import (
    EmbeddingCache,
    Folds,
    Scored,
    fit,
    fit_kept,
    per_class_counts,
    pooled_accuracy,
    tune_offsets,
)
from indexer.stance_train import (
    _carried,
    _trained_on,
    as_shipped,
    main,
    pooled,
    record_as_shipped,
)
from spreadwatch.incident import Claim

CLASSES = np.array(["debunk", "denial", "other", "report", "rumour"])


def one_hot_scores(predicted: list[str], denial: list[float] | None = None) -> np.ndarray:
    """Scores whose argmax is `predicted` (2), `denial` at the given scores (default: the
    runner-up, one point behind), every other class at 0."""
    scores = np.zeros((len(predicted), len(CLASSES)))
    for row, label in enumerate(predicted):
        scores[row, list(CLASSES).index("denial")] = 1.0 if denial is None else denial[row]
        scores[row, list(CLASSES).index(label)] = 2.0
    return scores


#: Four denials the head calls debunk, four posts it rightly calls other.
GOLD = np.array(["denial"] * 4 + ["other"] * 4)
SCORES = one_hot_scores(["debunk"] * 4 + ["other"] * 4)


def predicted(offsets: np.ndarray, scores: np.ndarray = SCORES) -> list[str]:
    return [str(CLASSES[i]) for i in np.argmax(scores + offsets, axis=1)]


def test_a_rumoureval_group_counts_a_debunk_as_the_denial_it_is():
    offsets = tune_offsets([Scored(GOLD, SCORES, "rumoureval")], CLASSES)
    assert np.allclose(offsets, 0.0)
    assert predicted(offsets) == ["debunk"] * 4 + ["other"] * 4


def test_an_own_group_tells_a_debunk_from_a_denial():
    offsets = tune_offsets([Scored(GOLD, SCORES, "own")], CLASSES)
    assert predicted(offsets) == ["denial"] * 4 + ["other"] * 4


#: RumourEval: four denials the head calls other, denial one point behind; four comments far
#: from denial. Raising `denial` (or lowering `other`) past 1 finds all four: its 3-class
#: macro-F1 goes 0.33 -> 1.00.
TWEETS = Scored(
    np.array(["denial"] * 4 + ["other"] * 4),
    one_hot_scores(["other"] * 8, [1.0] * 4 + [-1.0] * 4),
    "rumoureval",
)


def own_posts(side_talk_near_denial: int) -> Scored:
    """Four pieces of side talk and four reports, all read right; the first
    `side_talk_near_denial` of the side talk with denial one point behind."""
    near = [1.0] * side_talk_near_denial + [0.0] * (8 - side_talk_near_denial)
    return Scored(
        np.array(["other"] * 4 + ["report"] * 4),
        one_hot_scores(["other"] * 4 + ["report"] * 4, near),
    )


def test_a_gain_on_rumoureval_is_not_bought_with_a_loss_on_the_own_posts():
    # The move that finds the tweets' denials reads one piece of side talk as a denial: the own
    # 5-class macro-F1 1.00 -> 0.62. The mean of the two kinds would rise (0.67 -> 0.81); the
    # own posts would pay for it.
    mine = own_posts(side_talk_near_denial=1)
    offsets = tune_offsets([TWEETS, mine], CLASSES)
    assert predicted(offsets, mine.scores) == list(mine.gold)


def test_a_move_that_helps_one_kind_and_costs_the_other_nothing_is_taken():
    mine = own_posts(side_talk_near_denial=0)
    offsets = tune_offsets([TWEETS, mine], CLASSES)
    assert predicted(offsets, TWEETS.scores) == ["denial"] * 4 + ["other"] * 4
    assert predicted(offsets, mine.scores) == list(mine.gold)


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
    assert pooled_accuracy(pairs, AS_RUMOUREVAL) == 0.75


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


def _three_groups(features: np.ndarray, labels: list[str], **readings: np.ndarray) -> Folds:
    """Sixty posts in three groups of twenty (`readings`: `trained_on`, `claimless`)."""
    return Folds(
        "ngram",
        sparse.csr_matrix(features),
        labels,
        [f"g{i // 20}" for i in range(60)],
        np.ones(60),
        **{name: sparse.csr_matrix(matrix) for name, matrix in readings.items()},
    )


def test_folds_run_in_processes_give_the_figures_of_one_process():
    # Three groups of twenty posts whose features say their label, with noise, so that each
    # fold's nested fit (offsets chosen on the other groups) has something to get wrong.
    rng = np.random.default_rng(7)
    labels = [str(CLASSES[i % 5]) for i in range(60)]
    features = rng.normal(0.0, 1.0, (60, 12))
    features[np.arange(60), [i % 5 for i in range(60)]] += 1.5
    folds = _three_groups(features, labels)
    alone = folds.leave_one_out(bool, jobs=1)
    assert set(alone) == {"g0", "g1", "g2"}
    assert folds.leave_one_out(bool, jobs=2) == alone


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_a_count_of_processes_that_is_none_is_refused_before_any_work(jobs: str, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--jobs", jobs])
    assert stopped.value.code == 2
    assert "expected a number of processes" in capsys.readouterr().err


def test_a_refit_without_a_comparison_needs_the_design_to_ship(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--designs", ""])
    assert stopped.value.code == 2
    assert "needs --final DESIGN" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--designs", "", "--final", "ngarm"], ["--designs", "bert"]])
def test_an_unknown_design_is_refused_before_any_work(argv: list[str], capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert "unknown design" in capsys.readouterr().err


def test_figures_not_measured_again_are_carried_with_when_and_on_what_they_were(
    tmp_path, monkeypatch
):
    last = {
        "started": "2026-12-06T00:15:35Z",
        "data": {"own_train": {"posts": 5580}},
        "designs": {
            "ngram": {"own_loio": {"mean": 0.85}},
            "use": {"own_loio": {"mean": 0.93}, "measured": "2026-12-02T10:00:00Z"},
        },
    }
    (tmp_path / "stance-training.json").write_text(json.dumps(last), encoding="utf-8")
    monkeypatch.setattr("indexer.stance_train.MODEL_DIR", tmp_path)
    carried = _carried({})
    assert carried["ngram"] == {
        "own_loio": {"mean": 0.85},
        "measured": "2026-12-06T00:15:35Z",
        "measured_own_posts": 5580,
    }
    # Carried before: its own date kept, and no size it was not measured on.
    assert carried["use"] == last["designs"]["use"]
    assert "ngram" not in _carried({"ngram": {}})  # measured this time: not carried
    assert (
        _design_name("ngram", carried["ngram"]) == "ngram (measured 2026-12-06 on 5,580 own posts)"
    )
    assert _design_name("ngram", {"own_loio": {"mean": 0.85}}) == "ngram"


SCALE = Claim(name="scale", patterns=["8000 gpus"])


def _claimed(n: int) -> Example:
    post = StanceInput(
        text=f"post {n}: an intern wrecked 8000 GPUs", claims=("scale",), claim_defs=(SCALE,)
    )
    return Example(post, "rumour", "inc", "en", classify(post))


def test_a_share_of_the_posts_with_a_claim_is_trained_on_as_read_without_it():
    claimed = [_claimed(n) for n in range(400)]
    plain = Example(StanceInput(text="what a day"), "other", "inc", "en")
    trained = claims_dropped([*claimed, plain], share=0.5)
    dropped = [t for t in trained[:-1] if not t.post.claims]
    assert 0.4 * 400 < len(dropped) < 0.6 * 400  # half of 400, by a hash
    assert all(t.post.claim_defs == () and t.post.text.endswith("8000 GPUs") for t in dropped)
    assert all(t.label == "rumour" and t.group == "inc" for t in dropped)
    # The lexicon's reading, a feature of the head, is read again without the claim.
    assert claimed[0].lexicon and claimed[0].lexicon.cues == ["claim:scale"]
    assert {(t.lexicon.label, tuple(t.lexicon.cues)) for t in dropped if t.lexicon} == {
        ("other", ())
    }
    assert trained[-1] is plain
    again = claims_dropped([*claimed, plain], share=0.5)
    assert [t.post for t in again] == [t.post for t in trained]


def test_the_shipped_share_drops_no_claim():
    # The shipped head is trained on every post as read (docs/stance.md: a share of 0.5 was
    # measured and not shipped); the training script must reproduce it.
    assert CLAIMLESS_SHARE == 0.0
    claimed = [_claimed(n) for n in range(50)]
    assert claims_dropped(claimed) == claimed
    # Nothing dropped: the posts are not featurised a second time, the head fits them as read.
    assert _trained_on("ngram", claimed, EmbeddingCache(None)) is None


def test_a_held_out_group_is_scored_as_read_and_as_read_without_claims():
    # Column 0 says "rumour" only where a claim is read; the training rows lose it for some
    # posts (`trained_on`), the claimless reading for every post.
    rng = np.random.default_rng(3)
    labels = ["rumour" if i % 2 else "other" for i in range(60)]
    read = rng.normal(0.0, 0.3, (60, 4))
    read[:, 0] += [3.0 if label == "rumour" else 0.0 for label in labels]
    read[:, 1] += [1.0 if label == "rumour" else 0.0 for label in labels]
    trained_on = read.copy()
    trained_on[::4, 0] = 0.0
    claimless = read.copy()
    claimless[:, 0] = 0.0
    folds = _three_groups(read, labels, trained_on=trained_on, claimless=claimless)
    (gold, as_read), (gold_again, without) = folds.held_out("g1")
    assert gold == gold_again == labels[20:40]
    assert as_read == gold  # column 0 is read
    assert without != as_read  # the same posts, scored from column 1 alone
    assert _three_groups(read, labels).held_out("g1")[1] == ([], [])


def _events_and_own(features: np.ndarray, labels: list[str], claimless: np.ndarray) -> Folds:
    """Two RumourEval events (`re:` groups) and one own incident, twenty posts each."""
    groups = ["re:e1"] * 20 + ["re:e2"] * 20 + ["own"] * 20
    return Folds(
        "ngram",
        sparse.csr_matrix(features),
        labels,
        groups,
        np.ones(60),
        claimless=sparse.csr_matrix(claimless),
    )


def test_as_shipped_scores_each_unseen_event_by_three_labels_read_with_and_without_claims():
    # Column 0 is the claim: it marks every rumour; read without claims, it is gone.
    rng = np.random.default_rng(5)
    labels = [("rumour", "denial", "other", "report")[i % 4] for i in range(60)]
    read = rng.normal(0.0, 0.2, (60, 5))
    for i, label in enumerate(labels):
        read[i, ("rumour", "denial", "other", "report").index(label)] += 3.0
    claimless = read.copy()
    claimless[:, 0] = 0.0
    figures = as_shipped(_events_and_own(read, labels, claimless))
    assert set(figures["rumoureval_loeo_3_as_shipped"]) == {"e1", "e2", "mean"}  # own: trained on
    # `report` and `other` are one class of three: read with the claim every post is right.
    assert figures["rumoureval_loeo_3_as_shipped"]["mean"] == 1.0
    assert figures["rumoureval_as_shipped_accuracy_3"] == 1.0
    assert figures["rumoureval_loeo_3_as_shipped_claimless"]["mean"] < 1.0
    # The forty event posts: 10 rumours (support), 10 denials (deny), 20 other and report.
    assert figures["rumoureval_as_shipped_classes_3"] == {
        "deny": {"gold": 10, "read": 10, "right": 10},
        "other": {"gold": 20, "read": 20, "right": 20},
        "support": {"gold": 10, "read": 10, "right": 10},
    }


def test_per_class_counts_say_how_often_a_class_was_given_and_how_often_rightly():
    pairs = {
        "e1": (["rumour", "other", "other", "denial"], ["denial", "report", "denial", "denial"]),
        "e2": (["debunk", "rumour"], ["rumour", "rumour"]),
    }
    assert per_class_counts(pairs, AS_RUMOUREVAL) == {
        "deny": {"gold": 2, "read": 3, "right": 1},
        "other": {"gold": 2, "read": 1, "right": 1},
        "support": {"gold": 2, "read": 2, "right": 1},
    }
    line = " ".join(_classes_line(per_class_counts(pairs, AS_RUMOUREVAL)))
    assert "`deny` 2 tweets, given 3 times, 1 rightly (precision 0.33, recall 0.50)" in line


def test_as_shipped_figures_are_kept_with_when_and_on_what_in_the_heads_report(
    tmp_path, monkeypatch
):
    report = {"started": "2026-12-06T08:46:10Z", "final": "ngram", "designs": {}}
    (tmp_path / "stance-training.json").write_text(json.dumps(report), encoding="utf-8")
    monkeypatch.setattr("indexer.stance_train.MODEL_DIR", tmp_path)
    figures = {
        "rumoureval_loeo_3_as_shipped": {"mean": 0.465},
        "rumoureval_as_shipped_accuracy_3": 0.676,
        "rumoureval_loeo_3_as_shipped_claimless": {"mean": 0.405},
    }
    kept = record_as_shipped(figures, own_posts=7848, seconds=2011.4)
    on_disk = json.loads((tmp_path / "stance-training.json").read_text(encoding="utf-8"))
    assert on_disk == kept
    assert {k: v for k, v in kept.items() if k != "as_shipped"} == report
    assert kept["as_shipped"]["design"] == "ngram"
    assert kept["as_shipped"]["measured_own_posts"] == 7848
    assert kept["as_shipped"]["rumoureval_loeo_3_as_shipped"] == {"mean": 0.465}
    line = " ".join(_as_shipped_line(kept))
    assert "on 7,848 own posts" in line and "34 minutes" in line
    assert "as shipped 0.47, accuracy 0.68, read with no claim matched 0.41" in line
    assert _as_shipped_line(report) == []  # a refit's report: no figures of another head
    retrained = {**kept, "data": {"own_train": {"posts": 8028}}}
    assert "not the 8,028 the head was trained on" in " ".join(_as_shipped_line(retrained))


@pytest.mark.parametrize(
    "argv", [["--as-shipped", "--final", "ngram"], ["--as-shipped", "--designs", "ngram"]]
)
def test_as_shipped_takes_the_shipped_design_and_no_other(argv: list[str], capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert "measures the shipped head's design alone" in capsys.readouterr().err


def test_as_shipped_without_a_trained_head_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("indexer.stance_train.MODEL_DIR", tmp_path)
    with pytest.raises(SystemExit) as stopped:
        main(["--as-shipped"])
    assert stopped.value.code == 2
    assert "no training report" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--designs", "", "--final", "ngram"], ["--as-shipped"]])
def test_a_missing_rumoureval_folder_is_named_before_any_work(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--rumoureval", str(tmp_path / "nowhere")])
    assert stopped.value.code == 2
    assert f"no RumourEval data: {tmp_path / 'nowhere' / 'train.jsonl'} is missing" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("argv", [["--designs", "", "--final", "ngram"], ["--as-shipped"]])
def test_a_missing_recorded_responses_folder_is_named_before_any_work(argv, tmp_path, capsys):
    for name in ("train.jsonl", "dev.jsonl"):  # RumourEval is there: the next check speaks
        (tmp_path / name).write_text("", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--rumoureval", str(tmp_path), "--recorded", str(tmp_path / "nowhere")])
    assert stopped.value.code == 2
    assert f"no recorded responses: {tmp_path / 'nowhere'} is not a folder" in (
        capsys.readouterr().err
    )


def test_a_recorded_responses_folder_holding_no_platform_file_is_named(tmp_path, capsys):
    for name in ("train.jsonl", "dev.jsonl"):
        (tmp_path / name).write_text("", encoding="utf-8")
    argv = ["--designs", "", "--final", "ngram", "--rumoureval", str(tmp_path)]
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--recorded", str(tmp_path)])  # RumourEval's files, no <platform>.jsonl
    assert stopped.value.code == 2
    assert f"no recorded responses: {tmp_path} holds none of mastodon.jsonl" in (
        capsys.readouterr().err
    )


def _toots(folder, texts: list[str]) -> None:
    """One recorded Mastodon page of `texts`, in the recorded-responses layout."""
    account = {"id": "1", "username": "a", "acct": "a", "url": "https://toot.example/@a"}
    statuses = [
        {"id": str(n), "uri": f"https://toot.example/users/a/statuses/{n}",
         "url": f"https://toot.example/@a/{n}", "created_at": "2024-10-19T08:00:00.000Z",
         "content": f"<p>{text}</p>", "account": account, "mentions": [], "tags": [],
         "media_attachments": [], "in_reply_to_id": None, "in_reply_to_account_id": None}
        for n, text in enumerate(texts, 1)
    ]  # fmt: skip
    origin = {"repo": "written-for-this-test", "path": "-", "commit": None, "note": ""}
    record = {"id": "m1", "origin": origin, "kind": "statuses", "payload": statuses, "meta": {"instance": "https://toot.example"}}  # fmt: skip
    (folder / "mastodon.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")


def test_recorded_posts_of_the_train_part_are_taken_once_each_as_other(tmp_path):
    texts = [f"see you at {n}" for n in range(20)]
    _toots(tmp_path, [*texts, *texts])  # every text twice
    taken = recorded(tmp_path)
    assert sorted(e.post.text for e in taken) == sorted(t for t in texts if part(None, t) == "train")  # fmt: skip
    assert 0 < len(taken) < len(texts)  # the other parts are left out
    assert {(e.label, e.group) for e in taken} == {("other", "recorded:mastodon")}


def test_recorded_posts_weigh_their_own_weight_in_the_pool():
    tweets = [Example(StanceInput(text="so true"), "support", "e1", "en")]
    mine = [_own("rumour", None), _own("denial", None)]
    real = [Example(StanceInput(text="gm"), "other", "recorded:mastodon", "en")]
    folds = pooled(tweets, mine, "ngram", EmbeddingCache(None), real)
    assert folds.groups == ["re:e1", "inc", "inc", "recorded:mastodon"]
    assert folds.labels == ["rumour", "rumour", "denial", "other"]
    assert folds.weights[-1] == RECORDED_WEIGHT
    assert folds.features.shape[0] == 4


def _separable(seed: int) -> tuple[np.ndarray, list[str]]:
    """Sixty posts whose first two columns say rumour or other, with noise."""
    rng = np.random.default_rng(seed)
    labels = ["rumour" if i % 2 else "other" for i in range(60)]
    features = rng.normal(0.0, 0.3, (60, 3))
    features[:, 0] += [2.0 if label == "rumour" else 0.0 for label in labels]
    features[:, 1] += [2.0 if label == "other" else 0.0 for label in labels]
    return features, labels


def test_kept_offsets_are_added_to_a_plain_fit_class_by_class():
    features, labels = _separable(7)
    matrix, weights = sparse.csr_matrix(features), np.ones(60)
    plain = fit("ngram", matrix, labels, weights)
    kept = fit_kept("ngram", matrix, labels, weights, {"other": -1.0, "rumour": 0.25})
    assert list(kept.classes_) == ["other", "rumour"]
    assert np.array_equal(kept.coef_, plain.coef_)
    assert np.allclose(kept.intercept_ - plain.intercept_, [-1.0, 0.25])


def test_folds_that_keep_offsets_score_every_held_out_group_with_them():
    # Offsets this large decide every post: the held-out group is all `rumour`, whatever its
    # features say; without them (searched on the other groups) the features decide.
    features, labels = _separable(8)
    folds = _three_groups(features, labels)
    (gold, searched), _ = folds.held_out("g2")
    assert searched == gold
    folds.offsets = {"other": -50.0, "rumour": 50.0}
    (_, kept), _ = folds.held_out("g2")
    assert kept == ["rumour"] * 20


@pytest.mark.parametrize(
    "argv",
    [
        ["--keep-offsets", "--designs", "ngram", "--final", "ngram"],
        ["--keep-offsets", "--designs", "", "--final", "use"],
    ],
)
def test_keeping_offsets_is_a_refit_of_the_shipped_design_alone(argv: list[str], capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert "--keep-offsets refits the shipped design alone" in capsys.readouterr().err
