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
1. A statement the incident file pins (`official.statements`) is the organisation's answer: a
   denial (confidence 1.0, source `official`). Any other post — an official account's included —
   is judged by what it says.
2. The text (title + text) is folded like `indexer.matching`, which reads traditional Chinese as
   simplified (OpenCC's tables, `indexer.chinese`), so 否認 and 純屬捏造 read as 否认 and 纯属捏造,
   and a claim pattern is found where it stands in either script. Cues are
   found; overlapping cues keep the longest. A denial/debunk/fake cue right after a negation
   (≤ 1 word or 2 CJK characters between) counts for the rumour instead, and so does one in
   scare quotes in a sarcastic post ("they 'deny' it, sure").
3. Press coverage is `report`, or `debunk` when it carries a fact-check cue.
4. Otherwise counter cues (denial, debunk, fake, and a claim right after a negation: "keine
   Festnahme", "no leak") against support (rumour cues, negated counter cues, and matched claims
   when no counter cue is present — a denial quotes the claims it denies — and the claim is not
   inside a question): at least as many counter cues → debunk or denial (a hearsay "I heard"
   does not outweigh an explicit "it is fake"); any support → rumour; reporting verbs → report.
   Weak cues (`weak` in a lexicon: 回应, clarif*, a bare "false", "confirmed") count only next
   to a strong cue of the same side: alone they decide nothing.
Idioms holding a cue word but taking no side (真的假的, 等官方回应) are matched and ignored.
The confidence is 0.5 + 0.5 × margin ÷ (cues + 1): one lone cue gives 0.75, conflict lowers it;
`other` (no cue at all) has confidence 0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from indexer.lexicons import LANGUAGES, load, news_domains, weak_cues
from indexer.matching import claim_spans, fold
from spreadwatch.incident import Claim

_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\u3040-\u30ff"
_LATIN_WORD = rf"[^\W{_CJK}]"
_HAS_CJK = re.compile(f"[{_CJK}]")
_WORD = re.compile(rf"{_LATIN_WORD}+")
#: Words between the parts of a German separable verb ("weist die Berichte über eine angebliche
#: Sabotage durch einen Praktikanten zurück"): up to twelve, never across the end of a sentence.
_GAP = r"(?:[\s\-,]+[^\s.!?;:。！？；]+){0,12}?"
_SENTENCE_END = re.compile(r"[.!?。！？；;\n]+")
#: Quotation marks around a short span: scare quotes ("they 'deny' it").
_QUOTED = re.compile(r"[\"'“”‘’„「『«»]([^\"'“”‘’„「」『』«»\n]{1,24})[\"'“”‘’」』«»]")
SCORED = ("denial", "debunk", "fake", "report", "rumour")
#: Idioms that contain cue words but take no side (真的假的 = "seriously?", 等官方回应 = "waiting
#: for the response"): matched so that they win the overlap, then dropped.
NEUTRAL = "neutral"
COUNTER = ("denial", "debunk", "fake")
NEWS_KINDS = frozenset({"article"})
NEWS_PLATFORMS = frozenset({"feeds", "news"})


@dataclass(frozen=True)
class StanceInput:
    """What the classifier sees of a post.

    `claims` are the incident claim names it matched; `claim_defs`, when given, are the incident's
    claims, so that the classifier can see where a claim stands (negated: "keine Festnahme"; in a
    question). `pinned`: the incident file pins it as the organisation's statement.
    `parent_text` is the post it replies to or quotes, `source_text` its thread's first post
    (context for the learned classifier; the lexicon reads the post alone).
    """

    text: str
    title: str | None = None
    lang: str | None = None
    platform: str = ""
    kind: str = "post"
    official: bool = False
    claims: tuple[str, ...] = ()
    domain: str | None = None
    pinned: bool = False
    claim_defs: tuple[Claim, ...] = ()
    parent_text: str | None = None
    source_text: str | None = None

    @classmethod
    def from_doc(
        cls,
        doc: dict[str, Any],
        claims: list[str] | None = None,
        claim_defs: Sequence[Claim] = (),
    ) -> StanceInput:
        """What the classifier sees of a post document (`claims` default to its matches)."""
        matched = doc.get("matched") or {}
        if claims is None:
            claims = list(matched.get("claims") or ())
        return cls(
            text=doc.get("text") or "",
            title=doc.get("title"),
            lang=doc.get("lang"),
            platform=doc.get("platform") or "",
            kind=doc.get("kind") or "post",
            official=bool((doc.get("author") or {}).get("official")),
            claims=tuple(claims),
            domain=doc.get("domain"),
            pinned=bool(matched.get("statement")),
            claim_defs=tuple(c for c in claim_defs if c.name in claims),
        )


#: The version of the explainable classifier, stored as `stance_model` on what it labels.
LEXICON_MODEL = "lexicon-3"


@dataclass(frozen=True)
class Stance:
    """A label of `indexer.documents.STANCES`, how sure, why, and who decided it.

    `source` is `official` (a statement the incident file pins), `lexicon` (the cue rules) or
    `model` (the learned classifier); `model` names its version.
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
    weak: bool = False
    quoted: bool = False


@dataclass(frozen=True)
class ClaimHit:
    """Where a claim stands in the text: after a negation, or inside a question."""

    name: str
    negated: bool
    asked: bool


PINNED = Stance("denial", 1.0, ["pinned statement"], source="official")


def classify(post: StanceInput) -> Stance:
    """The stance of one post, with the cues that decided it."""
    if post.pinned:
        return PINNED
    text = stance_text(post.title, post.text)
    hits = find_cues(text)
    has_evidence = any(True for _ in _matches(text, "evidence"))
    if is_news(post):
        return _news_stance(hits)
    return _social_stance(hits, find_claims(text, post), has_evidence, _sarcastic(text))


def stance_text(title: str | None, text: str | None) -> str:
    """Title and text as the cues read them: folded (traditional Chinese as simplified), with
    typographic apostrophes as plain ones."""
    return fold(f"{title or ''}\n{text or ''}".replace("\u2019", "'"))


def is_question(text: str) -> bool:
    """A sentence that asks (ends with a question mark, or 吗/嘛 before it) repeats no claim."""
    stripped = text.rstrip()
    return stripped.endswith(("?", "？")) or bool(re.search(r"[吗嘛][?？!！。]?$", stripped))


def find_claims(text: str, post: StanceInput) -> list[ClaimHit]:
    """The post's matched claims, each negated or asked or neither. Without the claims'
    patterns, a claim is asked when the whole post is one question."""
    if not post.claim_defs:
        asked = is_question(text) and len(_sentences(text)) <= 1
        return [ClaimHit(name, False, asked) for name in post.claims]
    negations = _matches(text, "negation")
    found = []
    for claim in (c for c in post.claim_defs if c.name in post.claims):
        spans = claim_spans(claim, text)
        if not spans:  # matched where the texts differ (a ’ the cues read as '): as matched
            found.append(ClaimHit(claim.name, False, False))
            continue
        negated = all(_negated(text, start, negations) for start, _ in spans)
        asked = all(is_question(_sentence_at(text, start)) for start, _ in spans)
        found.append(ClaimHit(claim.name, negated, asked))
    return found


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def _sentence_at(text: str, start: int) -> str:
    """The sentence holding position `start`, with its closing punctuation."""
    begin = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    end = _SENTENCE_END.search(text, start)
    return text[begin : end.end() if end else len(text)].strip()


def _negated(text: str, start: int, negations: list[Hit]) -> bool:
    """A negation just before `start` (≤ 2 words, or 2 CJK characters, between)."""
    for negation in negations:
        if negation.end > start:
            continue
        gap = text[negation.end : start]
        if negation.cjk:
            close = len(gap.strip()) <= 2 and not _WORD.search(gap)
        else:
            close = len(_WORD.findall(gap)) <= 2 and len(gap) <= 24 and not _HAS_CJK.search(gap)
        if close and not _SENTENCE_END.search(gap):
            return True
    return False


def is_news(post: StanceInput) -> bool:
    """Press coverage: an article, a news feed, or a post from a known news domain — unless
    the organisation itself speaks (an official source, or a statement): that is judged by its
    words like a post, never taken for neutral press."""
    if post.official or post.kind == "statement":
        return False
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


def _with_weak(hits: list[Hit]) -> list[Hit]:
    """Weak cues count only next to a strong one of the same side."""
    return hits if any(not h.weak for h in hits) else []


def _social_stance(
    hits: list[Hit], claims: list[ClaimHit], has_evidence: bool, sarcastic: bool
) -> Stance:
    scare = [h for h in hits if h.category in COUNTER and h.quoted and sarcastic]
    counter = _with_weak(
        [h for h in hits if h.category in COUNTER and not h.negated and h not in scare]
    )
    denied = [f"negated claim:{c.name}" for c in claims if c.negated]
    pushback = [h for h in hits if h.category in COUNTER and h.negated] + scare
    rumour = _with_weak([h for h in hits if h.category == "rumour" and not h.negated])
    claim_cues = (
        [f"claim:{c.name}" for c in claims if not (c.negated or c.asked)]
        if not (counter or denied)
        else []
    )
    against = len(counter) + len(denied)
    support = len(rumour) + len(pushback) + len(claim_cues)
    if against and against >= support:
        label = _counter_label(counter, has_evidence)
        cues = _names(counter) + denied
        cues += ["evidence"] if label == "debunk" and has_evidence else []
        return Stance(label, _score(against, support), cues)
    if support:
        cues = claim_cues + _names(rumour) + [f"negated:{n}" for n in _names(pushback)]
        return Stance("rumour", _score(support, against), cues)
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


def _sarcastic(text: str) -> bool:
    return any(True for _ in _matches(text, "sarcasm"))


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
    quotes = [m.span(1) for m in _QUOTED.finditer(text)]
    marked = [_mark(text, hit, negations, quotes) for hit in kept if hit.category != NEUTRAL]
    return sorted(marked, key=lambda h: h.start)


def _mark(text: str, hit: Hit, negations: list[Hit], quotes: list[tuple[int, int]]) -> Hit:
    negated = _negation_before(text, hit, negations)
    quoted = any(a <= hit.start and hit.end <= b for a, b in quotes)
    return replace(hit, negated=negated, quoted=quoted) if negated or quoted else hit


def _negation_before(text: str, hit: Hit, negations: list[Hit]) -> bool:
    for negation in negations:
        if negation.end > hit.start:
            continue
        gap = text[negation.end : hit.start]
        if hit.cjk or negation.cjk:
            close = len(gap.strip()) <= 2 and not _WORD.search(gap)
        else:
            close = len(_WORD.findall(gap)) <= 1 and len(gap) <= 20
        if close:
            return True
    return False


def _matches(text: str, category: str) -> list[Hit]:
    hits: list[Hit] = []
    weak = weak_cues()
    for cue, needle, pattern, cjk in _patterns(category):
        if needle in text:  # a plain substring test first: most cues are absent from a post
            hits.extend(
                Hit(category, cue, m.start(), m.end(), cjk, weak=cue in weak)
                for m in pattern.finditer(text)
            )
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
    `...` = up to twelve words between, for German separable verbs like "weist ... zurück")."""
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
