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
    return _opencc().convert(text) if has_han(text) else text


@cache
def _opencc() -> Any:
    from opencc import OpenCC  # noqa: PLC0415 - its tables load on the first Chinese text only

    return OpenCC("t2s")
