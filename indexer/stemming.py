"""Word forms without language analyzers: a Snowball-stemmed copy of each post's text and title,
computed in Python, and a query rewritten the same way.

The embedded node has no analysis-common module, so no `english` or `german` analyzer: a search
for `Praktikanten` would miss `Praktikant`. The writer stores `text_stemmed`/`title_stemmed`
(each Latin/Cyrillic word replaced in place by its stem in the post's language; numbers,
punctuation and CJK text kept — Chinese read as simplified, `indexer.chinese`, character for
character — so the standard analyzer splits the copy exactly as it splits the original), and
`word_forms_query` writes each word of a query-string query as written and as its stems, an
alternative per language (a query does not say its language), each stem searched only in the
copies of posts in the language it is a stem of (`denies` is `den` in French; a German post's
article `den` is not a form of it). For Chinese, `both_scripts_query` writes each traditional
word of a query in both scripts (`(字節 OR 字节)`), after `cjk_phrases_query` has quoted it as
a phrase (the standard analyzer reads Chinese character by character). `indexer.search` runs
the query so written over the exact fields and the copies in one clause, so a word stands for
all its forms at once: 字节跳动 finds a post written 字節跳動 (through its copy) and the other
way round, and `-interns` excludes `intern` too.
Clusters with analysis-common keep their analyzer subfields as well (`indexer.templates`).
Stemmers come from `snowballstemmer` (PyStemmer's C implementation when installed: same
algorithms, ~10× faster).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import snowballstemmer

from indexer.chinese import to_simplified

#: Post language → Snowball algorithm. Other languages (and none) use English: Chinese posts
#: often carry English words ("ByteDance intern"); CJK text itself is never stemmed.
ALGORITHMS = {
    "en": "english",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "ru": "russian",
    "nl": "dutch",
}
DEFAULT_LANG = "en"
STEMMED_FIELDS = {"text": "text_stemmed", "title": "title_stemmed"}

_LETTERS = re.compile(r"[^\W\d_]+")
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]")
_OPERATORS = frozenset({"AND", "OR", "NOT", "TO", "&&", "||"})
#: A query token that is a word and nothing else (letters, digits), with an optional +/- sign.
_BARE_WORD = re.compile(r"([+-]?)([^\W_]+)")
_QUERY_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"(?:~\d+)?|[^\s()"]+|[()]|\s+|"')


@cache
def _stemmer(lang: str) -> Callable[[str], str]:
    algorithm = ALGORITHMS.get(lang, ALGORITHMS[DEFAULT_LANG])
    return snowballstemmer.stemmer(algorithm).stemWord


def stem_text(text: str, lang: str | None) -> str:
    """`text` with each word replaced by its lower-cased stem in `lang` (CJK kept, Chinese as
    simplified)."""
    stem = _stemmer(lang or DEFAULT_LANG)

    def one(match: re.Match[str]) -> str:
        word = match.group()
        return word if _CJK.search(word) else stem(word.lower())

    return _LETTERS.sub(one, to_simplified(text))


def with_stems(doc: dict[str, Any]) -> dict[str, Any]:
    """The post document with its stemmed copies set from its current text and title."""
    lang = doc.get("lang")
    for field, stemmed in STEMMED_FIELDS.items():
        value = doc.get(field)
        if isinstance(value, str) and value:
            doc[stemmed] = stem_text(value, lang if isinstance(lang, str) else None)
        else:
            doc.pop(stemmed, None)
    return doc


def _forms(words: str, quoted: bool, suffix: str = "") -> list[str]:
    """`words` as written (for every field), then each stem that differs from it, searched only
    in the copies of the posts whose language gives that stem: `denies` is `den` in French,
    and a German post's article `den` must not answer for it."""
    written = f'"{words}"{suffix}' if quoted else words
    languages: dict[str, list[str]] = {}
    for lang in ALGORITHMS:
        stem = stem_text(words, lang)
        if stem != words.lower():
            languages.setdefault(stem, []).append(lang)
    return [written] + [
        _in_copies(f'"{stem}"{suffix}' if quoted else stem, langs)
        for stem, langs in languages.items()
    ]


