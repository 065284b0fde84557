"""Evaluate the candidate `encoder` stance design (`indexer.stance_encoder`): a small BERT with
its top layers fine-tuned, per fold, on the same data and protocol as `indexer.stance_train`.

    .venv/bin/pip install -e '.[stance-train]'   # JAX and optax: training only
    .venv/bin/python -m indexer.stance_finetune [--rumoureval DIR] [--parts rumoureval,own]
        [--base all-minilm-l6-v2|bge-small-en-v15] [--trained-layers N] [--max-tokens N]

RumourEval 2017 leave-one-event-out with the task's four labels (3-class merged after
predicting), and the own posts leave-one-incident-out with spreadwatch's five (RumourEval
mapped and pooled in, own posts weighted `OWN_WEIGHT`). Figures go to
`indexer/models/stance-encoder-eval.json`, one entry per run (`run_name`: base, trained
layers and, when not the default, tokens per post and context; docs/stance.md renders them
beside the shipped head's). Nothing is saved as a model: the design is measured, not shipped
(docs/stance.md).

Only the top `--trained-layers` (default `TRAINED_LAYERS`) and the classifier learn; the
layers below are the base model's, so their output is computed once for every post and reused by
every fold. Each fold's test
posts are scored by the numpy forward pass, the code path a shipped encoder would run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer import stance_encoder as enc
from indexer.stance_corpus import (
    FOUR,
    OWN,
    OWN_WEIGHT,
    RUMOUREVAL,
    TO_SPREADWATCH,
    Example,
    own,
    rumoureval,
)
from indexer.stance_eval import RUMOUREVAL_THREE
from indexer.stance_fit import Pairs, macro
from indexer.stance_model import MODEL_DIR

logger = logging.getLogger(__name__)

#: How many of the base's top layers are fine-tuned by default (MiniLM has six).
TRAINED_LAYERS = 4
EPOCHS = 3.0
BATCH = 32
LEARNING_RATE = 8e-5
WEIGHT_DECAY = 0.01
DROPOUT = 0.1
SEED = 0
#: What the last run measured (docs/stance.md renders it).
REPORT = MODEL_DIR / "stance-encoder-eval.json"
#: The default run's RumourEval out-of-fold probabilities (derived from ../shared/data: kept
#: outside the project, like the data); other runs' lie beside it (`probabilities_path`).
PROBABILITIES = Path.home() / ".cache" / "spreadwatch" / "stance" / "encoder-oof.npz"


def run_name(base: enc.Base, trained_layers: int, max_tokens: int = enc.MAX_TOKENS) -> str:
    """What names a run in the report: the base, how many of its layers learn and, when not
    the default, how many tokens of post and context it reads."""
    tokens = "" if max_tokens == enc.MAX_TOKENS else f"/{max_tokens}t"
    return f"{base.name}/top{trained_layers}{tokens}"


DEFAULT_RUN = run_name(enc.DEFAULT_BASE, TRAINED_LAYERS)


def probabilities_path(run: str) -> Path:
    if run == DEFAULT_RUN:
        return PROBABILITIES
    return PROBABILITIES.with_name(f"encoder-oof-{run.replace('/', '-')}.npz")


@dataclass
class Encoded:
    """Every post tokenised once, with the frozen layers' output (layers below
    `trained_from`; the embeddings when it is 0)."""

    batch: enc.Batch
    frozen: np.ndarray
    trained_from: int


def encode_all(
    examples: Sequence[Example], weights: dict[str, np.ndarray], tokenizer: Any,
    trained_from: int, max_tokens: int = enc.MAX_TOKENS,
) -> Encoded:  # fmt: skip
    import jax  # noqa: PLC0415 - training only
    import jax.numpy as jnp  # noqa: PLC0415

    batch = enc.tokenize([e.post for e in examples], tokenizer, max_tokens)
    ops = enc.Ops(jnp, jax.scipy.special.erf)
    frozen_weights = {k: jnp.asarray(v) for k, v in weights.items()}

    @jax.jit
    def lower(ids: Any, types: Any, mask: Any) -> Any:
        return enc.hidden_states(
            frozen_weights, enc.Batch(ids, types, mask), ops, stop=trained_from
        )

    parts = [
        np.asarray(lower(batch.ids[i : i + 128], batch.types[i : i + 128], batch.mask[i : i + 128]))
        for i in range(0, len(examples), 128)
    ]
    return Encoded(batch, np.concatenate(parts), trained_from)


def trained_part(
    weights: dict[str, np.ndarray], classes: int, seed: int, trained_from: int
) -> dict[str, np.ndarray]:
    """The layers that learn (started from the base model) and a fresh classifier."""
    tops = tuple(f"encoder.layer.{i}." for i in range(trained_from, enc.layer_count(weights)))
    part = {k: v.copy() for k, v in weights.items() if k.startswith(tops)}
    rng = np.random.default_rng(seed)
    part["classifier.weight"] = rng.normal(0, 0.02, (2 * enc.HIDDEN, classes)).astype(np.float32)
    part["classifier.bias"] = np.zeros(classes, np.float32)
    return part


def train_encoder(
    data: Encoded, rows: np.ndarray, *, labels: np.ndarray, weights: np.ndarray, classes: int,
    base: dict[str, np.ndarray], seed: int = SEED,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Fine-tune on `rows` (labels as class indices; per-row weights); returns the trained part."""
    import jax  # noqa: PLC0415 - training only
    import jax.numpy as jnp  # noqa: PLC0415
    import optax  # noqa: PLC0415

    params = {
        k: jnp.asarray(v) for k, v in trained_part(base, classes, seed, data.trained_from).items()
    }
    steps = max(2, int(EPOCHS * len(rows) / BATCH))
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, LEARNING_RATE, max(1, steps // 10), steps, LEARNING_RATE * 0.05
    )
    optimiser = optax.adamw(schedule, weight_decay=WEIGHT_DECAY)
    state = optimiser.init(params)
    # Balanced classes, softened (square root): the rare ones count more, not overwhelmingly.
    counts = np.bincount(labels[rows], weights=weights[rows], minlength=classes)
    class_weight = jnp.asarray(np.sqrt(counts.sum() / (classes * np.maximum(counts, 1e-9))))

    def loss(params: Any, rows: tuple[Any, Any, Any, Any], key: Any) -> Any:
        x, mask, y, w = rows
        keys = [key]

        def dropout(value: Any) -> Any:
            keys[0], sub = jax.random.split(keys[0])
            keep = jax.random.bernoulli(sub, 1.0 - DROPOUT, value.shape)
            return jnp.where(keep, value / (1.0 - DROPOUT), 0.0)

        ops = enc.Ops(jnp, jax.scipy.special.erf, dropout)
        batch = enc.Batch(None, None, mask)
        top = enc.hidden_states(params, batch, ops, start=data.trained_from, x=x)
        scores = enc.class_scores(params, top, mask, ops)
        nll = -jnp.take_along_axis(jax.nn.log_softmax(scores), y[:, None], 1)[:, 0]
        share = class_weight[y] * w
        return (nll * share).sum() / share.sum()

    @jax.jit
    def step(params: Any, state: Any, rows: tuple[Any, Any, Any, Any], key: Any) -> Any:
        value, grads = jax.value_and_grad(loss)(params, rows, key)
        updates, state = optimiser.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    rng = np.random.default_rng(seed)
    key = jax.random.PRNGKey(seed)
    order = np.array([], dtype=np.int64)
    began = time.perf_counter()
    for number in range(steps):
        if len(order) < BATCH:
            order = np.concatenate([order, rng.permutation(rows)])
        chosen, order = order[:BATCH], order[BATCH:]
        key, sub = jax.random.split(key)
        rows_in = (
            data.frozen[chosen], data.batch.mask[chosen], jnp.asarray(labels[chosen]),
            jnp.asarray(weights[chosen], jnp.float32),
        )  # fmt: skip
        params, state, value = step(params, state, rows_in, sub)
        if number % 100 == 0:
            logger.info(
                "step %d/%d loss %.3f (%.0f s)", number, steps, value, time.perf_counter() - began
            )
    return {k: np.asarray(v) for k, v in params.items()}


