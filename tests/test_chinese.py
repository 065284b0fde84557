"""Traditional → simplified: what `to_simplified` returns is what OpenCC's own t2s returns.

The truth is the library's conversion, run on every text here without the shortcut that skips
texts holding no character an entry changes; the texts are entries of the tables themselves
(each key and each value, as a text alone and inside a sentence of the other script) and posts
in either script, mixed with Latin text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from opencc import OpenCC

from indexer.chinese import _opencc, has_han, to_simplified

LIBRARY = OpenCC("t2s")
POSTS = [
    "字节跳动实习生破坏训练，官方否认损失上亿",  # simplified
    "字節跳動實習生破壞訓練，官方否認損失上億",  # traditional
    "ByteDance 否認 the 8,000 GPU 傳聞 — 純屬捏造",  # mixed
    "乾隆年间的乾燥天气",  # one character, two readings
    "著名的头发 vs 頭髮",
    "这不是真的。一干二净。",
    "no Chinese at all: 100 % Latin",
    "",
]


def table_texts() -> Iterator[str]:
    """Every entry's key and values, alone and inside a simplified sentence."""
    for _longest, _shortest, table in LIBRARY.dict_cache.values():
        for key, values in table.items():
            for text in [key, *values.split(" ")]:
                yield text
                yield "这是" + text + "的消息"


@pytest.mark.parametrize("text", POSTS)
def test_a_post_converts_as_the_library_converts_it(text: str) -> None:
    assert to_simplified(text) == LIBRARY.convert(text)


def test_every_table_entry_converts_as_the_library_converts_it() -> None:
    texts = list(table_texts())
    assert len(texts) > 15_000  # the tables were read: every entry is here
    differing = [t for t in texts if to_simplified(t) != LIBRARY.convert(t)]
    assert differing == []


@pytest.mark.parametrize("text", POSTS)
def test_the_conversion_keeps_the_length(text: str) -> None:
    assert len(to_simplified(text)) == len(text)


def test_traditional_text_is_converted_and_simplified_left_as_is() -> None:
    assert to_simplified("字節跳動否認") == "字节跳动否认"
    assert to_simplified("字节跳动否认") == "字节跳动否认"
    assert has_han("否認") and not has_han("denied")


def test_the_tables_are_the_packages_own_t2s_tables() -> None:
    names = [Path(table).name for table in _opencc().dict_cache]
    assert names == ["TSPhrases.txt", "TSCharacters.txt"]
    assert all(Path(table).is_file() for table in _opencc().dict_cache)