def _in_copies(form: str, langs: list[str]) -> str:
    """`form` in the stemmed copies of posts in `langs` (posts in a language without a stemmer
    of its own, or none, have English copies)."""
    copies = " OR ".join(f"{field}:{form}" for field in STEMMED_FIELDS.values())
    if DEFAULT_LANG in langs:
        others = [lang for lang in ALGORITHMS if lang not in langs]
        if not others:
            return f"({copies})"
        return f"(({copies}) AND NOT lang:({' OR '.join(others)}))"
    return f"(({copies}) AND lang:({' OR '.join(langs)}))"


def word_forms_query(query: str) -> str | None:
    """The query with each bare word and phrase written in all the forms it is searched in: as
    written (every field), and stemmed in each language with a stemmer, each stem searched in
    the copies of that language's posts only (a query does not say its language; a post does):
    `-intern` → `-(intern OR ((text_stemmed:int OR title_stemmed:int) AND lang:(de)))`; None
    when no word has another form.

    Run over the exact fields and the copies in one clause, a word stands for all its forms in
    every field: an excluded word excludes each post any of them would find. Field clauses
    (`platform:reddit`, `text:"…"`, `title:(a OR b)`), operators, wildcards and numbers are left
    as they are.
    """
    tokens = _QUERY_TOKEN.findall(query)
    rewritten = "".join(
        token if in_field else _forms_token(token)
        for token, in_field in zip(tokens, _field_clauses(tokens), strict=True)
    )
    return None if rewritten == query else rewritten


def _field_clauses(tokens: list[str]) -> list[bool]:
    """For each token, whether it is a field clause's value: the token after `field:`, or all of
    a group `field:( … )`. The stems go to the copies' own fields, which inside `title:(…)`
    would search the text's copy for a title clause."""
    marks: list[bool] = []
    depth = 0
    for i, token in enumerate(tokens):
        after_field = i > 0 and tokens[i - 1].endswith(":")
        if depth:
            depth += {"(": 1, ")": -1}.get(token, 0)
            marks.append(True)
        elif after_field:
            depth = 1 if token == "(" else 0
            marks.append(True)
        else:
            marks.append(False)
    return marks


def both_scripts_query(query: str) -> str | None:
    """The query with each bare word and phrase holding traditional Chinese written in both
    scripts (`字節` → `(字節 OR 字节)`), so that one query string finds either script in the exact
    fields and in the copies, and an excluded word (`-汽車`) excludes both; None when nothing
    in it is traditional. Field clauses (`title:字節`) are left as they are."""
    rewritten = "".join(_both_scripts(token) for token in _QUERY_TOKEN.findall(query))
    return None if rewritten == query else rewritten


def cjk_phrases_query(query: str) -> str | None:
    """The query with each bare word holding CJK text quoted as a phrase (`字节` → `"字节"`);
    None when there is none. The standard analyzer splits Chinese into single characters, and
    a query's word is the AND of its tokens: unquoted, `字节` finds a post saying `节日` and `字`
    apart. Field clauses, wildcards and other syntax are left as written."""
    rewritten = "".join(_cjk_phrase(token) for token in _QUERY_TOKEN.findall(query))
    return None if rewritten == query else rewritten


def _cjk_phrase(token: str) -> str:
    word = _BARE_WORD.fullmatch(token)
    if word is None or not _CJK.search(word.group(2)):
        return token
    sign, text = word.groups()
    return f'{sign}"{text}"'


def _both_scripts(token: str) -> str:
    simplified = to_simplified(token)
    if simplified == token:
        return token
    if token.startswith('"') and len(token) > 1 and '"' in token[1:]:
        return f"({token} OR {simplified})"
    sign = token[0] if token[:1] in "+-" else ""
    word = token[len(sign) :]
    if ":" in word:
        return token
    return f"{sign}({word} OR {simplified[len(sign) :]})"


def _forms_token(token: str) -> str:
    if token.startswith('"') and len(token) > 1 and '"' in token[1:]:
        end = token.rindex('"')
        inner, suffix = token[1:end], token[end + 1 :]
        return _either(_forms(inner, quoted=True, suffix=suffix))
    sign = token[0] if token[:1] in "+-" else ""
    word = token[len(sign) :]
    if word in _OPERATORS or not _LETTERS.fullmatch(word) or _CJK.search(word):
        return token
    return sign + _either(_forms(word, quoted=False))


def _either(forms: list[str]) -> str:
    return forms[0] if len(forms) == 1 else f"({' OR '.join(forms)})"