def encoder_probabilities(
    data: Encoded, rows: np.ndarray, part: dict[str, np.ndarray]
) -> np.ndarray:
    """The trained part's probabilities for `rows`, in numpy: the run-time code path."""
    ops = enc.numpy_ops()
    out = []
    for start in range(0, len(rows), 128):
        chunk = rows[start : start + 128]
        batch = enc.Batch(data.batch.ids[chunk], data.batch.types[chunk], data.batch.mask[chunk])
        top = enc.hidden_states(part, batch, ops, start=data.trained_from, x=data.frozen[chunk])
        out.append(enc.softmax(enc.class_scores(part, top, batch.mask, ops), ops))
    return np.concatenate(out)


def held_out_folds(
    examples: Sequence[Example], labels: list[str], *, classes: tuple[str, ...],
    weights: np.ndarray, tested: Sequence[str], data: Encoded, base: dict[str, np.ndarray],
    out_of_fold: np.ndarray | None = None, seed: int = SEED,
) -> dict[str, Pairs]:  # fmt: skip
    """Per held-out group: (gold, predicted), the encoder trained on every other group; each
    tested post's probabilities go to its row of `out_of_fold` when given (for stacking)."""
    y = np.array([classes.index(label) for label in labels])
    groups = np.array([e.group for e in examples])
    result: dict[str, Pairs] = {}
    for group in tested:
        train, test = np.where(groups != group)[0], np.where(groups == group)[0]
        began = time.perf_counter()
        part = train_encoder(
            data, train, labels=y, weights=weights, classes=len(classes), base=base, seed=seed
        )
        probs = encoder_probabilities(data, test, part)
        if out_of_fold is not None:
            out_of_fold[test] = probs
        result[group] = ([labels[i] for i in test], [classes[i] for i in probs.argmax(1)])
        logger.warning(
            "%s: macro-F1 %.3f (%.0f s)", group, macro({group: result[group]}, None)[group],
            time.perf_counter() - began,
        )  # fmt: skip
    return result


