"""Traditional Chinese read as simplified: the one conversion matching, stance cues and search use.

A rumour crosses the strait: the same story is written 字节跳动 on Weibo and 字節跳動 in Taiwan and
Hong Kong. `indexer.matching.fold` (queries, claim patterns, the posts they are matched against,
the stance lexicon's text) and the searchable copies of `indexer.stemming` (and the queries run
over them) all convert with `to_simplified`, so either script finds the other.

The tables are OpenCC's t2s (`opencc-python-reimplemented`, bundled: no download). Every entry
maps a string to one of the same length, so the conversion is character for character: a
position in the converted text is the same position in the text before it. It reads phrases
(乾隆 stays 乾隆, 乾燥 becomes 干燥), so a character converts as its phrase does: a lone
term is converted as it stands alone. Every table key is a CJK ideograph: text without one is
returned as it is, and the tables are loaded only when the first such text arrives.

The conversion walks a text phrase by phrase in pure Python, and ingest folds each post's text
several times (matching, lexicon, claims): it was the largest single cost of indexing a post.
An entry can change a text only where the text holds one of the characters the entry changes,
so a text holding none of them — most simplified Chinese — is returned as it is, unwalked.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

#: CJK ideographs (radicals, unified, compatibility, the supplementary planes): every character
#: the t2s tables can change is one of these.
_HAN = re.compile("[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


def has_han(text: str) -> bool:
    """Whether `text` holds a CJK ideograph (something `to_simplified` may change)."""
    return _HAN.search(text) is not None


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC t2s); the same length, anything else unchanged."""
    if not has_han(text) or _changing().isdisjoint(text):
        return text
    return _opencc().convert(text)


@cache
def _changing() -> frozenset[str]:
    """Every character some t2s entry changes (an entry matching a text replaces it with a
    string of the same length; the characters where the two differ), from the tables the
    converter loaded."""
    changing: set[str] = set()
    for _longest, _shortest, table in _opencc().dict_cache.values():
        for key, values in table.items():
            for value in values.split(" "):
                changing.update(k for k, v in zip(key, value, strict=False) if k != v)
    return frozenset(changing)


@cache
def _opencc() -> Any:
    from opencc import OpenCC  # noqa: PLC0415 - its tables load on the first Chinese text only

    return OpenCC("t2s")
