"""What the learned stance classifier reads of a post, besides its words: the explainable rules'
findings on the post and on its context, and the post's form.

The learned head (`indexer.stance_model`) sees, for each post:
- its text as hashed character and word n-grams (design `ngram`), or its multilingual sentence
  embedding (design `use`);
- the **context**: the same for the post it replies to or quotes (`parent_text`), and what the
  lexicon finds in it (a reply "false!" under a rumour is a denial; "so true" under a denial is
  not a rumour);
- `context_features` below: the lexicon's label and cue counts on the post, negated and asked
  claims, matched claims, question and link marks, the press flag.

Whether the author is an official account is deliberately not a feature: in the own training
posts every official post is a denial, so a head given the flag learned "official → denial"
(+2.6 on the denial score) and labelled an official account's hiring post or product launch a
denial — the false "Official denial" a real press release raised. A statement the incident pins
is the denial by rule (`indexer.stance.PINNED`); every other official post is judged by its
words, as the lexicon judges it.

Texts are read as the lexicon reads them (`indexer.stance.stance_text`: folded, traditional
Chinese as simplified), with links and @handles replaced by placeholders so that a model
trained on tweets does not learn their addresses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from indexer.documents import STANCES
from indexer.stance import (
    COUNTER,
    Stance,
    StanceInput,
    classify,
    find_claims,
    find_cues,
    is_news,
    stance_text,
)

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<![\w@])@[\w.\-]+")
_RETWEET = re.compile(r"^(rt|mt)\s+", re.IGNORECASE)

#: Names of the columns of `context_features`, in order (the artifact records them).
CONTEXT_COLUMNS: tuple[str, ...] = (
    *(f"lexicon={label}" for label in STANCES),
    "lexicon_confidence",
    "cues_counter_strong",
    "cues_counter_weak",
    "cues_pushback",
    "cues_rumour",
    "cues_report",
    "claims_standing",
    "claims_negated",
    "claims_asked",
    "question_mark",
    "ends_with_question",
    "has_link",
    "starts_with_handle",
    "log_length",
    "news",
    "has_parent",
    *(f"parent_lexicon={label}" for label in STANCES),
    "parent_counter_cues",
    "parent_rumour_cues",
)


def model_text(text: str | None, title: str | None = None) -> str:
    """A text as the model reads it: like the lexicon, links and handles as placeholders."""
    folded = stance_text(title, text)
    folded = _RETWEET.sub("", folded.strip())
    return _HANDLE.sub("@user", _URL.sub("http", folded)).strip()


def context_features(post: StanceInput, lexicon: Stance | None = None) -> list[float]:
    """The dense features of one post (`CONTEXT_COLUMNS`)."""
    lexicon = lexicon or classify(post)
    text = stance_text(post.title, post.text)
    hits = find_cues(text)
    claims = find_claims(text, post)
    counter = [h for h in hits if h.category in COUNTER and not h.negated]
    parent = stance_text(None, post.parent_text) if post.parent_text else ""
    parent_label = classify(StanceInput(text=post.parent_text or "")).label if parent else None
    parent_hits = find_cues(parent) if parent else []
    raw = post.text or ""
    row = [1.0 if lexicon.label == label else 0.0 for label in STANCES]
    row += [
        lexicon.confidence,
        float(sum(1 for h in counter if not h.weak)),
        float(sum(1 for h in counter if h.weak)),
        float(sum(1 for h in hits if h.category in COUNTER and h.negated)),
        float(sum(1 for h in hits if h.category == "rumour" and not h.negated)),
        float(sum(1 for h in hits if h.category == "report")),
        float(sum(1 for c in claims if not (c.negated or c.asked))),
        float(sum(1 for c in claims if c.negated)),
        float(sum(1 for c in claims if c.asked)),
        1.0 if ("?" in raw or "？" in raw) else 0.0,
        1.0 if raw.rstrip().endswith(("?", "？", "吗", "吗？")) else 0.0,
        1.0 if _URL.search(raw) else 0.0,
        1.0 if raw.lstrip().startswith("@") else 0.0,
        math.log1p(len(raw)) / 6.0,
        1.0 if is_news(post) else 0.0,
        1.0 if parent else 0.0,
    ]
    row += [1.0 if parent_label == label else 0.0 for label in STANCES]
    row += [
        float(sum(1 for h in parent_hits if h.category in COUNTER and not h.negated)),
        float(sum(1 for h in parent_hits if h.category == "rumour" and not h.negated)),
    ]
    return row


def context_matrix(posts: Sequence[StanceInput], lexicon: Sequence[Stance]) -> np.ndarray:
    """`context_features` of many posts, one row each (float32)."""
    rows = [context_features(p, s) for p, s in zip(posts, lexicon, strict=True)]
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(CONTEXT_COLUMNS))
