"""The posts index on the real node: multilingual text, exact Chinese phrases, aggregations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import Elasticsearch, helpers
from elasticsearch.dsl import A, Search

from indexer.connection import ClusterFeatures, IndexNames
from indexer.documents import MAPPING_VERSIONS
from indexer.templates import concrete_index, delete_all, init, mapping_for
from spreadwatch.settings import Settings

START = datetime(2024, 10, 17, tzinfo=UTC)

TEXTS = {
    "zh": [
        "字节跳动实习生被指投毒，涉及8000多张H100",  # the phrase 实习生
        "据说损失超过千万美元，实习生已被辞退",  # the phrase 实习生
        "今天生活很实在，也学习了很多",  # 实, 习, 生 scattered: no phrase
    ],
    "en": [
        "ByteDance intern accused of sabotaging training on 8,000 H100 GPUs",
        "ByteDance says the reported losses are exaggerated",
        "Completely unrelated post about cooking",
    ],
    "de": [
        "ByteDance Praktikant soll KI-Training sabotiert haben",
        "ByteDance dementiert Berichte über Millionenschaden",
        "Ein Beitrag über das Wetter in Berlin",
    ],
}
PLATFORMS = ("weibo", "github", "reddit", "hackernews")
N_DOCS = 1000


def make_docs(names: IndexNames) -> list[dict[str, object]]:
    docs = []
    for i in range(N_DOCS):
        lang = ("zh", "en", "de")[i % 3]
        text = TEXTS[lang][i % 9 // 3]
        docs.append(
            {
                "_index": names.posts,
                "_id": f"{PLATFORMS[i % 4]}:{i}",
                "@timestamp": (START + timedelta(hours=i % 48)).isoformat(),
                "platform": PLATFORMS[i % 4],
                "lang": lang,
                "text": text,
                "incident": ["bytedance-intern-2024"],
                "author": {"handle": f"user{i % 37}", "followers": i * 10},
            }
        )
    return docs


@pytest.fixture(scope="module")
def shared_names(es_client: Elasticsearch, es_settings: Settings) -> Iterator[IndexNames]:
    """One set of indices for the read-only tests of this module (loading 1,000 docs once)."""
    names = IndexNames(f"{es_settings.index_prefix}-indexing")
    init(es_client, names)
    yield names
    delete_all(es_client, names)


@pytest.fixture(scope="module")
def indexed(es_client: Elasticsearch, shared_names: IndexNames) -> list[dict[str, object]]:
    docs = make_docs(shared_names)
    ok, errors = helpers.bulk(es_client, docs, refresh="wait_for")
    assert ok == N_DOCS and not errors
    return docs


def posts(client: Elasticsearch, names: IndexNames) -> Search:
    return Search(using=client, index=names.posts)


def test_init_is_idempotent_and_aliased(es_client: Elasticsearch, index_names: IndexNames) -> None:
    again = init(es_client, index_names)
    assert set(again.values()) == {"exists"}
    aliases = es_client.indices.get_alias(name=index_names.posts)
    assert list(aliases) == [concrete_index(index_names.posts, 1)]


def test_the_mapping_matches_the_cluster_features(
    es_client: Elasticsearch, index_names: IndexNames
) -> None:
    language = ClusterFeatures(es_client).language_analyzers
    stored = es_client.indices.get_mapping(index=index_names.posts)
    mapping = next(iter(stored.body.values()))["mappings"]
    assert mapping["properties"]["@timestamp"]["type"] == "date"
    assert ("fields" in mapping["properties"]["text"]) == language
    expected = mapping_for("posts", language)["properties"]
    assert set(mapping["properties"]) == set(expected)
    for name, spec in expected.items():
        assert mapping["properties"][name].get("type", "object") == spec.get("type", "object")


def test_bulk_indexed_documents_are_all_searchable(
    es_client: Elasticsearch, shared_names: IndexNames, indexed: list[dict[str, object]]
) -> None:
    assert posts(es_client, shared_names).count() == N_DOCS


@pytest.mark.parametrize(
    ("phrase", "lang"),
    [("实习生", "zh"), ("千万美元", "zh"), ("8,000 H100", "en"), ("dementiert Berichte", "de")],
)
def test_a_phrase_matches_exactly(
    es_client: Elasticsearch,
    shared_names: IndexNames,
    indexed: list[dict[str, object]],
    phrase: str,
    lang: str,
) -> None:
    expected = sum(1 for d in indexed if phrase in str(d["text"]))
    hits = posts(es_client, shared_names).query("match_phrase", text=phrase)
    assert hits.count() == expected
    assert expected > 0
    for hit in hits.extra(size=50).execute():
        assert phrase in hit.text


def test_a_chinese_phrase_does_not_match_scattered_characters(
    es_client: Elasticsearch, shared_names: IndexNames, indexed: list[dict[str, object]]
) -> None:
    hits = posts(es_client, shared_names).query("match_phrase", text="实习生")
    texts = {hit.text for hit in hits.extra(size=500).execute()}
    assert TEXTS["zh"][2] not in texts


def test_date_histogram_by_platform_returns_the_known_counts(
    es_client: Elasticsearch, shared_names: IndexNames, indexed: list[dict[str, object]]
) -> None:
    search = posts(es_client, shared_names).extra(size=0)
    per_day = A("date_histogram", field="@timestamp", calendar_interval="1d")
    per_day.bucket("platform", A("terms", field="platform"))
    search.aggs.bucket("per_day", per_day)
    response = search.execute()
    got = Counter()
    for day in response.aggregations.per_day.buckets:
        for platform in day.platform.buckets:
            got[(day.key_as_string[:10], platform.key)] = platform.doc_count
    expected = Counter((str(d["@timestamp"])[:10], str(d["platform"])) for d in indexed)
    assert got == expected


def test_a_mapping_version_bump_migrates_behind_the_alias(
    es_client: Elasticsearch, index_names: IndexNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = make_docs(index_names)[:50]
    helpers.bulk(es_client, docs, refresh="wait_for")
    monkeypatch.setitem(MAPPING_VERSIONS, "posts", 2)
    outcome = init(es_client, index_names)
    assert outcome[index_names.posts] == f"migrated from {concrete_index(index_names.posts, 1)}"
    assert list(es_client.indices.get_alias(name=index_names.posts)) == [
        concrete_index(index_names.posts, 2)
    ]
    assert es_client.count(index=index_names.posts)["count"] == 50
    assert init(es_client, index_names)[index_names.posts] == "exists"
    es_client.indices.delete(index=concrete_index(index_names.posts, 1))


def test_a_field_added_since_an_index_was_made_reaches_it(
    es_client: Elasticsearch, es_settings: Settings
) -> None:
    """An index made by an older spreadwatch (no `gave_up` in runs) gets the field on init."""
    names = IndexNames(f"{es_settings.index_prefix}-older")
    older = mapping_for("runs")
    del older["properties"]["gave_up"]
    es_client.indices.create(
        index=concrete_index(names.runs, MAPPING_VERSIONS["runs"]),
        mappings=older,
        aliases={names.runs: {"is_write_index": True}},
    )
    try:
        assert init(es_client, names)[names.runs] == "exists"
        stored = es_client.indices.get_mapping(index=names.runs)
        properties = next(iter(stored.body.values()))["mappings"]["properties"]
        assert properties["gave_up"] == {"type": "long"}
    finally:
        delete_all(es_client, names)
