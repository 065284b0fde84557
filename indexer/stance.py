"""Stance of a post towards the rumour: rumour, denial, debunk, report or other.

Interface used by the pipelines and `spreadwatch reclassify`:
`classify(StanceInput) -> Stance(label, confidence, cues, source, model)`; `Stance.fields()` are
the document fields (`stance`, `stance_confidence`, `stance_source`, `stance_cues`,
`stance_model`).

The labels:
- **denial** — the organisation speaking (an official source decides it), or a post that
  explicitly denies the claims (辟谣, 不实, dementiert, weist zurück, denies, "not true").
- **debunk** — calls the evidence fake or fact-checks it (伪造, 剪辑, Fälschung, doctored,
  fact check; or a "fake" word next to an evidence word such as recording, 录音, Aufnahme).
- **rumour** — repeats or supports the incident's claims (a matched claim pattern), or pushes
  back on a denial ("not fake", 不是谣言, keine Fälschung, cover-up).
- **report** — neutral press coverage: a news outlet (kind article, a news feed, a known news
  domain) or a post relaying news with reporting verbs (据报道, according to, berichtet).
- **other** — none of the above.

How it decides (`indexer/lexicons/*.yml` hold the cues of every language; all are applied, since
posts mix languages and detection errs on short texts):
1. An official source is a denial (confidence 1.0, source `official`).
2. Cues are found in title + text (folded like `indexer.matching`); overlapping cues keep the
   longest. A denial/debunk/fake cue right after a negation (≤ 1 word or 2 CJK characters between)
   counts for the rumour instead.
3. Press coverage is `report`, or `debunk` when it carries a fact-check cue.
4. Otherwise counter cues (denial, debunk, fake) against support (rumour cues, negated counter
   cues, and matched claims when no counter cue is present — a denial quotes the claims it
   denies — and the post is not a question): at least as many counter cues → debunk or denial
   (a hearsay "I heard" does not outweigh an explicit "it is fake"); any support → rumour;
   reporting verbs → report.
Idioms holding a cue word but taking no side (真的假的, 等官方回应) are matched and ignored.
The confidence is 0.5 + 0.5 × margin ÷ (cues + 1): one lone cue gives 0.75, conflict lowers it;
`other` (no cue at all) has confidence 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from indexer.lexicons import LANGUAGES, load, news_domains
from indexer.matching import fold

_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\u3040-\u30ff"
_LATIN_WORD = rf"[^\W{_CJK}]"
_HAS_CJK = re.compile(f"[{_CJK}]")
_WORD = re.compile(rf"{_LATIN_WORD}+")
_GAP = r"(?:[\s\-]+\S+){0,4}?"
SCORED = ("denial", "debunk", "fake", "report", "rumour")
#: Idioms that contain cue words but take no side (真的假的 = "seriously?", 等官方回应 = "waiting
#: for the response"): matched so that they win the overlap, then dropped.
NEUTRAL = "neutral"
COUNTER = ("denial", "debunk", "fake")
NEWS_KINDS = frozenset({"article"})
NEWS_PLATFORMS = frozenset({"feeds", "news"})


@dataclass(frozen=True)
class StanceInput:
    """What the classifier sees of a post; `claims` are the incident claim names it matched."""

    text: str
    title: str | None = None
    lang: str | None = None
    platform: str = ""
    kind: str = "post"
    official: bool = False
    claims: tuple[str, ...] = ()
    domain: str | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any], claims: list[str] | None = None) -> StanceInput:
        """What the classifier sees of a post document (`claims` default to its matches)."""
        if claims is None:
            claims = list((doc.get("matched") or {}).get("claims") or ())
        return cls(
            text=doc.get("text") or "",
            title=doc.get("title"),
            lang=doc.get("lang"),
            platform=doc.get("platform") or "",
            kind=doc.get("kind") or "post",
            official=bool((doc.get("author") or {}).get("official")),
            claims=tuple(claims),
            domain=doc.get("domain"),
        )


#: The version of the explainable classifier, stored as `stance_model` on what it labels.
LEXICON_MODEL = "lexicon-2"


@dataclass(frozen=True)
class Stance:
    """A label of `indexer.documents.STANCES`, how sure, why, and who decided it.

    `source` is `official` (the organisation speaking), `lexicon` (the cue rules) or `model`
    (the learned classifier); `model` names its version.
    """

    label: str
    confidence: float
    cues: list[str] = field(default_factory=list)
    source: str = "lexicon"
    model: str = LEXICON_MODEL

    def fields(self) -> dict[str, Any]:
        """The post document's stance fields."""
        return {
            "stance": self.label,
            "stance_confidence": self.confidence,
            "stance_source": self.source,
            "stance_cues": list(self.cues),
            "stance_model": self.model,
        }


@dataclass(frozen=True)
class Hit:
    """One cue found in the folded text, with its span (to resolve overlaps and negation)."""

    category: str
    cue: str
    start: int
    end: int
    cjk: bool
    negated: bool = False


def classify(post: StanceInput) -> Stance:
    """The stance of one post, with the cues that decided it."""
    if post.official:
        return Stance("denial", 1.0, ["official source"], source="official")
    text = fold(f"{post.title or ''}\n{post.text or ''}".replace("\u2019", "'"))
    hits = find_cues(text)
    has_evidence = any(True for _ in _matches(text, "evidence"))
    if is_news(post):
        return _news_stance(hits)
    return _social_stance(hits, post.claims, has_evidence, is_question(text))


