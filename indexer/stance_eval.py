"""How well the stance classifier does on posts someone labelled: `spreadwatch stance eval`.

A comms team labels a sample of its own incident — one JSON object a line: `text`, `label` (one
of `indexer.documents.STANCES`; `gold` also read), and optionally `parent` (the
text it replies to or quotes; `parent_text` also read), `title`, `lang`, `platform`, `kind`,
`domain`, `official`, `pinned`, `incident` — and gets the
confusion matrix, per-class precision/recall/F1, macro-F1 and the same per language, each beside
what always answering the most common gold label would score (a sample of a real incident is
mostly side talk: accuracy alone flatters a classifier that finds none of the rumours). Real
labelled tweets come in RumourEval's scheme (`SCHEMES`: support, deny, query, comment), read as
it is and scored on the three classes both schemes tell apart.

Claims are matched as the ingest does (`indexer.matching`) against the incident's claims: the
`--incident` given, or each line's own `incident` looked up in the incidents folder. Macro-F1 is
the unweighted mean of the F1 of the classes present in the gold labels or the predictions
(scikit-learn's definition), so a class never predicted and never labelled does not count.

Figures say how often; the misses say why. Every post labelled other than its gold label is kept
(`Miss`: its line, the label given, how sure, the claims matched and the cues) — in the JSON
always, in the tables with `--misses` — so a team can tell a classifier's error from an incident
file whose claims miss how people actually write about it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from indexer.documents import STANCES
from indexer.matching import claim_matches, fold
from indexer.stance import Stance, StanceInput
from spreadwatch.display import display_line, display_markdown
from spreadwatch.incident import Incident
from spreadwatch.jsonl import JsonlError, json_objects

Predict = Callable[[Sequence[StanceInput]], list[Stance]]


@dataclass(frozen=True)
class Scheme:
    """The gold labels a file may use, the classes they are scored as, and how each label is
    read in those classes — the file's gold and the classifier's five."""

    name: str
    gold: tuple[str, ...]
    classes: tuple[str, ...]
    read_gold: dict[str, str]
    read_predicted: dict[str, str]


#: RumourEval's reply stances (SemEval-2017 Task 8 subtask A; support, deny, query, comment) read
#: as the three that tell apart what spreadwatch's labels can: query and comment are `other`.
RUMOUREVAL_THREE = {"support": "support", "deny": "deny", "query": "other", "comment": "other"}
#: spreadwatch's labels as those three: RumourEval does not tell a debunk of the evidence from a
#: denial, nor press from comment.
AS_RUMOUREVAL = {
    "rumour": "support",
    "denial": "deny",
    "debunk": "deny",
    "report": "other",
    "other": "other",
}
SCHEMES = {
    scheme.name: scheme
    for scheme in (
        Scheme("spreadwatch", STANCES, STANCES, {s: s for s in STANCES}, {s: s for s in STANCES}),
        Scheme(
            "rumoureval",
            tuple(RUMOUREVAL_THREE),
            ("support", "deny", "other"),
            RUMOUREVAL_THREE,
            AS_RUMOUREVAL,
        ),
    )
}
SPREADWATCH = SCHEMES["spreadwatch"]


class EvalFileError(ValueError):
    """A line of the labelled file is unusable; the message names the line."""


@dataclass(frozen=True)
class Labelled:
    """One labelled post of the file."""

    line: int
    label: str
    lang: str
    record: dict[str, Any]


def read_labelled(path: Path, scheme: Scheme = SPREADWATCH) -> list[Labelled]:
    """Every labelled post of a JSONL file, its gold label one of `scheme`'s; a bad line is an
    error naming it (nothing is silently skipped: a sample with holes would give figures for
    posts nobody chose)."""
    posts = []
    try:
        lines = list(json_objects(path))
    except JsonlError as error:
        raise EvalFileError(str(error)) from None
    for number, found in lines:
        record = _canonical(found, f"{path}:{number}")
        text, label = record.get("text"), record.get("label")
        if not isinstance(text, str) or not (text.strip() or record.get("title")):
            raise EvalFileError(f"{path}:{number}: no text")
        labels = ", ".join(scheme.gold)
        if label is None:
            raise EvalFileError(
                f"{path}:{number}: no label (a `label` or `gold` key, one of {labels})"
            )
        if label not in scheme.gold:
            raise EvalFileError(
                f"{path}:{number}: label {label!r} is not one of {labels}"
                + _other_scheme_hint(label, scheme)
            )
        lang = str(record.get("lang") or "und")
        posts.append(Labelled(number, label, lang, record))
    if not posts:
        raise EvalFileError(f"{path}: no labelled post")
    return posts


def _other_scheme_hint(label: object, scheme: Scheme) -> str:
    """Which option reads `label`, when another scheme's gold has it."""
    others = [s.name for s in SCHEMES.values() if s is not scheme and label in s.gold]
    return f" (a {others[0]} label: read the file with --labels {others[0]})" if others else ""


