"""Measure the fine-tuned encoder and the n-gram head together on RumourEval leave-one-event-out
(#12): the two designs win on different events, so their probabilities are blended and the
classes re-weighted, and each event is scored by a blend chosen without its gold labels.

    .venv/bin/python -m indexer.stance_finetune --parts rumoureval   # writes its probabilities
    .venv/bin/python -m indexer.stance_stack [--encoder FILE] [--write]

For every event, the blend weight (`WEIGHTS`) and the per-class offsets on the blended
log-probabilities are those that maximise the mean macro-F1 of the *other seven* events'
out-of-fold probabilities. This is cross-validated stacking, not a strictly nested one: the
base models that produced those seven events' probabilities were trained with the tested event
among their data (a strictly nested blend needs a model per pair of events, 28 more
fine-tunings). Its gold labels never choose its own blend. A blend with no choice at all (the
two probabilities averaged, argmax) is reported beside it.

The 3-class figure (support / deny / other) is reported two ways: the 4-class decision merged
after predicting (as `stance_train` reports), and a 3-class decision (query and comment
probabilities summed into other, offsets chosen for the 3-class macro-F1), which is how
spreadwatch uses a stance (rumour / denial / neither).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.stance_corpus import FOUR, RUMOUREVAL, Example, rumoureval
from indexer.stance_eval import RUMOUREVAL_THREE
from indexer.stance_finetune import PROBABILITIES, print_card, save_out_of_fold
from indexer.stance_fit import (
    EmbeddingCache,
    Scored,
    fast_macro_f1,
    featurise,
    fit_tuned,
    select_rows,
    tune_offsets,
)
from indexer.stance_model import MODEL_DIR, ovr_probabilities

logger = logging.getLogger(__name__)

#: The encoder's share of the blend, tried for every event.
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Columns in sorted order (`tune_offsets` reads classes sorted).
CLASSES_4 = tuple(sorted(FOUR))
CLASSES_3 = tuple(sorted(set(RUMOUREVAL_THREE.values())))
#: Named for its inputs: the tweets read with their events' claims (the file without them,
#: `ngram-oof.npz`, is from before claims were matched).
NGRAM_CACHE = PROBABILITIES.with_name("ngram-oof-claims.npz")
REPORT = MODEL_DIR / "stance-stack-eval.json"


class StaleProbabilitiesError(RuntimeError):
    """Saved out-of-fold probabilities do not belong to the RumourEval rows read now."""


def load_out_of_fold(path: Path, tweets: Sequence[Example]) -> np.ndarray:
    """Probabilities saved by `stance_finetune` (FOUR order) as `CLASSES_4` columns."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no out-of-fold probabilities; run python -m indexer.stance_finetune"
            " --parts rumoureval (or give --encoder)"
        )
    saved = np.load(path)
    gold, events = saved["gold"].tolist(), saved["events"].tolist()
    if gold != [e.label for e in tweets] or events != [e.group for e in tweets]:
        raise StaleProbabilitiesError(f"{path}: rows differ from {RUMOUREVAL}; re-run it")
    classes = [str(c) for c in saved["classes"]]
    return np.asarray(saved["probabilities"][:, [classes.index(c) for c in CLASSES_4]])


def ngram_out_of_fold(tweets: Sequence[Example]) -> np.ndarray:
    """The shipped design's leave-one-event-out probabilities (nested offsets included), as
    `stance_train` measures it: one-vs-rest sigmoids, normalised."""
    features = featurise("ngram", tweets, EmbeddingCache(None))
    labels = np.array([e.label for e in tweets])
    groups = np.array([e.group for e in tweets])
    result = np.zeros((len(tweets), len(CLASSES_4)))
    for event in sorted(set(groups)):
        train, test = np.flatnonzero(groups != event), np.flatnonzero(groups == event)
        head = fit_tuned(
            "ngram", select_rows(features, train), labels[train].tolist(), groups[train].tolist(),
            np.ones(len(train)),
        )  # fmt: skip
        order = [list(head.classes_).index(c) for c in CLASSES_4]
        scores = head.decision_function(select_rows(features, test))
        result[test] = ovr_probabilities(scores)[:, order]
        logger.warning("ngram out-of-fold: %s done", event)
    return result


def merge_three(probabilities: np.ndarray) -> np.ndarray:
    """4-class probabilities (`CLASSES_4`) as `CLASSES_3`: query and comment are `other`."""
    comment, deny, query, support = (probabilities[:, i] for i in range(4))
    return np.stack([deny, comment + query, support], axis=1)