def is_question(text: str) -> bool:
    """A post that asks (ends with a question mark, or 吗/嘛 before it) repeats no claim."""
    stripped = text.rstrip()
    return stripped.endswith(("?", "？")) or bool(re.search(r"[吗嘛][?？!！。]?$", stripped))


def is_news(post: StanceInput) -> bool:
    """Press coverage: an article, a news feed, or a post from a known news domain."""
    if post.kind in NEWS_KINDS or post.platform in NEWS_PLATFORMS:
        return True
    domain = (post.domain or "").lower().removeprefix("www.")
    return any(domain == d or domain.endswith("." + d) for d in news_domains())


def _news_stance(hits: list[Hit]) -> Stance:
    checks = [h for h in hits if h.category == "debunk" and not h.negated]
    if checks:
        return Stance("debunk", _score(len(checks), 0), _names(checks))
    reporting = [h for h in hits if h.category == "report"]
    return Stance("report", _score(len(reporting) + 1, 0), ["news source", *_names(reporting)])


def _social_stance(
    hits: list[Hit], claims: tuple[str, ...], has_evidence: bool, question: bool
) -> Stance:
    counter = [h for h in hits if h.category in COUNTER and not h.negated]
    pushback = [h for h in hits if h.category in COUNTER and h.negated]
    rumour = [h for h in hits if h.category == "rumour" and not h.negated]
    claim_cues = [f"claim:{c}" for c in claims] if not (counter or question) else []
    support = len(rumour) + len(pushback) + len(claim_cues)
    if counter and len(counter) >= support:
        label = _counter_label(counter, has_evidence)
        cues = _names(counter) + (["evidence"] if label == "debunk" and has_evidence else [])
        return Stance(label, _score(len(counter), support), cues)
    if support:
        cues = claim_cues + _names(rumour) + [f"negated:{n}" for n in _names(pushback)]
        return Stance("rumour", _score(support, len(counter)), cues)
    reporting = [h for h in hits if h.category == "report"]
    if reporting:
        return Stance("report", _score(len(reporting), 0), _names(reporting))
    return Stance("other", 0.0, [])


def _counter_label(counter: list[Hit], has_evidence: bool) -> str:
    debunk = sum(1 for h in counter if h.category == "debunk")
    fake = sum(1 for h in counter if h.category == "fake")
    denial = sum(1 for h in counter if h.category == "denial")
    if has_evidence:
        debunk += fake
    else:
        denial += fake
    return "debunk" if debunk > denial else "denial"


def _score(win: int, lose: int) -> float:
    return round(0.5 + 0.5 * (win - lose) / (win + lose + 1), 3) if win else 0.0


def _names(hits: list[Hit]) -> list[str]:
    return [f"{h.category}:{h.cue}" for h in hits]


def find_cues(text: str) -> list[Hit]:
    """Scored cues in folded text: longest first wins overlaps, then negation is marked."""
    found = [h for category in (*SCORED, NEUTRAL) for h in _matches(text, category)]
    found.sort(key=lambda h: (-(h.end - h.start), h.start))
    kept: list[Hit] = []
    for hit in found:
        if all(hit.end <= k.start or hit.start >= k.end for k in kept):
            kept.append(hit)
    negations = [
        n
        for n in _matches(text, "negation")
        if all(n.end <= k.start or n.start >= k.end for k in kept)
    ]
    marked = [_mark_negation(text, hit, negations) for hit in kept if hit.category != NEUTRAL]
    return sorted(marked, key=lambda h: h.start)


def _mark_negation(text: str, hit: Hit, negations: list[Hit]) -> Hit:
    for negation in negations:
        if negation.end > hit.start:
            continue
        gap = text[negation.end : hit.start]
        if hit.cjk or negation.cjk:
            close = len(gap.strip()) <= 2 and not _WORD.search(gap)
        else:
            close = len(_WORD.findall(gap)) <= 1 and len(gap) <= 20
        if close:
            return Hit(hit.category, hit.cue, hit.start, hit.end, hit.cjk, negated=True)
    return hit


def _matches(text: str, category: str) -> list[Hit]:
    hits: list[Hit] = []
    for cue, needle, pattern, cjk in _patterns(category):
        if needle in text:  # a plain substring test first: most cues are absent from a post
            hits.extend(Hit(category, cue, m.start(), m.end(), cjk) for m in pattern.finditer(text))
    return hits


@cache
def _patterns(category: str) -> tuple[tuple[str, str, re.Pattern[str], bool], ...]:
    """Per cue: its name, a literal every match contains, its regex, and whether it is CJK."""
    compiled = []
    for lang in LANGUAGES:
        for cue in load(lang)[category]:
            needle = fold(cue.rstrip("*")).split()[0]
            cjk = bool(_HAS_CJK.search(cue))
            compiled.append((cue, needle, re.compile(_cue_regex(cue)), cjk))
    return tuple(compiled)


def _cue_regex(cue: str) -> str:
    """A CJK cue matches anywhere; a Latin cue matches whole words (trailing * = prefix, and
    `...` = up to four words between, for German separable verbs like "weist ... zurück")."""
    prefix = cue.endswith("*")
    words = fold(cue.rstrip("*")).split()
    parts = []
    for i, word in enumerate(words):
        if word == "...":
            parts.append(_GAP)
            continue
        parts.extend([r"[\s\-]+"] if i else [])
        parts.append(re.escape(word))
    body = "".join(parts)
    if _HAS_CJK.search(cue):
        return body
    right = rf"{_LATIN_WORD}*" if prefix else rf"(?!{_LATIN_WORD})"
    return rf"(?<!{_LATIN_WORD}){body}{right}"