#: Other names labelling tools give the two fields that matter, read as the canonical ones.
#: Not `stance`: a sample exported by `spreadwatch search` carries the classifier's `stance`
#: beside the `label` a team adds, and the classifier's guess is not gold.
ALIASES = {"label": ("gold",), "parent": ("parent_text",)}


def _canonical(record: dict[str, Any], where: str) -> dict[str, Any]:
    """The record with `label` and `parent` under their canonical names (from an alias when
    only that is given), the label trimmed and lower-cased ("Denial " is denial). Two names
    giving different values are an error: which one is gold cannot be guessed."""
    record = dict(record)
    for name, aliases in ALIASES.items():
        given = {key: record[key] for key in (name, *aliases) if record.get(key) is not None}
        if len({json.dumps(value) for value in given.values()}) > 1:
            raise EvalFileError(f"{where}: {' and '.join(given)} disagree")
        if given:
            record[name] = next(iter(given.values()))
    if isinstance(record.get("label"), str):
        record["label"] = record["label"].strip().lower()
    return record


def stance_input(record: dict[str, Any], incident: Incident | None) -> StanceInput:
    """What the classifier sees of a labelled post, claims matched as the ingest does."""
    folded = fold(f"{record.get('title') or ''}\n{record.get('text') or ''}")
    claims = [c for c in (incident.claims if incident else []) if claim_matches(c, folded)]
    return StanceInput(
        text=str(record.get("text") or ""),
        title=record.get("title"),
        lang=record.get("lang"),
        platform=str(record.get("platform") or ""),
        kind=str(record.get("kind") or "post"),
        official=bool(record.get("official")),
        claims=tuple(c.name for c in claims),
        domain=record.get("domain"),
        pinned=bool(record.get("pinned")),
        claim_defs=tuple(claims),
        parent_text=record.get("parent"),
        source_text=record.get("source"),
    )


@dataclass(frozen=True)
class ClassScore:
    label: str
    support: int
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Baseline:
    """What always answering the most common gold label scores on the same posts. A team's own
    sample is mostly side talk, and a classifier can be right about most of it while finding
    none of the rumours and denials; its figures mean something only above this line."""

    label: str
    accuracy: float
    macro_f1: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
        }


@dataclass
class Scores:
    """Figures for one group of posts (all, or one language)."""

    posts: int
    accuracy: float
    macro_f1: float
    classes: list[ClassScore]
    #: gold class → predicted class → posts
    confusion: dict[str, dict[str, int]]
    baseline: Baseline

    def as_dict(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "baseline": self.baseline.as_dict(),
            "classes": {
                c.label: {
                    "support": c.support,
                    "precision": round(c.precision, 4),
                    "recall": round(c.recall, 4),
                    "f1": round(c.f1, 4),
                }
                for c in self.classes
            },
            "confusion": self.confusion,
        }


@dataclass(frozen=True)
class Miss:
    """A post labelled other than its gold label, and what the label rested on."""

    line: int
    id: str | None
    lang: str
    #: As the file gives it.
    gold: str
    #: The classifier's label (one of spreadwatch's five).
    predicted: str
    confidence: float
    #: `model`, `lexicon` or `official`.
    source: str
    #: The incident's claims the post matched: none often means the claims' patterns miss how
    #: people write about it, which the incident file can fix.
    claims: tuple[str, ...]
    cues: tuple[str, ...]
    text: str
    parent: str | None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "confidence": round(self.confidence, 4)}