def chosen_blend(
    scored: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], classes: Sequence[str],
    weights: Sequence[float],
) -> tuple[float, np.ndarray]:  # fmt: skip
    """The weight and offsets maximising the mean macro-F1 over `scored` (gold, encoder,
    ngram) groups."""
    best: tuple[float, float, np.ndarray] = (-1.0, 0.0, np.zeros(len(classes)))
    for weight in weights:
        blended = [(gold, _log_blend(enc, ngr, weight)) for gold, enc, ngr in scored]
        offsets = tune_offsets([Scored(g, b) for g, b in blended], np.asarray(classes))
        figure = _mean_f1(blended, offsets, classes)
        if figure > best[0] + 1e-9:
            best = (figure, weight, offsets)
    return best[1], best[2]


def _log_blend(encoder: np.ndarray, ngram: np.ndarray, weight: float) -> np.ndarray:
    return np.log(np.clip(weight * encoder + (1 - weight) * ngram, 1e-9, None))


def _mean_f1(
    blended: Sequence[tuple[np.ndarray, np.ndarray]], offsets: np.ndarray, classes: Sequence[str]
) -> float:
    return float(
        np.mean(
            [
                fast_macro_f1(
                    np.searchsorted(np.asarray(classes), gold),
                    np.argmax(scores + offsets, axis=1),
                    len(classes),
                )
                for gold, scores in blended
            ]
        )
    )


def stacked(
    gold: np.ndarray, events: np.ndarray, encoder: np.ndarray, ngram: np.ndarray, *,
    classes: Sequence[str], weights: Sequence[float],
) -> tuple[np.ndarray, dict[str, dict[str, Any]]]:  # fmt: skip
    """Each post's predicted class (index into `classes`), its event's blend chosen on the
    other events; and the choices made per event."""
    names = sorted(set(events.tolist()))
    predicted = np.zeros(len(gold), dtype=np.int64)
    choices: dict[str, dict[str, Any]] = {}
    for event in names:
        others = [
            (gold[events == o], encoder[events == o], ngram[events == o])
            for o in names
            if o != event
        ]
        weight, offsets = chosen_blend(others, classes, weights)
        here = events == event
        predicted[here] = np.argmax(_log_blend(encoder[here], ngram[here], weight) + offsets, 1)
        choices[event] = {
            "encoder_weight": weight,
            "offsets": {c: round(float(o), 2) for c, o in zip(classes, offsets, strict=True)},
        }
    return predicted, choices


def per_event(
    gold: np.ndarray, events: np.ndarray, predicted: np.ndarray, classes: Sequence[str]
) -> dict[str, float]:
    """Macro-F1 per event and their unweighted mean (as `stance_fit.macro`)."""
    index = np.searchsorted(np.asarray(classes), gold)
    names = sorted(set(events.tolist()))
    figures = {
        e: fast_macro_f1(index[events == e], predicted[events == e], len(classes)) for e in names
    }
    figures["mean"] = float(np.mean(list(figures.values())))
    return figures


def _to_three(predicted: np.ndarray) -> np.ndarray:
    """`CLASSES_4` indices as `CLASSES_3` ones (query and comment are other)."""
    return np.array([CLASSES_3.index(RUMOUREVAL_THREE[c]) for c in CLASSES_4])[predicted]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rumoureval", type=Path, default=RUMOUREVAL)
    parser.add_argument(
        "--encoder", type=Path, action="append",
        help="the encoder's probabilities (repeat: runs with other seeds, averaged)",
    )  # fmt: skip
    parser.add_argument(
        "--ngram", type=Path, default=NGRAM_CACHE,
        help="the n-gram head's probabilities: read if there, else computed and kept"
        " (delete the file after changing the head)",
    )  # fmt: skip
    parser.add_argument("--write", action="store_true", help=f"save the figures to {REPORT}")
    parser.add_argument("--card", action="store_true", help="print the saved figures as Markdown")
    args = parser.parse_args(argv)
    if args.card:
        return print_card(parser, REPORT, card, "python -m indexer.stance_stack --write")
    if not args.rumoureval.is_dir():
        parser.error(f"no RumourEval data at {args.rumoureval} (give --rumoureval DIR)")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    try:
        return _measure(args)
    except (FileNotFoundError, StaleProbabilitiesError) as error:
        parser.error(str(error))


