"""Search reads traditional Chinese as simplified: a query in either script finds posts in either
script, on a node without any Chinese analyzer (the embedded one). Posts are written by the real
writer (which stores the searchable copies); the pairs are written by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from index_pool import IndexPool
from search_support import cli_search, found, write_posts

from indexer.connection import IndexNames
from indexer.search import QuerySyntaxError, SearchRequest, search_posts
from indexer.stemming import both_scripts_query, cjk_phrases_query, stem_text
from spreadwatch.settings import Settings

INCIDENT = "scripts"

# id, text: the same two stories once in traditional (Taiwan, Hong Kong), once in simplified.
POSTS = {
    "weibo:s1": "字节跳动实习生被开除",
    "weibo:t1": "字節跳動實習生被開除",
    "weibo:s2": "星河汽车宣布召回",
    "weibo:t2": "星河汽車宣佈召回",
    "reddit:en": "ByteDance fired an intern",
    # every character of 字节跳动 and 召回, none of them together: found by no word of the tests
    "weibo:apart": "过节时他跳起来动了动手，写了一个字，召开会议后回家",
}
BYTEDANCE = {"weibo:s1", "weibo:t1"}
XINGHE = {"weibo:s2", "weibo:t2"}


@pytest.fixture(scope="module")
def names(
    es_client: Elasticsearch, index_pool: IndexPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IndexNames]:
    names = index_pool.take()
    posts = [{"_id": doc_id, "text": text} for doc_id, text in POSTS.items()]
    write_posts(es_client, names, tmp_path_factory.mktemp("spool"), INCIDENT, posts)
    yield names
    index_pool.give_back(names)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("字节跳动", BYTEDANCE),  # simplified finds traditional
        ("字節跳動", BYTEDANCE),  # and the other way round
        ("星河汽车", XINGHE),
        ("星河汽車", XINGHE),
        ('"字節跳動實習生"', BYTEDANCE),  # a phrase
        ("实习生 AND platform:weibo", BYTEDANCE),
        ("召回 -汽車", set()),  # an excluded word, in both scripts
        ("召回 -汽车", set()),
        ("召回 -字節", XINGHE),
        ("字節跳動 OR ByteDance", BYTEDANCE | {"reddit:en"}),
        ("字节跳动 星河汽车", set()),  # every word must match
        ("召回", XINGHE),  # a word's characters together, not anywhere in the post
        ("字节", BYTEDANCE),
        ("-字节跳动 -星河汽车 -ByteDance", {"weibo:apart"}),
        ("text:字节", BYTEDANCE),  # a field clause's word is a phrase too
        ("text:字節跳動", BYTEDANCE),  # in both scripts
        ("text:(召回 OR 字節) -text:汽車", {"weibo:s1", "weibo:t1"}),
    ],
)
def test_a_query_in_either_script_finds_posts_in_either_script(
    es_client: Elasticsearch, names: IndexNames, query: str, expected: set[str]
) -> None:
    assert found(es_client, names, query, INCIDENT) == expected


def test_a_traditional_query_still_finds_a_post_stored_before_copies_were_simplified(
    es_client: Elasticsearch, names: IndexNames
) -> None:
    text = "字節跳動實習生離職"
    doc = {"@timestamp": "2024-10-19T00:00:00+00:00", "incident": ["earlier"], "text": text}
    doc |= {"platform": "weibo", "native_id": "old", "kind": "post", "text_stemmed": text}
    es_client.index(index=names.posts, id="weibo:old", document=doc, refresh=True)
    try:
        request = SearchRequest(query="字節跳動", incident="earlier")
        assert [row.id for row in search_posts(es_client, names, request).rows] == ["weibo:old"]
    finally:
        es_client.delete(index=names.posts, id="weibo:old", refresh=True)


def test_an_unparsable_traditional_query_names_the_column_of_the_query_as_written(
    es_client: Elasticsearch, names: IndexNames
) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        search_posts(es_client, names, SearchRequest(query="汽車 AND (召回"))
    assert raised.value.column == 10


def test_the_searchable_copy_is_simplified_and_the_text_stays_as_written(
    es_client: Elasticsearch, names: IndexNames
) -> None:
    doc = es_client.get(index=names.posts, id="weibo:t2")["_source"]
    assert (doc["text"], doc["text_stemmed"]) == ("星河汽車宣佈召回", "星河汽车宣布召回")


@pytest.mark.parametrize(
    ("text", "lang", "copy"),
    [
        ("字節跳動的 Praktikanten", "de", "字节跳动的 praktikant"),
        ("星河汽車 recalls", "en", "星河汽车 recal"),
    ],
)
def test_a_searchable_copy_reads_chinese_as_simplified(text: str, lang: str, copy: str) -> None:
    assert stem_text(text, lang) == copy


@pytest.mark.parametrize(
    ("query", "rewritten"),
    [
        ("字節跳動", "(字節跳動 OR 字节跳动)"),
        ('"星河汽車"~2 AND platform:weibo', '("星河汽車"~2 OR "星河汽车"~2) AND platform:weibo'),
        ("召回 -汽車", "召回 -(汽車 OR 汽车)"),
        ("+汽車* title:汽車", "+(汽車* OR 汽车*) title:(汽車 OR 汽车)"),  # in its field
        ("字节跳动", None),  # simplified already
        ("platform:weibo", None),
    ],
)
def test_a_traditional_word_of_a_query_is_written_in_both_scripts(
    query: str, rewritten: str | None
) -> None:
    assert both_scripts_query(query) == rewritten


def test_the_cli_finds_traditional_posts_and_shows_them_as_written(
    names: IndexNames, es_settings: Settings, tmp_path: Path
) -> None:
    answer = cli_search(names, es_settings, "星河汽车", "--incident", INCIDENT)
    texts = {row["id"]: row["text"] for row in answer["posts"]}
    assert texts == {"weibo:s2": "星河汽车宣布召回", "weibo:t2": "星河汽車宣佈召回"}


@pytest.mark.parametrize(
    ("query", "rewritten"),
    [
        ("字节跳动", '"字节跳动"'),
        ("召回 -汽車 +星河", '"召回" -"汽車" +"星河"'),
        ("ByteDance实习生 OR intern", '"ByteDance实习生" OR intern'),
        ('"字节跳动"~2 AND platform:weibo', None),  # a phrase already
        ("汽車* 汽车~1 platform:weibo", None),  # wildcards, fuzziness, other syntax as written
        ("-title:字节 text:召回 author.name:张三", '-title:"字节" text:"召回" author.name:"张三"'),
        ("ByteDance intern", None),
    ],
)
def test_a_chinese_word_of_a_query_is_searched_as_a_phrase(
    query: str, rewritten: str | None
) -> None:
    assert cjk_phrases_query(query) == rewritten