@dataclass
class Evaluation:
    classifier: str
    overall: Scores
    scheme: Scheme = SPREADWATCH
    languages: dict[str, Scores] = field(default_factory=dict)
    #: Where the predictions came from (`model`, `lexicon`, `official`), with counts.
    sources: dict[str, int] = field(default_factory=dict)
    #: The posts labelled other than their gold label, in the file's order.
    misses: list[Miss] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "classifier": self.classifier,
            "labels": self.scheme.name,
            "classes": list(self.scheme.classes),
            "overall": self.overall.as_dict(),
            "languages": {lang: s.as_dict() for lang, s in self.languages.items()},
            "sources": self.sources,
            "misses": [m.as_dict() for m in self.misses],
        }


def score(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = STANCES) -> Scores:
    """Accuracy, per-class P/R/F1 and macro-F1 (scikit-learn) over `labels`, the confusion
    matrix, and the same posts scored by always answering their most common gold label."""
    classes, macro = _per_class(gold, predicted, labels)
    pairs = Counter(zip(gold, predicted, strict=True))
    confusion = {g: {p: pairs[(g, p)] for p in labels} for g in labels}
    correct = sum(pairs[(label, label)] for label in labels)
    baseline = majority(gold, labels)
    return Scores(len(gold), correct / len(gold), macro, classes, confusion, baseline)


def majority(gold: Sequence[str], labels: Sequence[str] = STANCES) -> Baseline:
    """Always the most common gold label (a tie goes to the first in `labels`)."""
    counts = Counter(gold)
    label = max(labels, key=lambda candidate: counts[candidate])
    _, macro = _per_class(gold, [label] * len(gold), labels)
    return Baseline(label, counts[label] / len(gold), macro)


def _per_class(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> tuple[list[ClassScore], float]:
    """Per-class P/R/F1 over every label, and macro-F1 over those labelled or predicted."""
    from sklearn.metrics import precision_recall_fscore_support  # noqa: PLC0415 - heavy import

    present = [label for label in labels if label in set(gold) | set(predicted)]
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=list(labels), zero_division=0
    )
    classes = [
        ClassScore(label, int(support[i]), float(precision[i]), float(recall[i]), float(f1[i]))
        for i, label in enumerate(labels)
    ]
    return classes, sum(c.f1 for c in classes if c.label in present) / len(present)


def evaluate(
    posts: Sequence[Labelled],
    inputs: Sequence[StanceInput],
    predict: Predict,
    classifier: str,
    scheme: Scheme = SPREADWATCH,
) -> Evaluation:
    """Score `predict` on the labelled posts, overall and per language, gold and predictions
    read as `scheme`'s classes."""
    stances = predict(inputs)
    predicted = [scheme.read_predicted[s.label] for s in stances]
    gold = [scheme.read_gold[p.label] for p in posts]
    classes = scheme.classes
    result = Evaluation(classifier, score(gold, predicted, classes), scheme)
    result.sources = dict(Counter(s.source for s in stances))
    result.misses = [
        _miss(post, given, stance)
        for post, given, stance, wanted, got in zip(
            posts, inputs, stances, gold, predicted, strict=True
        )
        if got != wanted
    ]
    for lang in sorted({p.lang for p in posts}):
        mine = [i for i, p in enumerate(posts) if p.lang == lang]
        result.languages[lang] = score(
            [gold[i] for i in mine], [predicted[i] for i in mine], classes
        )
    return result


def _miss(post: Labelled, given: StanceInput, stance: Stance) -> Miss:
    identifier = post.record.get("id")
    return Miss(
        line=post.line,
        id=None if identifier is None else str(identifier),
        lang=post.lang,
        gold=post.label,
        predicted=stance.label,
        confidence=stance.confidence,
        source=stance.source,
        claims=given.claims,
        cues=tuple(stance.cues),
        text=str(post.record.get("text") or ""),
        parent=given.parent_text,
    )


class NoModelError(RuntimeError):
    """The learned classifier was asked for but none is installed."""


def lexicon_predict(inputs: Sequence[StanceInput]) -> list[Stance]:
    from indexer.stance import classify  # noqa: PLC0415 - keeps the module's import light

    return [classify(post) for post in inputs]


def predictor(choice: str) -> tuple[str, Predict]:
    """(name, predict) for `auto` (the learned head when installed), `model` or `lexicon`."""
    if choice == "lexicon":
        return "lexicon", lexicon_predict
    from indexer.stance_model import shipped  # noqa: PLC0415 - numpy and the head: on demand

    model = shipped()
    if model is None:
        if choice == "model":
            raise NoModelError("no learned stance head is installed (indexer/models/)")
        return "lexicon", lexicon_predict
    return f"model {model.version}", model.classify_batch


