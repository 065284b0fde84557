"""Built-in stance cue lexicons (zh, en, de), one YAML file per language.

Each file maps a category (denial, debunk, fake, evidence, report, rumour, negation, neutral,
sarcasm) to a list of cues; `weak` lists cues of those categories that never decide a stance
alone. `indexer.stance` explains what each category means and how cues are matched.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

LANGUAGES = ("zh", "en", "de")
CATEGORIES = (
    "denial", "debunk", "fake", "evidence", "report", "rumour", "negation", "neutral", "sarcasm",
)  # fmt: skip
#: Not a category of its own: names cues of the categories above.
WEAK = "weak"


class LexiconError(ValueError):
    """A lexicon file is malformed; the message names the file and category."""


@cache
def load(lang: str) -> dict[str, tuple[str, ...]]:
    """The cues of one language by category (cached: the files ship with the package)."""
    name = f"{lang}.yml"
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    unknown = set(data) - {*CATEGORIES, WEAK}
    if unknown:
        raise LexiconError(f"{name}: unknown categories {sorted(unknown)}")
    lexicon: dict[str, tuple[str, ...]] = {}
    for category in CATEGORIES:
        cues = data.get(category) or []
        if not all(isinstance(c, str) and c.strip() for c in cues):
            raise LexiconError(f"{name}: category {category} must be a list of non-empty strings")
        lexicon[category] = tuple(str(c).strip() for c in cues)
    weak = data.get(WEAK) or []
    every = {cue for cues in lexicon.values() for cue in cues}
    stray = [c for c in weak if c not in every]
    if stray:
        raise LexiconError(f"{name}: weak cues {stray} are in no category")
    lexicon[WEAK] = tuple(weak)
    return lexicon


@cache
def weak_cues() -> frozenset[str]:
    """Cues that decide nothing alone, in every language."""
    return frozenset(cue for lang in LANGUAGES for cue in load(lang)[WEAK])


@cache
def news_domains() -> frozenset[str]:
    """Domains whose posts are press coverage (from news.yml)."""
    text = resources.files(__name__).joinpath("news.yml").read_text(encoding="utf-8")
    domains = (yaml.safe_load(text) or {}).get("domains") or []
    return frozenset(str(d).strip().lower() for d in domains)
