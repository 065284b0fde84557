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
from indexer.matching import hashtag_readings

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
COPIES = tuple(STEMMED_FIELDS.values())

_LETTERS = re.compile(r"[^\W\d_]+")
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]")
_OPERATORS = frozenset({"AND", "OR", "NOT", "TO", "&&", "||"})
#: A query token that is a word and nothing else (letters, digits), with an optional +/- sign.
_BARE_WORD = re.compile(r"([+-]?)([^\W_]+)")
_QUERY_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"(?:~\d+)?|[^\s()"]+|[()]|\s+|"')
#: A field clause in one token, `title:Praktikanten` (with an optional +/- sign).
_FIELD_WORD = re.compile(r"([+-]?)([^\W\d][\w.]*):([^\W_]+)")


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
    """The post document with its stemmed copies set from its current text and title. A
    CamelCase hashtag's words follow the copy (`indexer.matching.hashtag_readings`), after
    the text's own words so their positions stay those of the original: `Sydney` and
    `"Martin Place"` find `#SydneySiege` and `#MartinPlace`, as the incident's queries do."""
    lang = doc.get("lang")
    lang = lang if isinstance(lang, str) else None
    for field, stemmed in STEMMED_FIELDS.items():
        value = doc.get(field)
        if isinstance(value, str) and value:
            readings = hashtag_readings(value)
            copy = stem_text(value, lang)
            doc[stemmed] = f"{copy}\n{stem_text(readings, lang)}" if readings else copy
        else:
            doc.pop(stemmed, None)
    return doc


def _forms(words: str, quoted: bool, suffix: str = "", field: str | None = None) -> list[str]:
    """`words` as written, then each stem that differs from it, searched only in the copies of
    the posts whose language gives that stem: `denies` is `den` in French, and a German post's
    article `den` must not answer for it. In a clause of a text `field` (its copy's name), the
    copy alone holds the stems and the simplified Chinese, so the words as written are
    searched there too; elsewhere the query's fields hold every copy."""
    written = f'"{words}"{suffix}' if quoted else words
    copies = (field,) if field else COPIES
    languages: dict[str, list[str]] = {}
    for lang in ALGORITHMS:
        stem = stem_text(words, lang)
        if stem != words.lower():
            languages.setdefault(stem, []).append(lang)
    return (
        [written]
        + ([f"{field}:{written}"] if field else [])
        + [
            _in_copies(f'"{stem}"{suffix}' if quoted else stem, langs, copies)
            for stem, langs in languages.items()
        ]
    )


def _in_copies(form: str, langs: list[str], copies: tuple[str, ...]) -> str:
    """`form` in the stemmed `copies` of posts in `langs` (posts in a language without a
    stemmer of its own, or none, have English copies)."""
    where = " OR ".join(f"{field}:{form}" for field in copies)
    if DEFAULT_LANG in langs:
        others = [lang for lang in ALGORITHMS if lang not in langs]
        if not others:
            return f"({where})"
        return f"(({where}) AND NOT lang:({' OR '.join(others)}))"
    return f"(({where}) AND lang:({' OR '.join(langs)}))"


def word_forms_query(query: str) -> str | None:
    """The query with each bare word and phrase written in all the forms it is searched in: as
    written, and stemmed in each language with a stemmer, each stem searched in the copies of
    that language's posts only (a query does not say its language; a post does):
    `-intern` → `-(intern OR ((text_stemmed:int OR title_stemmed:int) AND lang:(de)))`; None
    when no word has another form.

    Run over the exact fields and the copies in one clause, a word stands for all its forms in
    every field: an excluded word excludes each post any of them would find. A word of a
    `text` or `title` clause or group (`title:Praktikanten`, `title:(a OR b)`) gets its forms
    in that field's copy only; other fields' clauses (`platform:reddit`), operators, wildcards
    and numbers are left as they are.
    """
    tokens = _QUERY_TOKEN.findall(query)
    rewritten = "".join(
        _forms_token(token, field)
        for token, field in zip(tokens, _clause_fields(tokens), strict=True)
    )
    return None if rewritten == query else rewritten