# -- rendering -----------------------------------------------------------------------------------


def table(result: Evaluation) -> str:
    """Markdown tables: overall figures, per class, the confusion matrix, per language."""
    overall = result.overall
    classes = result.scheme.classes
    sources = ", ".join(f"{k} {v}" for k, v in sorted(result.sources.items()))
    lines = [f"classifier: {result.classifier} (labels from: {sources})"]
    if result.scheme is not SPREADWATCH:
        lines.append(_reading(result.scheme))
    lines += [
        "",
        f"posts {overall.posts} · accuracy {overall.accuracy:.2f} · "
        f"macro-F1 {overall.macro_f1:.2f}",
        _baseline_line(overall.baseline),
        "",
        "| class | posts | precision | recall | F1 |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {c.label} | {c.support} | {c.precision:.2f} | {c.recall:.2f} | {c.f1:.2f} |"
        for c in overall.classes
    ]
    lines += ["", "confusion (rows: gold, columns: predicted)", ""]
    lines += ["| gold \\ predicted | " + " | ".join(p[:3] for p in classes) + " |"]
    lines += ["|---|" + "---:|" * len(classes)]
    lines += [
        f"| {g} | " + " | ".join(str(overall.confusion[g][p]) for p in classes) + " |"
        for g in classes
    ]
    lines += [
        "",
        "| language | posts | accuracy | macro-F1 | always the most common: label, accuracy |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {display_line(lang)} | {s.posts} | {s.accuracy:.2f} | {s.macro_f1:.2f} | "
        f"{s.baseline.label} {s.baseline.accuracy:.2f} |"
        for lang, s in result.languages.items()
    ]
    return "\n".join(lines)


def _reading(scheme: Scheme) -> str:
    """How the file's labels and the classifier's are read in `scheme`'s classes."""

    def grouped(mapping: dict[str, str]) -> str:
        return "; ".join(
            f"{' and '.join(k for k, v in mapping.items() if v == target)} → {target}"
            for target in scheme.classes
        )

    return (
        f"scored as {scheme.name}'s classes ({', '.join(scheme.classes)}): gold "
        f"{grouped(scheme.read_gold)}; the classifier's {grouped(scheme.read_predicted)}"
    )


def _baseline_line(baseline: Baseline) -> str:
    return (
        f"always `{baseline.label}` (the most common gold label): accuracy "
        f"{baseline.accuracy:.2f} · macro-F1 {baseline.macro_f1:.2f}"
    )


#: How much of a missed post's text its table row shows (the JSON carries all of it).
MISS_EXCERPT = 160


def misses_table(result: Evaluation) -> str:
    """The posts labelled other than their gold label, one row each, in the file's order. Post
    text, cues and ids are strangers' words: one line each, markdown escaped."""
    lines = [
        f"misses: {len(result.misses)} of {result.overall.posts} posts "
        "(line of the file, gold, predicted, how sure, claims matched, cues)",
    ]
    if not result.misses:
        return "\n".join(lines)
    lines += [
        "",
        "| line | lang | gold | predicted | confidence | claims | cues | text |",
        "|---:|---|---|---|---:|---|---|---|",
    ]
    for miss in result.misses:
        text = _cell_excerpt(miss.text, MISS_EXCERPT)
        if miss.parent:
            text += " ↳ replying to: " + _cell_excerpt(miss.parent, MISS_EXCERPT // 2)
        cells = [
            str(miss.line),
            display_markdown(miss.lang, cell=True),
            miss.gold,
            miss.predicted,
            f"{miss.confidence:.2f}",
            display_markdown(", ".join(miss.claims), cell=True) or "–",
            display_markdown(", ".join(miss.cues), cell=True) or "–",
            text,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell_excerpt(text: str, limit: int) -> str:
    return display_markdown(" ".join(text.split()), limit, cell=True)


def as_json(result: Evaluation) -> str:
    return json.dumps(result.as_dict(), ensure_ascii=False, indent=2)


def inputs_for(
    posts: Iterable[Labelled],
    incident: Incident | None,
    find_incident: Callable[[str], Incident | None],
) -> list[StanceInput]:
    """Each post's input, with the claims of `incident` or else of the post's own incident."""
    return [
        stance_input(
            p.record, incident or find_incident(str(p.record.get("incident") or "")) or None
        )
        for p in posts
    ]