def save_out_of_fold(path: Path, tweets: Sequence[Example], probabilities: np.ndarray) -> None:
    """RumourEval's leave-one-event-out probabilities, in `rumoureval()`'s order, with what
    identifies the rows (a stale file read against changed data fails loudly, not quietly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, probabilities=probabilities, classes=np.array(FOUR),
        events=np.array([e.group for e in tweets]), gold=np.array([e.label for e in tweets]),
    )  # fmt: skip
    logger.warning("out-of-fold probabilities: %s", path)


def _subset(data: Encoded, rows: slice) -> Encoded:
    batch = data.batch
    return Encoded(
        enc.Batch(batch.ids[rows], batch.types[rows], batch.mask[rows]), data.frozen[rows],
        data.trained_from,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rumoureval", type=Path, default=RUMOUREVAL)
    parser.add_argument("--parts", default="rumoureval,own", help="rumoureval, own or both")
    parser.add_argument("--card", action="store_true", help="print the figures as Markdown")
    parser.add_argument(
        "--probabilities", type=Path,
        help=f"where RumourEval's out-of-fold probabilities go (npz; read by stance_stack; "
        f"default {PROBABILITIES} for {DEFAULT_RUN}, a file beside it for other runs)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=SEED, help="initialisation and shuffling")
    parser.add_argument("--base", choices=enc.BASES, default=enc.DEFAULT_BASE.name)
    parser.add_argument(
        "--trained-layers", type=int, default=TRAINED_LAYERS,
        help=f"how many of the base's top layers are fine-tuned (default {TRAINED_LAYERS})",
    )  # fmt: skip
    parser.add_argument(
        "--max-tokens", type=int, default=enc.MAX_TOKENS,
        help=f"tokens of post and context read (default {enc.MAX_TOKENS}; the post keeps up to "
        f"{enc.POST_TOKENS}, the context is cut to the rest)",
    )  # fmt: skip
    parser.add_argument("--report", type=Path, default=REPORT, help="where the figures go")
    args = parser.parse_args(argv)
    if args.card:
        return print_card(parser, args.report, card, "python -m indexer.stance_finetune")
    parts = args.parts.split(",")
    if not parts or not set(parts) <= {"rumoureval", "own"}:
        parser.error(f"--parts takes rumoureval, own or both, not {args.parts!r}")
    if importlib.util.find_spec("jax") is None or importlib.util.find_spec("optax") is None:
        parser.error("training needs JAX and optax: .venv/bin/pip install -e '.[stance-train]'")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    chosen, base = _base(parser, args.base, args.trained_layers, args.max_tokens)
    layers = enc.layer_count(base)
    tweets, mine = rumoureval(args.rumoureval), own(OWN / "train.jsonl")
    pooled = [*tweets, *mine]
    data = encode_all(
        pooled, base, enc.base_tokenizer(chosen), layers - args.trained_layers, args.max_tokens
    )
    n = len(tweets)
    run = run_name(chosen, args.trained_layers, args.max_tokens)
    runs = json.loads(args.report.read_text(encoding="utf-8")) if args.report.exists() else {}
    report = runs.setdefault(run, {})
    report.update({"trained_from_layer": data.trained_from, "layers": layers, "epochs": EPOCHS,
                   "learning_rate": LEARNING_RATE, "batch": BATCH,
                   "max_tokens": args.max_tokens, "base": chosen.source.rsplit("/", 1)[-1],
                   "seed": args.seed})  # fmt: skip
    if "rumoureval" in parts:
        began = time.perf_counter()
        out_of_fold = np.zeros((n, len(FOUR)), np.float32)
        loeo = held_out_folds(
            tweets, [e.label for e in tweets], classes=FOUR, weights=np.ones(n),
            tested=sorted({e.group for e in tweets}), data=_subset(data, slice(0, n)), base=base,
            out_of_fold=out_of_fold, seed=args.seed,
        )  # fmt: skip
        save_out_of_fold(args.probabilities or probabilities_path(run), tweets, out_of_fold)
        report["rumoureval_loeo_4"] = macro(loeo, None)
        report["rumoureval_loeo_3"] = macro(loeo, RUMOUREVAL_THREE)
        report["rumoureval_seconds"] = round(time.perf_counter() - began)
        report["rumoureval_measured"] = time.strftime("%Y-%m-%d", time.gmtime())
    if "own" in parts:
        began = time.perf_counter()
        labels = [TO_SPREADWATCH[e.label] for e in tweets] + [e.label for e in mine]
        weights = np.concatenate([np.ones(n), np.full(len(mine), OWN_WEIGHT)])
        loio = held_out_folds(
            pooled, labels, classes=tuple(sorted(set(labels))), weights=weights,
            tested=sorted({e.group for e in mine}), data=data, base=base, seed=args.seed,
        )  # fmt: skip
        report["own_loio"] = macro(loio, None)
        report["own_seconds"] = round(time.perf_counter() - began)
        report["own_measured"] = time.strftime("%Y-%m-%d", time.gmtime())
    args.report.write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps({run: report}, indent=1) + "\n")
    return 0


def _base(
    parser: argparse.ArgumentParser, name: str, trained_layers: int,
    max_tokens: int = enc.MAX_TOKENS,
) -> tuple[enc.Base, dict[str, np.ndarray]]:  # fmt: skip
    """The chosen base and its weights (downloaded when missing), or the parser's error: also
    for layers or a token budget the base cannot give (it has a position embedding per token
    it reads; the post keeps up to `POST_TOKENS` of them and needs three special tokens)."""
    chosen = enc.BASES[name]
    try:
        enc.fetch(chosen)
        weights = enc.base_weights(chosen)
    except enc.EncoderError as error:
        parser.error(str(error))
    layers = enc.layer_count(weights)
    if not 1 <= trained_layers <= layers:
        parser.error(f"--trained-layers: {name} has {layers} layers, not {trained_layers}")
    positions = len(weights["embeddings.position_embeddings.weight"])
    if not enc.POST_TOKENS + 3 < max_tokens <= positions:
        parser.error(f"--max-tokens takes {enc.POST_TOKENS + 4} to {positions}, not {max_tokens}")
    return chosen, weights


def print_card(
    parser: argparse.ArgumentParser, report: Path, render: Callable[[dict[str, Any]], str],
    produce: str,
) -> int:  # fmt: skip
    """`--card`: the saved figures as Markdown, or an error naming the command that makes them."""
    if not report.exists():
        parser.error(f"no figures yet ({report}): run {produce}")
    sys.stdout.write(render(json.loads(report.read_text(encoding="utf-8"))))
    return 0


def card(runs: dict[str, dict[str, Any]]) -> str:
    """Each encoder run's figures per RumourEval event beside the shipped n-gram head's."""
    shipped = json.loads((MODEL_DIR / "stance-training.json").read_text(encoding="utf-8"))
    rows = [(f"encoder: {run}", figures) for run, figures in runs.items()]
    rows.append(("ngram (shipped)", shipped["designs"]["ngram"]))
    events = sorted({k for _, f in rows for k in f.get("rumoureval_loeo_4", {}) if k != "mean"})
    lines = [
        f"- `{run}`: {r['base']}, layers {r['trained_from_layer'] + 1}–{r['layers']} and a "
        f"classifier fine-tuned per fold ({r['epochs']:g} epochs, batch {r['batch']}, learning "
        f"rate {r['learning_rate']:g}, {r['max_tokens']} tokens of post + context, seed "
        f"{r.get('seed', 0)}); RumourEval measured {r.get('rumoureval_measured', '–')} in "
        f"{r.get('rumoureval_seconds', '–')} s."
        for run, r in runs.items()
    ]
    lines += [
        "",
        "| design | 4-class mean | 3-class mean | " + " | ".join(events) + " | own 5-class |",
        "|---|" + "---:|" * (len(events) + 3),
    ]
    for name, figures in rows:
        four, three = figures.get("rumoureval_loeo_4", {}), figures.get("rumoureval_loeo_3", {})
        cells = [
            name,
            _f(four.get("mean")),
            _f(three.get("mean")),
            *(f"{_f(four.get(e))} / {_f(three.get(e))}" for e in events),
            _own(figures.get("own_loio", {})),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _own(loio: dict[str, float]) -> str:
    """The own leave-one-incident-out mean and over how many incidents: runs measured on
    different sets of own incidents are not comparable figure for figure."""
    incidents = len([name for name in loio if name != "mean"])
    mean = loio.get("mean")
    return _f(mean) if mean is None else f"{_f(mean)} ({incidents} incidents)"


if __name__ == "__main__":
    raise SystemExit(main())
