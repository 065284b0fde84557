"""Which of an incident's queries and claim patterns a post's title and text match.

Used by the crawl pipeline (posts matching nothing are not indexed) and by `reclassify`, so the
rules live in one place and read the incident model only.

Rules, on text folded with NFKC + casefold (fullwidth `８０００` is `8000`, `H100` is `h100`) and
traditional Chinese read as simplified (`indexer.chinese`: 字節跳動 is 字节跳动), on both sides — the
post, and the incident's query terms and claim patterns — so either script matches the other:
- characters a reader does not see (a soft hyphen, zero-width spaces and joiners, direction
  marks) are not there: `Prak\u00adtikant` is `Praktikant`;
- a query's `any` entry is a term group: its space-separated terms must all appear; the query
  matches when any group does, every `all` group does and no `exclude` group does;
- a quoted group (`"ByteDance intern"`) must appear as that phrase (punctuation or spaces between
  the words are allowed, so `ByteDance-intern` matches);
- a Latin term matches whole words, with an optional plural ending (`s`/`es`, German `n`/`en`);
  a trailing `*` makes it a prefix (`Sabot*` matches `sabotiert`); a CJK term matches anywhere,
  since Chinese is written without spaces (spaces between CJK characters in a post are ignored);
- a CamelCase hashtag's words count for queries too, in every way they can be read: its
  capitals (and letter–digit changes) are its only word breaks, so `#SydneySiege` matches
  `Sydney` and `#ByteDanceIntern` matches `ByteDance intern` and `"ByteDance intern"`; an
  all-lowercase hashtag (`#sydneysiege`) stays one word;
- a claim pattern is a case-insensitive piece of text that starts where a word or number starts
  (`ill` does not match `will`, `8,000` not `$28,000`; anywhere inside a hashtag) and, when
  it ends in a digit, ends where the number ends (`H100` does not match `H1000`); a word may go
  on (`arrest` matches `arrested`, `Rückruf` matches `Rückrufbrief`) and a CJK edge may touch
  anything; or a regular expression after `re:`.
  A regular expression is run as written over the folded post: it sees simplified Chinese
  (`驗出` in a post is `验出`), so Chinese in it must be written simplified.

The conversion keeps lengths (character for character), so the spans `claim_spans` finds are
positions in the folded text, which is what the stance rules read them against.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from indexer.chinese import to_simplified
from spreadwatch.fields import normalise_text
from spreadwatch.incident import Claim, Incident, Query
from spreadwatch.regex import compile_safe

_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\u3040-\u30ff"
#: A word character that is not CJK: what a Latin whole-word boundary must not touch.
_LATIN_WORD = rf"[^\W{_CJK}]"
#: Where a claim pattern may start: not inside a word, except anywhere in a hashtag's.
_WORD_START = rf"(?:(?<!{_LATIN_WORD})|(?<=#){_LATIN_WORD}*?)"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_TOKEN_SPLIT = re.compile(r"[\W_]+")
#: Characters a reader does not see, found inside words: the soft hyphen (`&shy;` in German
#: press), the Mongolian vowel separator, zero-width spaces and joiners, direction marks,
#: embeddings and isolates, the word joiner and invisible operators, the byte-order mark.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_HASHTAG = re.compile(r"(?<![\w&/#])#(\w+)")  # not a URL's fragment, not &#x27;
#: A hashtag of more parts is read as its parts only (2^(n-1) readings otherwise).
_MAX_HASHTAG_PARTS = 6
#: Hashtags read per post: a post of a thousand hashtags does not make a megabyte to match.
_MAX_HASHTAGS = 30


@dataclass(frozen=True)
class MatchResult:
    """Names of the queries and claims a text matched."""

    queries: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return bool(self.queries or self.claims)


def fold(text: str) -> str:
    """The form both sides are compared in: NFKC, casefold, no character a reader does not see,
    one space, no spaces inside CJK, traditional Chinese as simplified."""
    folded = _SPACES.sub(" ", _INVISIBLE.sub("", normalise_text(text)))
    return to_simplified(_CJK_GAP.sub("", folded))


def hashtag_readings(text: str) -> str:
    """Each CamelCase hashtag of `text` (as written: case is the only word break a hashtag
    keeps) in every way its parts can be grouped into words, folded, one reading after
    another: `#ByteDanceIntern` → `byte dance intern byte danceintern bytedance intern …` —
    queries are matched against these too, so a term or phrase finds its words in the
    hashtag. Empty when no hashtag has two parts."""
    lines: list[str] = []
    tags = dict.fromkeys(_HASHTAG.findall(text))
    for tag in list(tags)[:_MAX_HASHTAGS]:
        parts = _hashtag_parts(tag)
        if len(parts) < 2:
            continue
        if len(parts) > _MAX_HASHTAG_PARTS:
            lines.append(" ".join(parts))
            continue
        for breaks in itertools.product((" ", ""), repeat=len(parts) - 1):
            lines.append(parts[0] + "".join(b + p for b, p in zip(breaks, parts[1:], strict=True)))
    return fold("\n".join(lines)) if lines else ""


def _hashtag_parts(tag: str) -> list[str]:
    """`ByteDanceIntern` → Byte, Dance, Intern; `ISISAttack` → ISIS, Attack; `G20Summit` → G,
    20, Summit."""
    parts, start = [], 0
    for i in range(1, len(tag)):
        before, here = tag[i - 1], tag[i]
        after = tag[i + 1] if i + 1 < len(tag) else ""
        if (
            (here.isupper() and (before.islower() or before.isdigit()))
            or (here.isupper() and before.isupper() and after.islower())
            or (here.isdigit() != before.isdigit() and here.isalnum() and before.isalnum())
        ):
            parts.append(tag[start:i])
            start = i
    parts.append(tag[start:])
    return [part for part in parts if part.strip("_")]


def _term_pattern(term: str) -> str:
    """Regex source for one term (no spaces inside)."""
    prefix = term.endswith("*")
    core = term.rstrip("*")
    tokens = [t for t in _TOKEN_SPLIT.split(core) if t]
    if not tokens:
        return re.escape(core)
    body = r"[\W_]*".join(re.escape(t) for t in tokens)
    if re.search(f"[{_CJK}]", core):
        return body  # CJK: a substring is a word
    left = f"(?<!{_LATIN_WORD})"
    right = rf"{_LATIN_WORD}*" if prefix else rf"(?:e?s|e?n)?(?!{_LATIN_WORD})"
    return f"{left}{body}{right}"


@lru_cache(maxsize=4096)
def _group_patterns(group: str) -> tuple[re.Pattern[str], ...]:
    """One compiled pattern per term of a group; a quoted group is one phrase pattern."""
    folded = to_simplified(_SPACES.sub(" ", normalise_text(group.strip())))  # spaces split terms
    if len(folded) >= 2 and folded[0] == folded[-1] == '"':
        words = folded[1:-1].split()
        phrase = r"[\W_]*".join(_term_pattern(w) for w in words)
        return (re.compile(phrase),)
    return tuple(re.compile(_term_pattern(term)) for term in folded.split())


def group_matches(group: str, folded_text: str) -> bool:
    """True when every term of `group` appears in already-folded text."""
    patterns = _group_patterns(group)
    return bool(patterns) and all(p.search(folded_text) for p in patterns)


def query_matches(query: Query, folded_text: str) -> bool:
    if not any(group_matches(g, folded_text) for g in query.any):
        return False
    if not all(group_matches(g, folded_text) for g in query.all):
        return False
    return not any(group_matches(g, folded_text) for g in query.exclude)


@lru_cache(maxsize=4096)
def _claim_pattern(pattern: str) -> Any:
    """Substrings as escaped patterns; `re:` patterns with RE2 (linear time: a hostile post
    cannot make one match take seconds, see `spreadwatch.regex`)."""
    if pattern.startswith("re:"):
        return compile_safe(pattern[3:])
    return re.compile(_from_word_start(fold(pattern)))


def _from_word_start(pattern: str) -> str:
    """Regex source for a folded claim pattern: as written, starting where a word or number
    starts — `ill` is not in `will`, `DEG` not in `degree`, `8,000` not in `$28,000` — and a
    number ending where the number ends (`H100` not in `H1000`, `8,000` not in `8,000,000`). A
    word may go on (`arrest` finds `arrested`, `Rückruf` finds `Rückrufbrief`), a hashtag glues
    words together (`lubitz` is in `#AndreasLubitz`), and a CJK edge may touch anything: Chinese
    is written without spaces."""
    source = re.escape(pattern)
    if pattern and re.match(_LATIN_WORD, pattern[0]):
        source = _WORD_START + source
    if pattern[-1:].isdigit():
        source = rf"{source}(?![.,]?\d)"
    return source


def claim_matches(claim: Claim, folded_text: str) -> bool:
    return any(_claim_pattern(p).search(folded_text) for p in claim.patterns)


def claim_spans(claim: Claim, folded_text: str) -> list[tuple[int, int]]:
    """Where the claim's patterns match (the stance rules look at what stands around them)."""
    return sorted(
        (m.start(), m.end())
        for p in claim.patterns
        for m in _claim_pattern(p).finditer(folded_text)
    )


class Matcher:
    """Matches posts against one incident; build once per crawl, call per post."""

    def __init__(self, incident: Incident) -> None:
        self.incident = incident

    def match(self, title: str | None, text: str | None) -> MatchResult:
        written = f"{title or ''}\n{text or ''}"
        folded = fold(written)
        readings = hashtag_readings(written)
        for_queries = f"{folded}\n{readings}" if readings else folded
        queries = [q.name for q in self.incident.queries if query_matches(q, for_queries)]
        claims = [c.name for c in self.incident.claims if claim_matches(c, folded)]
        return MatchResult(queries=queries, claims=claims)


def belongs(result: MatchResult, *, official: bool, pinned: bool, kept: bool) -> bool:
    """Whether a post is one of the incident's.

    A pinned statement always is; otherwise it must match a query or a claim — except that a
    spider may keep a non-official post that matches nothing for its context (the comments of a
    matched story, a watched repository). An official source's post is never kept that way: the
    organisation's news about something else is not part of the rumour (and must never be taken
    for its denial)."""
    if pinned or result.matched:
        return True
    return kept and not official


def match_post(incident: Incident, title: str | None, text: str | None) -> MatchResult:
    """One-off convenience for `reclassify` and tests."""
    return Matcher(incident).match(title, text)