def _measure(args: argparse.Namespace) -> int:
    """Every decision's figures (printed; saved with --write)."""
    began = time.perf_counter()
    tweets = rumoureval(args.rumoureval)
    if not tweets:
        raise FileNotFoundError(f"no labelled tweets in {args.rumoureval}/{{train,dev}}.jsonl")
    # The encoder's files first: they are read in a second, the n-gram folds take minutes.
    runs = {f.name: load_out_of_fold(f, tweets) for f in args.encoder or [PROBABILITIES]}
    encoder = np.mean(list(runs.values()), 0)
    if args.ngram.exists():
        ngram = load_out_of_fold(args.ngram, tweets)
    else:
        ngram = ngram_out_of_fold(tweets)
        order = [CLASSES_4.index(c) for c in FOUR]
        save_out_of_fold(args.ngram, tweets, ngram[:, order])
    gold = np.array([e.label for e in tweets])
    events = np.array([e.group for e in tweets])
    gold3 = np.array([RUMOUREVAL_THREE[g] for g in gold])
    report: dict[str, Any] = {}
    blends: dict[str, Sequence[float]] = {"encoder": (1.0,), "ngram": (0.0,), "stacked": WEIGHTS}
    for name, probabilities in (
        ("encoder", encoder), ("ngram", ngram), ("mean", (encoder + ngram) / 2)
    ):  # fmt: skip
        predicted = np.argmax(probabilities, 1)
        report[f"{name} (argmax)"] = {
            "4": per_event(gold, events, predicted, CLASSES_4),
            "3 merged": per_event(gold3, events, _to_three(predicted), CLASSES_3),
            "3": per_event(gold3, events, np.argmax(merge_three(probabilities), 1), CLASSES_3),
        }
    for name, weights in blends.items():
        predicted, chosen = stacked(
            gold, events, encoder, ngram, classes=CLASSES_4, weights=weights
        )
        three, chosen3 = stacked(
            gold3, events, merge_three(encoder), merge_three(ngram), classes=CLASSES_3,
            weights=weights,
        )  # fmt: skip
        report[f"{name} (offsets)"] = {
            "4": per_event(gold, events, predicted, CLASSES_4),
            "3 merged": per_event(gold3, events, _to_three(predicted), CLASSES_3),
            "3": per_event(gold3, events, three, CLASSES_3),
            "chosen 4": chosen,
            "chosen 3": chosen3,
        }
    report["encoder_runs"] = {
        name: {
            "4": per_event(gold, events, np.argmax(run, 1), CLASSES_4)["mean"],
            "3 merged": per_event(gold3, events, _to_three(np.argmax(run, 1)), CLASSES_3)["mean"],
        }
        for name, run in runs.items()
    }
    report["seconds"] = round(time.perf_counter() - began, 1)
    text = json.dumps(report, indent=1) + "\n"
    if args.write:
        REPORT.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


#: The card's rows: (report key, what it is).
ROWS = (
    ("ngram (argmax)", "n-gram head (shipped design, its nested offsets)"),
    ("encoder (argmax)", "encoder"),
    ("mean (argmax)", "mean of the two, nothing chosen"),
    ("ngram (offsets)", "n-gram head + offsets chosen on the other events"),
    ("encoder (offsets)", "encoder + offsets chosen on the other events"),
    ("stacked (offsets)", "blend weight + offsets chosen on the other events"),
)


def card(report: dict[str, Any]) -> str:
    """The figures as a Markdown table (macro-F1 means over the eight events, then per event)."""
    events = sorted(k for k in report[ROWS[0][0]]["4"] if k != "mean")
    lines = [
        "| decision | 4-class | 3-class (merged) | 3-class (decided) | "
        + " | ".join(events) + " |",
        "|---|" + "---:|" * (len(events) + 3),
    ]  # fmt: skip
    for key, name in ROWS:
        row = report[key]
        cells = [
            name,
            *(f"{row[k]['mean']:.3f}" for k in ("4", "3 merged", "3")),
            *(f"{row['4'][e]:.2f} / {row['3'][e]:.2f}" for e in events),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    weights = [c["encoder_weight"] for c in report["stacked (offsets)"]["chosen 4"].values()]
    runs = report.get("encoder_runs", {})
    lines += [
        "",
        f"Per event: 4-class / 3-class decided. The encoder is the mean of {len(runs)} "
        "fine-tuning run(s), the same folds and settings but the random seed: "
        + "; ".join(
            f"`{name}` alone {r['4']:.3f} / {r['3 merged']:.3f} (4-class / 3-class merged)"
            for name, r in runs.items()
        )
        + ". Encoder weight chosen for the 4-class blend, per tested event: "
        + ", ".join(f"{w:g}" for w in weights)
        + ".",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