def _clause_fields(tokens: list[str]) -> list[str | None]:
    """For each token, the field whose clause it is a value of (the token after `field:`, or
    all of a group `field:( … )`), else None. Inside `title:(…)` a word inherits the field and
    its stems must name the title's copy alone."""
    fields: list[str | None] = []
    depth, field = 0, None
    for i, token in enumerate(tokens):
        after_field = i > 0 and tokens[i - 1].endswith(":")
        if depth:
            depth += {"(": 1, ")": -1}.get(token, 0)
        elif after_field:
            field = tokens[i - 1].lstrip("+-")[:-1]
            depth = 1 if token == "(" else 0
        else:
            field = None
        fields.append(field)
    return fields


def both_scripts_query(query: str) -> str | None:
    """The query with each bare word and phrase holding traditional Chinese written in both
    scripts (`字節` → `(字節 OR 字节)`), so that one query string finds either script in the exact
    fields and in the copies, and an excluded word (`-汽車`) excludes both; None when nothing
    in it is traditional; a field clause stays in its field (`title:字節` →
    `title:(字節 OR 字节)`)."""
    rewritten = "".join(_both_scripts(token) for token in _QUERY_TOKEN.findall(query))
    return None if rewritten == query else rewritten


def cjk_phrases_query(query: str) -> str | None:
    """The query with each bare word holding CJK text quoted as a phrase (`字节` → `"字节"`);
    None when there is none. The standard analyzer splits Chinese into single characters, and
    a query's word is the AND of its tokens: unquoted, `字节` finds a post saying `节日` and `字`
    apart; `title:字节` becomes `title:"字节"`. Wildcards and other syntax are left as written."""
    rewritten = "".join(_cjk_phrase(token) for token in _QUERY_TOKEN.findall(query))
    return None if rewritten == query else rewritten


def _cjk_phrase(token: str) -> str:
    clause = _FIELD_WORD.fullmatch(token)
    if clause is not None:
        sign, name, text = clause.groups()
        return f'{sign}{name}:"{text}"' if _CJK.search(text) else token
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
    clause = _FIELD_WORD.fullmatch(token)
    if clause is not None:
        sign, name, word = clause.groups()
        return f"{sign}{name}:({word} OR {to_simplified(word)})"
    sign = token[0] if token[:1] in "+-" else ""
    word = token[len(sign) :]
    if ":" in word:
        return token
    return f"{sign}({word} OR {simplified[len(sign) :]})"


def _forms_token(token: str, field: str | None = None) -> str:
    """One token in all its forms; `field` is the clause it is a value of, if any."""
    if field is not None:
        if field not in STEMMED_FIELDS:
            return token
        return _forms_of(token, STEMMED_FIELDS[field])
    clause = _FIELD_WORD.fullmatch(token)
    if clause is not None:
        sign, name, word = clause.groups()
        if name not in STEMMED_FIELDS:
            return token
        forms = _forms_of(word, STEMMED_FIELDS[name])
        return token if forms == word else f"{sign}{name}:{_grouped(forms)}"
    return _forms_of(token, None)


def _forms_of(token: str, field: str | None) -> str:
    if token.startswith('"') and len(token) > 1 and '"' in token[1:]:
        end = token.rindex('"')
        inner, suffix = token[1:end], token[end + 1 :]
        return _either(_forms(inner, quoted=True, suffix=suffix, field=field))
    sign = token[0] if token[:1] in "+-" else ""
    word = token[len(sign) :]
    if word in _OPERATORS or not _LETTERS.fullmatch(word) or _CJK.search(word):
        return token
    return sign + _either(_forms(word, quoted=False, field=field))


def _grouped(forms: str) -> str:
    """`forms` as the value of a field clause: `(a OR b)` already is a group, a word is not."""
    return forms if forms.startswith("(") else f"({forms})"


def _either(forms: list[str]) -> str:
    return forms[0] if len(forms) == 1 else f"({' OR '.join(forms)})"
