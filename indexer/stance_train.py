"""Train and evaluate the learned stance head; writes the shipped artifact and its data card.

    .venv/bin/python -m indexer.stance_train [--rumoureval DIR] [--recorded DIR] [--designs ngram,use]
        [--final DESIGN] [--cache DIR] [--no-save] [--jobs N]
    .venv/bin/python -m indexer.stance_train --designs '' --final ngram   # refit only
    .venv/bin/python -m indexer.stance_train --as-shipped [--jobs N]      # measure the shipped

Data, read at training time only (never copied into the repository):
- RumourEval 2017 subtask A (`../shared/data/rumoureval2017`: train + dev, eight events of real
  Twitter conversations, each reply labelled support / deny / query / comment).
- spreadwatch's own zh/de/en posts (`data/stance/train.jsonl`, about invented incidents, each
  with its incident file in `data/stance/`).
  `data/stance/holdout.jsonl` is scored once, by the final head, never used to choose anything.
- The recorded real API responses (`../shared/data/real-responses`): the posts of their `train`
  part (`crawlers.conformance.check.PARTS`), about no incident, as `other`.

What it measures:
1. RumourEval leave-one-event-out, per design: train on seven events (the task's four labels),
   test on the eighth; macro-F1 averaged over the eight events, 4-class, and 3-class (support /
   deny / other: query and comment merged after predicting, and a head trained on the three).
2. Own data leave-one-incident-out, per design: train on the other incidents + all of
   RumourEval (mapped: support → rumour, deny → denial, query and comment → other), test on
   each incident in turn (5-class macro-F1). This, not the held-out set, chooses the design.
3. The chosen design trained on all own training posts + all of RumourEval (mapped), scored on
   the held-out set, saved to `indexer/models/`, with the card `indexer/models/stance-card.md`.

The posts and their weights come from `indexer.stance_corpus`; the heads, the offsets and the
folds from `indexer.stance_fit`. Every head of design `ngram` (in each fold and the shipped one)
gets per-class score offsets chosen by an inner leave-one-group-out over its own training
groups (`fit_tuned`), so a test event or incident never influences what is fitted for it — or,
with `--keep-offsets`, the installed head's offsets, kept in the refit and in every fold
(`fit_kept`). Designs not named in `--designs`
keep their last measured figures in the report (marked with the date they were measured and
the number of own posts they were measured on). `--designs ''` compares none: it refits the
`--final` design on the current data in minutes, where the comparison takes hours, and the
card says that its figures are the last comparison's. `--as-shipped` then measures the
shipped head's configuration alone on RumourEval's unseen events (the "as shipped" figures of
the comparison, in about two minutes with `--jobs 2` here) and keeps them in the head's
training report.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.stance import classify
from indexer.stance_corpus import (
    CLAIMLESS_SHARE,
    OWN,
    OWN_WEIGHT,
    RECORDED,
    RECORDED_GROUP,
    RECORDED_WEIGHT,
    RUMOUREVAL,
    TO_SPREADWATCH,
    Example,
    claimless,
    claims_dropped,
    group_kind,
    own,
    own_weights,
    training_posts,
)
from indexer.stance_eval import AS_RUMOUREVAL, RUMOUREVAL_THREE, score
from indexer.stance_fit import (
    LINK,
    EmbeddingCache,
    Folds,
    OneVsRestLogistic,
    featurise,
    fit_head,
    macro,
    macro_f1,
    per_class_counts,
    pooled_accuracy,
)
from indexer.stance_model import META, MODEL_DIR, StanceModel

logger = logging.getLogger(__name__)


def pooled(
    tweets: Sequence[Example],
    mine: Sequence[Example],
    design: str,
    cache: EmbeddingCache,
    real: Sequence[Example] = (),
) -> Folds:
    """RumourEval (mapped to spreadwatch's labels), the own posts, weighing more
    (`own_weights`), and the recorded real posts (`recorded`, `RECORDED_WEIGHT` each)."""
    every = [*tweets, *mine, *real]
    return Folds(
        design,
        featurise(design, every, cache),
        [TO_SPREADWATCH[e.label] for e in tweets] + [e.label for e in [*mine, *real]],
        [f"re:{e.group}" for e in tweets] + [e.group for e in [*mine, *real]],
        np.concatenate(
            [np.ones(len(tweets)), own_weights(mine), np.full(len(real), RECORDED_WEIGHT)]
        ),
        trained_on=_trained_on(design, every, cache),
    )


def _trained_on(design: str, examples: Sequence[Example], cache: EmbeddingCache) -> Any:
    """The features of `examples` as trained on, or None when that is as read (nothing dropped:
    `CLAIMLESS_SHARE` 0), so a second featurising of every post is not done for nothing."""
    trained = claims_dropped(examples)
    if all(t is e for t, e in zip(trained, examples, strict=True)):
        return None
    return featurise(design, trained, cache)


def evaluate_design(
    design: str,
    tweets: Sequence[Example],
    mine: Sequence[Example],
    cache: EmbeddingCache,
    jobs: int = 1,
    *,
    real: Sequence[Example] = (),
) -> dict[str, Any]:
    """RumourEval leave-one-event-out (4 and 3 classes) and own leave-one-incident-out (the
    recorded real posts `real` in every fit of the latter)."""
    began = time.perf_counter()
    events = Folds(
        design,
        featurise(design, tweets, cache),
        [e.label for e in tweets],
        [e.group for e in tweets],
        np.ones(len(tweets)),
        trained_on=_trained_on(design, tweets, cache),
    )
    loeo = {g: held[0] for g, held in events.leave_one_out(bool, jobs).items()}
    events.labels = [RUMOUREVAL_THREE[label] for label in events.labels]
    loeo_three = {g: held[0] for g, held in events.leave_one_out(bool, jobs).items()}
    gold = [g for pair in loeo.values() for g in pair[0]]
    predicted = [p for pair in loeo.values() for p in pair[1]]
    mixed = shipped_mixture(design, tweets, mine, cache, real)
    loio = {
        g: held[0]
        for g, held in mixed.leave_one_out(lambda g: group_kind(g) == "own", jobs).items()
    }
    own_gold = [g for pair in loio.values() for g in pair[0]]
    own_pred = [p for pair in loio.values() for p in pair[1]]
    langs = [e.lang for group in loio for e in mine if e.group == group]
    return {
        "rumoureval_loeo_4": macro(loeo, None),
        "rumoureval_loeo_3": macro(loeo, RUMOUREVAL_THREE),
        "rumoureval_loeo_3_trained": macro(loeo_three, None),
        **as_shipped(mixed, jobs),
        "rumoureval_pooled_4": macro_f1(gold, predicted),
        "rumoureval_pooled_accuracy": float(np.mean(np.array(gold) == np.array(predicted))),
        "own_loio": macro(loio, None),
        "own_loio_per_language": {
            lang: macro_f1(
                [g for g, la in zip(own_gold, langs, strict=True) if la == lang],
                [p for p, la in zip(own_pred, langs, strict=True) if la == lang],
            )
            for lang in sorted(set(langs))
        },
        "seconds": round(time.perf_counter() - began, 1),
    }


def shipped_mixture(
    design: str,
    tweets: Sequence[Example],
    mine: Sequence[Example],
    cache: EmbeddingCache,
    real: Sequence[Example] = (),
) -> Folds:
    """The posts as the shipped head is trained on them (`pooled`), with a reading of each as if
    no claim had matched, to score a held-out group both ways."""
    mixed = pooled(tweets, mine, design, cache, real)
    mixed.claimless = featurise(design, [claimless(e) for e in [*tweets, *mine, *real]], cache)
    return mixed


def as_shipped(mixed: Folds, jobs: int = 1) -> dict[str, Any]:
    """The shipped configuration (RumourEval mapped + own posts, offsets chosen on inner folds)
    on each RumourEval event it did not see, its tweets read with their event's claims and with
    none, its five labels read as RumourEval's three: what an outside check of real tweets
    sees of the shipped head."""
    shipped = mixed.leave_one_out(lambda g: g.startswith("re:"), jobs)
    read = {g.removeprefix("re:"): held[0] for g, held in shipped.items()}
    no_claims = {g.removeprefix("re:"): held[1] for g, held in shipped.items()}
    return {
        "rumoureval_loeo_3_as_shipped": macro(read, AS_RUMOUREVAL),
        "rumoureval_as_shipped_accuracy_3": pooled_accuracy(read, AS_RUMOUREVAL),
        "rumoureval_as_shipped_classes_3": per_class_counts(read, AS_RUMOUREVAL),
        "rumoureval_loeo_3_as_shipped_claimless": macro(no_claims, AS_RUMOUREVAL),
    }


def record_as_shipped(figures: dict[str, Any], own_posts: int, seconds: float) -> dict[str, Any]:
    """Keep `as_shipped` figures in the shipped head's training report, saying when and on how
    many own posts they were measured (a refit writes a new report, which drops them)."""
    report = _last_report()  # read again: another run may have written it meanwhile
    report["as_shipped"] = {
        **figures,
        "design": report["final"],
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "measured_own_posts": own_posts,
        "seconds": round(seconds, 1),
    }
    _write_report(report)
    return report


def _report_path() -> Path:
    return MODEL_DIR / "stance-training.json"


def _last_report() -> dict[str, Any]:
    """The shipped head's training report ({} before any head was trained)."""
    path = _report_path()
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _write_report(report: dict[str, Any]) -> None:
    _report_path().write_text(
        json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def describe(
    tweets: Sequence[Example],
    mine: Sequence[Example],
    held: Sequence[Example],
    real: Sequence[Example] = (),
) -> dict[str, Any]:
    return {
        "recorded": {
            "posts": len(real),
            "platforms": dict(Counter(e.group.removeprefix(RECORDED_GROUP) for e in real)),
            "weight": RECORDED_WEIGHT,
        },
        "rumoureval": {
            "tweets": len(tweets),
            "events": dict(Counter(e.group for e in tweets)),
            "labels": dict(Counter(e.label for e in tweets)),
            "with_claims": sum(1 for e in tweets if e.post.claims),
        },
        "own_train": {
            "posts": len(mine),
            "labels": dict(Counter(e.label for e in mine)),
            "languages": dict(Counter(e.lang for e in mine)),
            "incidents": dict(Counter(e.group for e in mine)),
        },
        "own_holdout": {"posts": len(held), "sha256": _sha256(OWN / "holdout.jsonl")},
    }


def score_holdout(model: StanceModel, held: Sequence[Example]) -> dict[str, Any]:
    """The held-out set, scored once by the final head (5 classes, overall and per language)."""
    predicted = [s.label for s in model.classify_batch([e.post for e in held])]
    languages = {}
    for lang in sorted({e.lang for e in held}):
        mine = [i for i, e in enumerate(held) if e.lang == lang]
        languages[lang] = score([held[i].label for i in mine], [predicted[i] for i in mine])
    return {
        "overall": score([e.label for e in held], predicted).as_dict(),
        "languages": {lang: s.as_dict() for lang, s in languages.items()},
    }


#: The designs compared when `--designs` is not given.
DESIGNS = "ngram,use"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rumoureval", type=Path, default=RUMOUREVAL)
    parser.add_argument(
        "--recorded", type=Path, default=RECORDED, help="the recorded real API responses"
    )
    parser.add_argument("--designs", default=None, help=f"designs to compare (default {DESIGNS})")
    parser.add_argument("--final", default=None, help="design to ship (default: best own LOIO)")
    parser.add_argument("--cache", type=Path, default=None, help="keep USE embeddings here")
    parser.add_argument("--no-save", action="store_true", help="compare designs only")
    parser.add_argument(
        "--as-shipped",
        action="store_true",
        help="measure only the shipped head's configuration on RumourEval's unseen events "
        "(its design, the current training posts) and keep the figures in its training report",
    )
    parser.add_argument(
        "--keep-offsets",
        action="store_true",
        help="refit (with --designs '' --final ngram) keeping the shipped head's per-class "
        "offsets instead of searching new ones (one fit; --as-shipped then keeps them in each fold)",
    )
    parser.add_argument(
        "--jobs", type=_processes, default=os.cpu_count() or 1, help="processes for the folds"
    )
    args = parser.parse_args(argv)
    if args.as_shipped:
        return _measure_as_shipped(parser, args)
    designs = [d for d in (DESIGNS if args.designs is None else args.designs).split(",") if d]
    if not designs and not args.final:
        parser.error("--designs '' (refit only) needs --final DESIGN")
    kept = _kept_offsets(parser, args, designs)
    unknown = [d for d in [*designs, args.final] if d and d not in LINK]
    if unknown:  # before minutes of loading and featurising, not after
        parser.error(f"unknown design {unknown[0]!r}; known: {', '.join(LINK)}")
    _require_data(parser, args)
    cache = EmbeddingCache(args.cache)
    tweets, mine, real = training_posts(args.rumoureval, args.recorded)
    held = own(OWN / "holdout.jsonl")
    for e in held:
        e.lexicon = classify(e.post)
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "data": describe(tweets, mine, held, real),
        "lexicon": _lexicon_baseline(tweets, mine),
        "designs": {},
    }
    for design in designs:
        report["designs"][design] = evaluate_design(
            design, tweets, mine, cache, args.jobs, real=real
        )
        logger.warning("%s: %s", design, json.dumps(report["designs"][design]))
    report["designs"].update(_carried(report["designs"]))
    final = args.final or max(designs, key=lambda d: report["designs"][d]["own_loio"]["mean"])
    if final not in report["designs"]:
        parser.error(
            f"--final {final}: no figures measured or carried for it; run --designs {final}"
        )
    report["final"] = final
    if args.no_save:  # development runs never look at the held-out set
        sys.stdout.write(json.dumps(report, indent=1) + "\n")
        return 0
    folds = pooled(tweets, mine, final, cache, real)
    head = fit_head(
        final,
        folds.training,
        folds.labels,
        folds.groups,
        folds.weights,
        read=folds.features,
        offsets=kept["offsets"] if kept is not None else None,
    )
    # Minutes in the version: a head retrained the same day is another `stance_model` value.
    version = f"{final}-lr-{time.strftime('%Y%m%dT%H%M', time.gmtime())}"
    model = StanceModel(final, tuple(head.classes_), head.coef_, head.intercept_, version)
    model.link = LINK[final]
    report["holdout"] = score_holdout(model, held)
    model.meta = {"trained": report["started"], "data": report["data"], "head": _head_info(head)}
    report["head"] = model.meta["head"]
    if kept is not None:
        report["head"]["offsets_kept_from"] = kept["version"]
    model.save()
    _write_report(report)
    sys.stdout.write(json.dumps(report, indent=1) + "\n")
    return 0


def _kept_offsets(
    parser: argparse.ArgumentParser, args: argparse.Namespace, designs: Sequence[str]
) -> dict[str, Any] | None:
    """`--keep-offsets`: the shipped head's offsets and version, read before the refit
    overwrites its report; refused where there is nothing to keep or nothing to refit."""
    if not args.keep_offsets:
        return None
    if designs or args.final != "ngram" or args.no_save:
        parser.error("--keep-offsets refits the shipped design alone: --designs '' --final ngram")
    offsets = _last_report().get("head", {}).get("offsets")
    if not offsets:
        parser.error(f"--keep-offsets: no offsets in {_report_path()}; train a head first")
    meta = json.loads(META.read_text(encoding="utf-8"))
    return {"offsets": offsets, "version": str(meta.get("version", "?"))}


def _measure_as_shipped(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`--as-shipped`: the figures a refit's design comparison would give the shipped design's
    "as shipped" column, in a fraction of its time, for the head now shipped."""
    if args.designs is not None or args.final or args.no_save:
        parser.error("--as-shipped measures the shipped head's design alone: no --designs, "
                     "--final or --no-save")  # fmt: skip
    shipped = _last_report()
    design = shipped.get("final")
    if design is None:
        parser.error(f"--as-shipped: no training report at {_report_path()}; train a head first")
    _require_data(parser, args)
    began = time.perf_counter()
    tweets, mine, real = training_posts(args.rumoureval, args.recorded)
    mixed = shipped_mixture(design, tweets, mine, EmbeddingCache(args.cache), real)
    head = shipped.get("head", {})
    if head.get("offsets_kept_from"):  # as it was fitted: the same offsets in every fold
        mixed.offsets = head["offsets"]
    figures = as_shipped(mixed, args.jobs)
    kept = record_as_shipped(figures, len(mine), time.perf_counter() - began)
    sys.stdout.write(json.dumps(kept["as_shipped"], indent=1) + "\n")
    return 0


def _require_data(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Before any work: every head is trained and measured on RumourEval's tweets and the
    recorded real posts."""
    folder = args.rumoureval
    missing = [name for name in ("train.jsonl", "dev.jsonl") if not (folder / name).is_file()]
    if missing:
        parser.error(
            f"no RumourEval data: {folder / missing[0]} is missing (--rumoureval DIR: the "
            "folder holding RumourEval 2017's train.jsonl and dev.jsonl)"
        )
    from crawlers.conformance.corpus import CorpusError, platforms  # noqa: PLC0415 - crawlers

    try:
        platforms(args.recorded)
    except CorpusError as error:
        parser.error(
            f"no recorded responses: {error} (--recorded DIR: the folder holding the recorded "
            "real API responses, <platform>.jsonl)"
        )


def _processes(value: str) -> int:
    """`--jobs`: a count of processes (joblib would read 0 as an error and -1 as "all")."""
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(
            f"expected a number of processes (1 or more), got {value!r}"
        )
    return int(value)


def _carried(measured: dict[str, Any]) -> dict[str, Any]:
    """The figures of designs not re-run this time, from the last report (marked `measured`
    with its date and `measured_own_posts`, the own training posts of that run), so that the
    card keeps comparing every design (`use` takes minutes, `ngram` hours)."""
    last = _last_report()
    if not last:
        return {}
    own_posts = last.get("data", {}).get("own_train", {}).get("posts")
    carried = {}
    for name, figures in last.get("designs", {}).items():
        if name in measured:
            continue
        if "measured" in figures:  # carried already: its date and size stay as they were
            carried[name] = figures
        else:  # measured by the last run, on the last run's own posts
            carried[name] = {
                **figures,
                "measured": last["started"],
                "measured_own_posts": own_posts,
            }
    return carried


def _head_info(head: Any) -> dict[str, Any]:
    """How the shipped head was fitted (recorded in the artifact and the training report)."""
    if isinstance(head, OneVsRestLogistic):
        offsets = getattr(head, "offsets_", np.zeros(len(head.classes_)))
        return {
            "fit": "one-vs-rest logistic regression (liblinear), classes balanced",
            "C": head.C,
            "own_weight": OWN_WEIGHT,
            "claimless_share": CLAIMLESS_SHARE,
            "offsets": {
                str(c): round(float(o), 3) for c, o in zip(head.classes_, offsets, strict=True)
            },
        }
    return {
        "fit": "multinomial logistic regression (L-BFGS), classes balanced",
        "own_weight": OWN_WEIGHT,
    }


def _lexicon_baseline(tweets: Sequence[Example], mine: Sequence[Example]) -> dict[str, Any]:
    own_pairs = {
        g: ([e.label for e in mine if e.group == g], [_label(e) for e in mine if e.group == g])
        for g in sorted({e.group for e in mine})
    }
    return {
        "own_loio": macro(own_pairs, None),
        "rumoureval_4": _lexicon_on_rumoureval(tweets),
        "rumoureval_3": _lexicon_on_rumoureval(tweets, three=True),
        # Accuracy on RumourEval's three classes (support / deny / other), every tweet pooled:
        # the lexicon's, and that of always answering the most common class.
        "rumoureval_accuracy_3": sum(
            RUMOUREVAL_THREE[e.label] == AS_RUMOUREVAL[_label(e)] for e in tweets
        )
        / len(tweets),
        "rumoureval_majority_accuracy_3": max(
            Counter(RUMOUREVAL_THREE[e.label] for e in tweets).values()
        )
        / len(tweets),
    }


def _label(example: Example) -> str:
    return example.lexicon.label if example.lexicon else "other"


def _lexicon_on_rumoureval(tweets: Sequence[Example], three: bool = False) -> dict[str, float]:
    """The lexicon's macro-F1 per event (its labels read as RumourEval's: 4-class, or the
    3-class `AS_RUMOUREVAL` against support / deny / other)."""
    back = {"rumour": "support", "denial": "deny", "debunk": "deny", "report": "comment",
            "other": "comment"}  # fmt: skip
    pairs = {}
    for event in sorted({e.group for e in tweets}):
        mine = [e for e in tweets if e.group == event]
        if three:
            pairs[event] = (
                [RUMOUREVAL_THREE[e.label] for e in mine],
                [AS_RUMOUREVAL[_label(e)] for e in mine],
            )
        else:
            pairs[event] = ([e.label for e in mine], [back[_label(e)] for e in mine])
    return macro(pairs, None)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    raise SystemExit(main())
