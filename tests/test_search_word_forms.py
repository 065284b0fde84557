"""Search finds word forms on a node without language analyzers (the embedded one): posts are
written by the real writer (which stores the stemmed copies), the queries use inflected forms."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from search_support import cli_search, found, write_posts

from indexer.connection import IndexNames
from indexer.stemming import stem_text, word_forms_query
from indexer.templates import delete_all, init
from spreadwatch.settings import Settings

INCIDENT = "word-forms"

# id, lang, title, text — the inflections the tests search for are noted per post.
POSTS = [
    (
        "feeds:de1",
        "de",
        "ByteDance entlässt Praktikant",
        "Der Praktikant soll Code manipuliert haben.",
    ),
    ("feeds:de2", "de", "Schadenersatz", "ByteDance verklagt den ehemaligen Praktikanten."),
    ("reddit:en1", "en", None, "A ByteDance intern allegedly sabotaged model training."),
    ("reddit:en2", "en", None, "Interns at big labs get cluster access too easily."),
    ("weibo:zh1", "zh", None, "字节跳动实习生破坏训练 8,000 张 H100"),
    ("hackernews:en3", "en", "Cluster policies", "Nothing about the story here."),
    ("mastodon:tags", "en", None, "Praying for everyone #SydneySiege at #MartinPlace"),
]


@pytest.fixture(scope="module")
def names(
    es_client: Elasticsearch, es_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IndexNames]:
    names = IndexNames(f"{es_settings.index_prefix}-forms-{uuid.uuid4().hex[:6]}")
    init(es_client, names)
    posts = [
        {"_id": doc_id, "lang": lang, "text": text} | ({"title": title} if title else {})
        for doc_id, lang, title, text in POSTS
    ]
    write_posts(es_client, names, tmp_path_factory.mktemp("spool"), INCIDENT, posts)
    yield names
    delete_all(es_client, names)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Praktikanten", {"feeds:de1", "feeds:de2"}),  # plural/accusative finds the singular
        ("Praktikant", {"feeds:de1", "feeds:de2"}),  # and the other way round
        ("interns", {"reddit:en1", "reddit:en2"}),
        ("intern", {"reddit:en1", "reddit:en2"}),
        ("sabotage", {"reddit:en1"}),  # sabotaged
        ("manipulierte", {"feeds:de1"}),  # manipuliert
        ("Schadenersatzes", {"feeds:de2"}),  # Schadenersatz (title)
        ("ByteDance interns", {"reddit:en1"}),  # every word must match, each in any form
        ('"sabotaging model"', {"reddit:en1"}),  # a phrase, in another form
        ("实习生", {"weibo:zh1"}),  # CJK unchanged
        ("8,000 H100", {"weibo:zh1"}),  # numbers and mixed tokens unchanged
        ("interns AND platform:reddit", {"reddit:en1", "reddit:en2"}),
        ("Praktikanten -verklagt", {"feeds:de1"}),
        ("ByteDance denies", set()),  # de2 says `den`: French stems denies so, German does not
        # a field clause or group: its words in all their forms, in that field only (de2 says
        # Praktikanten in its text, de1 Praktikant in its title)
        ("title:Praktikanten", {"feeds:de1"}),
        ("title:(Praktikanten OR Schadenersatz)", {"feeds:de1", "feeds:de2"}),
        ('title:"entlässt Praktikanten"', {"feeds:de1"}),
        ("text:Praktikant -title:Praktikanten", {"feeds:de2"}),
        ("text:sabotage AND platform:reddit", {"reddit:en1"}),
        ("title:interns", set()),
        # a CamelCase hashtag's words, as the incident's queries read them
        ("Sydney", {"mastodon:tags"}),
        ('"Martin Place"', {"mastodon:tags"}),
        ("sieges", {"mastodon:tags"}),
        ("Praying -Sydney", set()),
        ("text:Sydney", {"mastodon:tags"}),
    ],
)
def test_inflected_forms_find_each_other(
    es_client: Elasticsearch, names: IndexNames, query: str, expected: set[str]
) -> None:
    assert found(es_client, names, query, INCIDENT) == expected


def test_the_stemmed_copies_are_stored_by_the_writer(
    es_client: Elasticsearch, names: IndexNames
) -> None:
    doc = es_client.get(index=names.posts, id="feeds:de2")["_source"]
    assert doc["text_stemmed"] == "bytedanc verklagt den ehemal praktikant."
    assert doc["title_stemmed"] == "schadenersatz"
    tagged = es_client.get(index=names.posts, id="mastodon:tags")["_source"]
    # a CamelCase hashtag's words follow the text's own, whose positions stay the original's
    assert tagged["text_stemmed"] == (
        "pray for everyon #sydneysieg at #martinplac\nsydney sieg sydneysieg martin place martinplac"
    )


@pytest.mark.parametrize(
    ("text", "lang", "stemmed"),
    [
        ("Die Praktikanten", "de", "die praktikant"),
        ("training interns", "en", "train intern"),
        ("Praktikant 实习生 H100s", None, "praktik 实习生 h100s"),
    ],
)
def test_a_stemmed_copy_keeps_everything_but_the_words(text, lang, stemmed) -> None:
    assert stem_text(text, lang) == stemmed


def in_copies(stem: str, langs: str) -> str:
    """A stem searched in the stemmed copies of text and title of posts in `langs`."""
    return f"((text_stemmed:{stem} OR title_stemmed:{stem}) AND {langs})"


NOT_ES_IT_PT_RU = "NOT lang:(es OR it OR pt OR ru)"


@pytest.mark.parametrize(
    ("query", "rewritten"),
    [
        # as written first, then each stem in the copies of the languages that give it
        ("interns", f"(interns OR {in_copies('intern', NOT_ES_IT_PT_RU)})"),
        (
            "NOT Praktikanten",
            f"NOT (Praktikanten OR {in_copies('praktikant', 'lang:(de OR es OR nl)')})",
        ),
        (
            '-"model trained"',
            '-("model trained" OR '
            + in_copies('"model train"', "NOT lang:(de OR fr OR it OR pt OR ru OR nl)")
            + ")",
        ),
        (
            '"the interns"~2',
            '("the interns"~2 OR ' + in_copies('"the intern"~2', NOT_ES_IT_PT_RU) + ")",
        ),
        ("-intern", f"-(intern OR {in_copies('int', 'lang:(de)')})"),
        ("стажёра", f"(стажёра OR {in_copies('стажер', 'lang:(ru)')})"),
        ("GPU", None),  # no other form (the fields are lower-cased anyway)
        ("platform:reddit AND H100", None),
        ("author.handle:leakwatch", None),  # other fields' clauses as written
        # a text or title clause or group: as written in that field and its copy (which holds
        # the stems and simplified Chinese), the stems in that copy alone
        (
            'author.handle:leakwatch -text:"model trained"',
            'author.handle:leakwatch -text:("model trained" OR text_stemmed:"model trained" OR '
            '((text_stemmed:"model train") AND NOT lang:(de OR fr OR it OR pt OR ru OR nl)))',
        ),
        (
            "-title:Praktikanten",
            "-title:(Praktikanten OR title_stemmed:Praktikanten OR "
            "((title_stemmed:praktikant) AND lang:(de OR es OR nl)))",
        ),
        (
            "title:(GPU OR (Praktikanten)) AND H100",
            "title:((GPU OR title_stemmed:GPU) OR ((Praktikanten OR title_stemmed:Praktikanten OR "
            "((title_stemmed:praktikant) AND lang:(de OR es OR nl))))) AND H100",
        ),
        ("title:8000 platform:(reddit OR hackernews)", None),
        ("inter* OR H100", None),
        ("text:(8000 AND", None),
    ],
)
def test_a_query_keeps_its_syntax_with_its_words_in_all_forms(
    query: str, rewritten: str | None
) -> None:
    assert word_forms_query(query) == rewritten


def test_the_cli_search_finds_word_forms(
    names: IndexNames, es_settings: Settings, tmp_path: Path
) -> None:
    assert cli_search(names, es_settings, "Praktikanten")["total"] == 2
