"""An excluded word excludes every form of it that it would find as an inclusion (what the
english/german analyzers give), on a node without language analyzers (the embedded one). Posts
are written by the real writer (which stores the searchable copies); the expected ids are
written by hand from the texts below."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from index_pool import IndexPool
from search_support import cli_search, found, write_posts

from indexer.connection import IndexNames
from indexer.search import QuerySyntaxError, SearchRequest, search_posts
from spreadwatch.settings import Settings

INCIDENT = "exclusions"

# id, lang, author handle, text: every post names ByteDance; the forms are noted per post.
POSTS = [
    ("reddit:en1", "en", "mlgossip", "ByteDance intern sabotaged the model training."),
    ("reddit:en2", "en", "leakwatch", "ByteDance interns get cluster access too easily."),
    ("reddit:en3", "en", "mlgossip", "ByteDance denies the sabotage story."),
    ("feeds:de1", "de", "heise", "ByteDance entlässt den Praktikanten."),
    ("feeds:de2", "de", "heise", "Ein Praktikant bei ByteDance soll Code manipuliert haben."),
    ("feeds:de3", "de", "heise", "ByteDance schweigt zu den Vorwürfen."),
    ("vk:ru1", "ru", "techru", "ByteDance уволил стажёров за порчу GPU."),  # copy: стажер
    ("vk:ru2", "ru", "techru", "Кластер GPU у ByteDance снова работает."),
    ("weibo:zh1", "zh", "kejiquan", "ByteDance 字節跳動實習生被開除"),
    ("weibo:zh2", "zh", "kejiquan", "ByteDance intern 字节跳动实习生"),
]
EVERY = {doc_id for doc_id, *_ in POSTS}
INTERN = {"reddit:en1", "reddit:en2", "weibo:zh2"}  # intern, interns
PRAKTIKANT = {"feeds:de1", "feeds:de2"}  # Praktikanten, Praktikant
SABOTAGE = {"reddit:en1", "reddit:en3"}  # sabotaged, sabotage
GPU = {"vk:ru1", "vk:ru2"}
CHINESE = {"weibo:zh1", "weibo:zh2"}  # 字節跳動, 字节跳动


@pytest.fixture(scope="module")
def names(
    es_client: Elasticsearch, index_pool: IndexPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IndexNames]:
    names = index_pool.take()
    posts = [
        {"_id": doc_id, "lang": lang, "text": text, "author": {"handle": handle}}
        for doc_id, lang, handle, text in POSTS
    ]
    write_posts(es_client, names, tmp_path_factory.mktemp("spool"), INCIDENT, posts)
    yield names
    index_pool.give_back(names)


@pytest.mark.parametrize(
    ("query", "among", "excluded"),
    [
        ("ByteDance -interns", EVERY, INTERN),  # the plural excludes the singular
        ("ByteDance -intern", EVERY, INTERN),  # and the other way round
        ("ByteDance NOT interns", EVERY, INTERN),
        ("ByteDance AND NOT intern", EVERY, INTERN),
        ("ByteDance -Praktikanten", EVERY, PRAKTIKANT),  # German inflection
        ("ByteDance -Praktikant", EVERY, PRAKTIKANT),
        ("ByteDance NOT Praktikanten", EVERY, PRAKTIKANT),
        ("ByteDance -sabotage", EVERY, SABOTAGE),
        ('ByteDance -"model trained"', EVERY, {"reddit:en1"}),  # a phrase in another form
        ('ByteDance NOT "models training"', EVERY, {"reddit:en1"}),
        ("ByteDance -(interns OR Praktikanten)", EVERY, INTERN | PRAKTIKANT),
        ("ByteDance -denies", EVERY, {"reddit:en3"}),  # not German `den` (French stem of denies)
        ("ByteDance -стажёра", EVERY, {"vk:ru1"}),  # another Russian form
        ("ByteDance -стажёров", EVERY, {"vk:ru1"}),  # as written, though its copy differs
        ("GPU -стажёров", GPU, {"vk:ru1"}),
        ("ByteDance -author.handle:leakwatch", EVERY, {"reddit:en2"}),  # a field as written
        ("ByteDance -platform:weibo", EVERY, CHINESE),
        ("字节跳动 -interns", CHINESE, INTERN),  # with Chinese: zh2 says intern
        ("字節跳動 -intern", CHINESE, INTERN),
        ("ByteDance -實習生", EVERY, CHINESE),  # a Chinese word, in both scripts
    ],
)
def test_an_excluded_word_excludes_every_form_it_would_find(
    es_client: Elasticsearch, names: IndexNames, query: str, among: set[str], excluded: set[str]
) -> None:
    assert found(es_client, names, query, INCIDENT) == among - excluded


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("interns", INTERN),
        ("intern", INTERN),
        ("Praktikanten", PRAKTIKANT),
        ("sabotage", SABOTAGE),
        ('"model trained"', {"reddit:en1"}),
        ("стажёров", {"vk:ru1"}),
        ("стажёра", {"vk:ru1"}),  # Russian forms too
        ("denies", {"reddit:en3"}),  # de1 and de3 say `den`: a form of denies only in French
        ("interns OR Praktikant", INTERN | PRAKTIKANT),
        ("ByteDance interns sabotaged", {"reddit:en1"}),  # every word, each in any form
        ("author.handle:leakwatch", {"reddit:en2"}),
        ("實習生", CHINESE),
        ("ByteDance", EVERY),
    ],
)
def test_the_same_words_included_find_those_forms(
    es_client: Elasticsearch, names: IndexNames, query: str, expected: set[str]
) -> None:
    assert found(es_client, names, query, INCIDENT) == expected


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("interns AND (Praktikanten", 25),  # the end of the query as typed
        ("ByteDance -(interns OR", 22),
    ],
)
def test_an_unparsable_query_names_the_column_of_the_query_as_typed(
    es_client: Elasticsearch, names: IndexNames, query: str, column: int
) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        search_posts(es_client, names, SearchRequest(query=query))
    assert raised.value.column == column


def test_the_cli_search_excludes_every_form(
    names: IndexNames, es_settings: Settings, tmp_path: Path
) -> None:
    answer = cli_search(
        names, es_settings, "ByteDance -interns", "--incident", INCIDENT, "--limit", "50"
    )
    assert {row["id"] for row in answer["posts"]} == EVERY - INTERN
