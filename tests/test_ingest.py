"""Items through the ingest core (the stages every crawl, stream and benchmark runs, then the
bulk writer) into the real node."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from crawlers.ingest import (
    Dropped,
    Ingest,
    IngestContext,
    PostDoc,
    normalise,
    run_stages,
    validate,
)
from crawlers.items import Activity, Author, Engagement, Post
from indexer.connection import IndexNames
from indexer.spool import Spool
from indexer.stance import LEXICON_MODEL
from indexer.templates import delete_all
from spreadwatch.incident import Incident
from spreadwatch.settings import Settings

INCIDENT = Incident.model_validate(
    {
        "id": "bytedance-intern-2024",
        "title": "ByteDance intern GPU sabotage rumour",
        "window": {"start": "2024-10-01T00:00:00Z"},
        "languages": ["zh", "en", "de"],
        "queries": [
            {"name": "zh-intern", "lang": "zh", "any": ["字节跳动 实习生"]},
            {"name": "en-intern", "lang": "en", "any": ["ByteDance intern"]},
        ],
        "claims": [{"name": "8000-h100", "patterns": ["8000 H100", "8,000 H100"]}],
        "official": {
            "organisation": "ByteDance",
            "accounts": [{"platform": "toutiao", "handle": "字节跳动"}],
            "domains": ["bytedance.com"],
            "statements": ["https://www.toutiao.com/article/7427384520000000001/"],
        },
    }
)


def ingest_for(settings: Settings, stance_model: bool = False, deferred: bool = False) -> Ingest:
    """One crawl's ingest, as `crawlers.run`, the stream and the benchmarks build it (the
    stage's lexicon label unless `stance_model`: the learned head per writer batch, or marked
    for it to label after indexing when `deferred`)."""
    context = IngestContext.build(
        settings, INCIDENT, spider_name="tiny", run_id="run-1", flush_seconds=3600,
        stance_model=stance_model, stance_deferred=deferred,
    )  # fmt: skip
    return Ingest(context)


@pytest.fixture
def run(settings_for, index_names) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Feed items through the ingest into this test's indices; returns the crawl stats."""
    settings = settings_for(index_prefix=index_names.prefix)

    def process(
        *items: Any,
        settings: Settings = settings,
        stance_model: bool = False,
        deferred: bool = False,
    ) -> dict[str, Any]:
        ingest = ingest_for(settings, stance_model, deferred)
        for item in items:
            ingest.process(item)
        ingest.close()
        return ingest.stats()

    yield process
    with contextlib.suppress(FileNotFoundError):
        (settings.data_dir / "spool" / f"{index_names.prefix}.jsonl").unlink()


def post(native_id: str = "1", **fields: Any) -> Post:
    values: dict[str, Any] = {
        "platform": "weibo",
        "native_id": native_id,
        "timestamp": "2024-10-18T08:00:00+08:00",
        "text": "网传字节跳动实习生破坏了8000 H100的训练",
        "url": "https://m.weibo.cn/status/1?utm_source=share&spm=a.b&id=1#comments",
        "author": Author(id="u1", handle="someone", followers=12),
        "engagement": Engagement(likes=5, reposts=2),
    }
    values.update(fields)
    return Post(**values)


def posts(client: Elasticsearch, names: IndexNames) -> dict[str, dict[str, Any]]:
    client.indices.refresh(index=names.posts)
    hits = client.search(index=names.posts, size=100)["hits"]["hits"]
    return {h["_id"]: h["_source"] for h in hits}


def test_a_matching_post_is_indexed_with_everything_the_ingest_adds(run, es_client, index_names):
    run(post())
    doc = posts(es_client, index_names)["weibo:1"]
    assert doc["@timestamp"] == "2024-10-18T00:00:00+00:00"
    assert (doc["lang"], doc["domain"]) == ("zh", "m.weibo.cn")
    assert doc["url"] == "https://m.weibo.cn/status/1?id=1"
    assert doc["matched"] == {"queries": ["zh-intern"], "claims": ["8000-h100"], "official": False}
    assert (doc["stance"], doc["incident"]) == ("rumour", ["bytedance-intern-2024"])
    assert (doc["stance_source"], doc["stance_model"]) == ("lexicon", LEXICON_MODEL)
    # the claim (网传, "going round online", is a hedge: it decides nothing alone)
    assert 0.5 < doc["stance_confidence"] <= 1.0
    assert doc["stance_cues"] == ["claim:8000-h100"]
    assert len(doc["fingerprint"]) == 16
    assert doc["source"] == {"spider": "tiny", "run": "run-1"}
    assert doc["first_seen"] == doc["last_seen"]
    assert doc["engagement"] == {"likes": 5, "reposts": 2}


def test_recrawling_the_same_items_does_not_duplicate(run, es_client, index_names):
    run(post("1"), post("2"))
    stats = run(post("1"), post("2"))
    assert sorted(posts(es_client, index_names)) == ["weibo:1", "weibo:2"]
    assert (stats["spreadwatch/writer/indexed_new"], stats["spreadwatch/writer/unchanged"]) == (
        0,
        2,
    )


def test_html_text_is_stored_as_text_without_scripts(run, es_client, index_names):
    html = (
        "<p>ByteDance intern <b>story</b></p><script>alert('x')</script>"
        '<img src=x onerror="steal()"><style>p{}</style><p>second &lt;para&gt;</p>'
    )
    run(post(text=html, text_is_html=True))
    text = posts(es_client, index_names)["weibo:1"]["text"]
    assert text == "ByteDance intern story\nsecond <para>"


def test_plain_text_that_looks_like_markup_is_kept_verbatim_as_text(run, es_client, index_names):
    hostile = "ByteDance intern <script>alert(1)</script>"
    run(post(text=hostile))
    assert posts(es_client, index_names)["weibo:1"]["text"] == hostile


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (post(timestamp="last Tuesday-ish"), "bad_timestamp"),
        (post(timestamp=None), "bad_timestamp"),
        (post(timestamp="1970-01-01T00:00:00Z"), "bad_timestamp"),
        (post(timestamp=datetime(2099, 1, 1, tzinfo=UTC)), "bad_timestamp"),
        (post(native_id=""), "missing_native_id"),
        (post(platform=""), "missing_platform"),
        (post(text="  ", title=None), "empty"),
        (post(kind="tweetstorm"), "bad_kind"),
        (post(text="the weather is lovely today"), "no_match"),
        ({"platform": "weibo", "native_id": "9", "text": "字节跳动实习生"}, "unknown_item"),
        (
            Activity(platform="github", event="", timestamp="2024-10-18T00:00:00Z", native_id="x"),
            "missing_event",
        ),
    ],
)
def test_bad_items_are_dropped_and_counted_by_reason(run, es_client, index_names, item, reason):
    stats = run(item, post("good"))
    assert stats[f"spreadwatch/dropped/{reason}"] == 1
    assert list(posts(es_client, index_names)) == ["weibo:good"]


@pytest.mark.parametrize(
    "timestamp",
    [
        datetime(2024, 10, 18, 0, 0),
        1729209600,
        1729209600000,
        "1729209600",
        "Fri, 18 Oct 2024 08:00:00 +0800",
        "2024-10-18T00:00:00Z",
    ],
)
def test_timestamps_in_every_platform_format_become_utc(run, es_client, index_names, timestamp):
    run(post(timestamp=timestamp))
    assert posts(es_client, index_names)["weibo:1"]["@timestamp"] == "2024-10-18T00:00:00+00:00"


def test_a_traditional_chinese_post_matches_the_simplified_queries_and_is_indexed(
    run, es_client, index_names
):
    hong_kong = "字節跳動實習生破壞了大模型訓練"  # the query is 字节跳动 实习生
    stats = run(post("hk", text=hong_kong))
    doc = posts(es_client, index_names)["weibo:hk"]
    assert doc["matched"] == {"queries": ["zh-intern"], "claims": [], "official": False}
    assert doc["text"] == hong_kong  # stored as written
    assert "spreadwatch/dropped/no_match" not in stats


def test_official_post_about_something_else_is_not_the_incident_s(run, es_client, index_names):
    news = post(
        "s1", platform="toutiao", text="字节跳动 发布 新款 耳机", author=Author(handle="字节跳动")
    )
    stats = run(news, post("r1"))
    assert list(posts(es_client, index_names)) == ["weibo:r1"]
    assert stats["spreadwatch/dropped/no_match"] == 1


def test_a_statement_pinned_in_the_incident_file_is_kept_and_flagged(run, es_client, index_names):
    statement = post(
        "s2",
        platform="toutiao",
        kind="statement",
        text="关于近期网络传言的说明",  # names neither the queries nor the claims
        url="http://toutiao.com/article/7427384520000000001",
        author=Author(handle="字节跳动"),
    )
    run(statement)
    doc = posts(es_client, index_names)["toutiao:s2"]
    assert (doc["author"]["official"], doc["matched"]["statement"]) == (True, True)


def test_official_post_matching_the_incident_is_kept(run, es_client, index_names):
    run(
        post(
            "s3",
            platform="toutiao",
            text="关于字节跳动实习生的说明",
            author=Author(handle="字节跳动"),
        )
    )
    assert posts(es_client, index_names)["toutiao:s3"]["matched"]["official"] is True


def test_post_on_an_official_domain_is_official(run, es_client, index_names):
    run(post("n1", platform="web", url="https://www.bytedance.com/news/1", text="ByteDance intern"))
    assert posts(es_client, index_names)["web:n1"]["author"]["official"] is True


def test_always_keep_items_survive_without_a_match(run, es_client, index_names):
    run(post("repo", text="unrelated README", always_keep=True))
    matched = posts(es_client, index_names)["weibo:repo"]["matched"]
    assert (matched["queries"], matched["kept"]) == ([], True)


def test_language_is_detected_per_post(run, es_client, index_names):
    run(
        post("en", text="A ByteDance intern allegedly sabotaged the training of a large model"),
        post(
            "de", text="Ein ByteDance intern soll das Training eines großen Modells sabotiert haben"
        ),
        post("given", text="ByteDance intern", lang="en-US"),
    )
    docs = posts(es_client, index_names)
    assert [docs[i]["lang"] for i in ("weibo:en", "weibo:de", "weibo:given")] == ["en", "de", "en"]


def test_activity_items_reach_the_activity_index(run, es_client, index_names):
    run(
        Activity(
            platform="github",
            event="star",
            timestamp="2024-10-18T10:00:00Z",
            native_id="JusticeFighter110/x:alice",
            repo="JusticeFighter110/x",
            actor="alice",
        )
    )
    es_client.indices.refresh(index=index_names.activity)
    hit = es_client.get(index=index_names.activity, id="github:star:JusticeFighter110/x:alice")
    assert (hit["_source"]["actor"], hit["_source"]["incident"]) == (
        "alice",
        ["bytedance-intern-2024"],
    )


def test_when_elasticsearch_is_down_every_post_is_spooled(run, settings_for, index_names):
    down = settings_for(index_prefix=index_names.prefix, es_url="http://127.0.0.1:9")
    stats = run(post("1"), post("2"), settings=down)
    spooled = Spool(Path(down.data_dir) / "spool", index_names.prefix).entries()
    assert sorted(e.doc["native_id"] for e in spooled) == ["1", "2"]
    assert stats["spreadwatch/writer/spooled"] == 2


def test_first_crawl_under_a_new_prefix_creates_the_versioned_indices(
    settings_for, es_settings, es_client
):
    names = IndexNames(f"{es_settings.index_prefix}-fresh{uuid.uuid4().hex[:6]}")
    try:
        ingest = ingest_for(settings_for(index_prefix=names.prefix))
        ingest.process(post())
        ingest.close()
        assert list(es_client.indices.get_alias(name=names.posts)) == [f"{names.posts}-v1"]
    finally:
        delete_all(es_client, names)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": 110, "text": "ByteDance intern"}, {"title": "110"}),
        ({"hashtags": None, "mentions": "@jf110", "links": None}, {"mentions": ["jf110"]}),
        ({"author": None}, {"author": {"official": False}}),
        (
            {"engagement": {"likes": 3, "views": -1, "reposts": "many"}},
            {"engagement": {"likes": 3}},
        ),
    ],
    ids=["number-title", "loose-lists", "no-author", "dict-engagement"],
)
def test_loosely_typed_fields_are_coerced_not_fatal(run, es_client, index_names, fields, expected):
    run(post(**fields))
    doc = posts(es_client, index_names)["weibo:1"]
    assert {key: doc.get(key) for key in expected} == expected


def test_a_field_of_the_wrong_kind_is_a_counted_drop(run, es_client, index_names):
    stats = run(post("bad", title="ByteDance intern", text={"not": "text"}), post("good"))
    assert stats["spreadwatch/dropped/bad_field"] == 1
    assert list(posts(es_client, index_names)) == ["weibo:good"]


@pytest.mark.parametrize(
    ("stage", "item", "reason"),
    [
        (validate, post(native_id=" "), "missing_native_id"),
        (normalise, post(timestamp="soon"), "bad_timestamp"),
        (normalise, post(text=["not", "text"]), "bad_field"),
    ],
)
def test_each_stage_is_a_plain_function_raising_dropped(settings_for, stage, item, reason):
    context = IngestContext.build(settings_for(), INCIDENT, spider_name="tiny")
    with pytest.raises(Dropped) as dropped:
        stage(item, context)
    assert (dropped.value.reason, dropped.value.stat) == (reason, f"spreadwatch/dropped/{reason}")


def test_the_stages_in_order_turn_an_item_into_the_document_the_writer_gets(settings_for):
    context = IngestContext.build(settings_for(), INCIDENT, spider_name="tiny")
    doc = run_stages(post(), context)
    assert isinstance(doc, PostDoc)
    assert (doc["matched"]["claims"], doc["stance"], len(doc["fingerprint"])) == (
        ["8000-h100"],
        "rumour",
        16,
    )


@pytest.mark.parametrize(("cap", "cut"), [(100_000, True), (2_000_000, False)])
def test_a_text_over_the_cap_is_cut_flagged_and_counted(
    run, settings_for, es_client, index_names, *, cap: int, cut: bool
):
    """A 1 MB issue body (a pasted log) is cut to the `text_max_chars` setting, never silently."""
    body = "字节跳动 实习生 " + "log line\n" * 110_000
    settings = settings_for(index_prefix=index_names.prefix, text_max_chars=cap)
    stats = run(post(text=body), settings=settings)
    doc = posts(es_client, index_names)["weibo:1"]
    assert len(doc["text"]) == (cap if cut else len(body.strip()))
    assert doc.get("truncated", False) is cut
    assert stats.get("spreadwatch/truncated", 0) == stats.get("spreadwatch/truncated/text", 0)
    assert stats.get("spreadwatch/truncated", 0) == int(cut)


def test_commit_facts_and_the_window_mark_reach_the_document(run, es_client, index_names):
    facts = {
        "sha": "074a0f8",
        "author": {"name": "Marak", "login": "Marak", "date": "2022-01-08T00:52:13+00:00"},
        "files": [{"filename": "lib/custom/american.js", "additions": 24, "changes": 24}],
        "stats": {"additions": 24, "deletions": 0, "total": 24},
    }
    run(post(kind="commit", commit=facts, before_window=True))
    doc = posts(es_client, index_names)["weibo:1"]
    assert doc["commit"] == facts
    assert doc["before_window"] is True


def test_one_article_shared_on_three_platforms_has_one_join_key(settings_for):
    """A news item (publisher's URL), a Weibo post and a Reddit link share one article: its
    `url_canonical` and the others' links are the same value, whatever way each wrote it."""
    context = IngestContext.build(settings_for(), INCIDENT, spider_name="tiny")
    article = "https://www.thepaper.cn/newsDetail_forward_29000001"
    news = post(
        "n1",
        platform="news",
        kind="article",
        url=f"{article}?utm_source=gn",
        via="https://news.google.com/rss/articles/CBMiabc?oc=5",
        domain="thepaper.cn",
    )
    weibo = post("w1", links=["http://thepaper.cn/newsDetail_forward_29000001/?spm=a1"])
    reddit = post("t3_x", platform="reddit", links=[f"{article.upper()[:23]}{article[23:]}#top"])
    docs = [run_stages(item, context) for item in (news, weibo, reddit)]
    key = "https://thepaper.cn/newsDetail_forward_29000001"
    assert docs[0]["url_canonical"] == key
    assert docs[0]["url"] == article  # the address kept as the site serves it (www., https)
    assert docs[0]["via"] == "https://news.google.com/rss/articles/CBMiabc?oc=5"
    assert docs[1]["links"] == [key] and docs[2]["links"] == [key]
    assert {d["domain"] for d in docs[:1]} == {"thepaper.cn"}


def test_with_the_learned_head_each_batch_is_labelled_with_its_context(run, es_client, index_names):
    """The head labels the batch's posts (source `model`, its version); a reply's parent is
    found in Elasticsearch when an earlier crawl stored it, in the batch otherwise."""
    from indexer.stance_enrich import StanceEnricher
    from indexer.stance_model import StanceModel

    model = StanceModel.load()
    run(post("1"), stance_model=True)
    run(post("2", text="ByteDance intern story: 8,000 H100 is false", reply_to="weibo:1",
             url="https://m.weibo.cn/status/2"), stance_model=True)  # fmt: skip
    no_claim = post("5", text="字节跳动实习生的事有后续吗", url="https://m.weibo.cn/status/5")
    run(no_claim, stance_model=True)
    again = run(post("1"), no_claim, stance_model=True)  # a re-crawl changes nothing
    assert (again["spreadwatch/writer/unchanged"], again["spreadwatch/writer/updated"]) == (2, 0)
    stored = posts(es_client, index_names)
    assert {d["stance_source"] for d in stored.values()} == {"model"}
    assert {d["stance_model"] for d in stored.values()} == {model.version}
    enricher = StanceEnricher(INCIDENT, model, es_client, index_names)
    reply = {"platform": "weibo", "native_id": "3", "text": "no", "reply_to": "weibo:1"}
    in_batch = {"platform": "weibo", "native_id": "4", "text": "yes", "quote_of": "weibo:3"}
    assert enricher.parent_texts([reply, in_batch]) == {
        "weibo:1": stored["weibo:1"]["text"],
        "weibo:3": "no",
    }


# -- the learned head after indexing (SPREADWATCH_STANCE_DEFERRED) --------------------------------

STATEMENT_URL = "https://www.toutiao.com/article/7427384520000000001/"
HEAD_FIELDS = ("stance", "stance_confidence", "stance_source", "stance_cues", "stance_model")


def story_items() -> list[Post]:
    """A claim, a reply denying it, a post naming no claim, and the pinned official statement."""
    return [
        post("1"),
        post("2", text="ByteDance intern story: 8,000 H100 is false", reply_to="weibo:1",
             url="https://m.weibo.cn/status/2"),
        post("5", text="字节跳动实习生的事有后续吗", url="https://m.weibo.cn/status/5"),
        post("7427384520000000001", platform="toutiao", url=STATEMENT_URL,
             text="关于字节跳动实习生的声明：网传8000 H100 严重夸大", author=Author(handle="字节跳动")),
    ]  # fmt: skip


def label_now(es_client: Elasticsearch, index_names: IndexNames) -> Any:
    from indexer.stance_model import StanceModel
    from indexer.stance_pending import label_pending

    return label_pending(es_client, index_names, INCIDENT, StanceModel.load())


def test_deferred_ingest_writes_the_lexicon_label_marked_pending(run, es_client, index_names):
    """The head is not run while indexing: each post keeps the lexicon's label, marked for the
    head; the pinned statement's label is final already."""
    from indexer.stance_pending import pending_count

    run(*story_items(), stance_model=True, deferred=True)
    stored = posts(es_client, index_names)
    waiting = {i for i, d in stored.items() if d.get("stance_pending")}
    assert waiting == {"weibo:1", "weibo:2", "weibo:5"}
    assert {stored[i]["stance_model"] for i in waiting} == {LEXICON_MODEL}
    assert stored["toutiao:7427384520000000001"]["stance_source"] == "official"
    assert pending_count(es_client, index_names, INCIDENT.id) == 3


def test_deferred_labels_equal_the_per_batch_head(
    run, settings_for, index_pool, es_client, index_names
):
    """Labelled after indexing, each post carries what the head gives it when it labels the
    writer's batch (same context: the reply's parent), and is no longer pending."""
    from indexer.stance_pending import pending_count

    run(*story_items(), stance_model=True, deferred=True)
    labelled = label_now(es_client, index_names)
    per_batch = index_pool.take()
    try:
        run(*story_items(), stance_model=True, settings=settings_for(index_prefix=per_batch.prefix))
        expected = posts(es_client, per_batch)
    finally:
        index_pool.give_back(per_batch)
    stored = posts(es_client, index_names)
    assert (labelled.labelled, labelled.conflicts, labelled.failed) == (3, 0, 0)
    assert pending_count(es_client, index_names, INCIDENT.id) == 0
    for post_id, doc in stored.items():
        want = expected[post_id]
        assert [doc.get(f) for f in (*HEAD_FIELDS, "claim_stances")] == [
            want.get(f) for f in (*HEAD_FIELDS, "claim_stances")
        ], post_id
    assert {d["stance_source"] for d in stored.values()} == {"model", "official"}
    assert all(d["stance_labelled_at"] for i, d in stored.items() if i.startswith("weibo:"))


def test_one_pass_labels_every_waiting_post_batch_by_batch(run, es_client, index_names):
    from indexer.stance_model import StanceModel
    from indexer.stance_pending import label_pending, pending_count

    run(*(post(str(n), url=f"https://m.weibo.cn/status/{n}") for n in range(5)),
        stance_model=True, deferred=True)  # fmt: skip
    done = label_pending(es_client, index_names, INCIDENT, StanceModel.load(), batch_size=2)
    assert (done.labelled, pending_count(es_client, index_names, INCIDENT.id)) == (5, 0)


def test_a_stored_post_the_head_cannot_read_costs_only_its_own_label(run, es_client, index_names):
    """A post stored in a shape the head fails on (a text that is a list: written by another
    tool) keeps the lexicon's label, is no longer pending, and says why; the rest of its batch
    is labelled."""
    from indexer.stance_pending import UNLABELLED_CUE

    run(post("1"), stance_model=True, deferred=True)
    stored = posts(es_client, index_names)["weibo:1"]
    odd = {**stored, "native_id": "9", "text": ["ByteDance intern", "8000 H100"]}
    es_client.index(index=index_names.posts, id="weibo:9", document=odd, refresh=True)
    done = label_now(es_client, index_names)
    assert (done.labelled, done.unlabelled, done.failed) == (2, 1, 0)
    after = posts(es_client, index_names)
    assert (after["weibo:1"]["stance_source"], after["weibo:1"]["stance_pending"]) == (
        "model",
        False,
    )
    assert (after["weibo:9"]["stance_source"], after["weibo:9"]["stance_pending"]) == (
        "lexicon",
        False,
    )
    assert after["weibo:9"]["stance_cues"][-1] == UNLABELLED_CUE


def test_a_recrawl_keeps_the_heads_label(run, es_client, index_names):
    """A post crawled again with the same words brings only the lexicon's provisional label:
    the head's stands, and the post counts as unchanged."""
    run(*story_items(), stance_model=True, deferred=True)
    label_now(es_client, index_names)
    before = posts(es_client, index_names)
    again = run(*story_items(), stance_model=True, deferred=True)
    assert (again["spreadwatch/writer/unchanged"], again["spreadwatch/writer/updated"]) == (4, 0)
    crawl_times = ("last_seen", "source")
    assert {i: {k: v for k, v in d.items() if k not in crawl_times} for i, d in before.items()} == {
        i: {k: v for k, v in d.items() if k not in crawl_times}
        for i, d in posts(es_client, index_names).items()
    }


def test_an_edited_post_waits_for_the_head_again(run, es_client, index_names):
    run(post("1"), stance_model=True, deferred=True)
    label_now(es_client, index_names)
    edited = post("1", text="网传字节跳动实习生破坏了8000 H100的训练？已辟谣，纯属谣言",
                  timestamp="2024-10-18T08:00:00+08:00")  # fmt: skip
    run(edited, stance_model=True, deferred=True)
    doc = posts(es_client, index_names)["weibo:1"]
    assert (doc["stance_pending"], doc["stance_source"]) == (True, "lexicon")
    assert label_now(es_client, index_names).labelled == 1
    assert posts(es_client, index_names)["weibo:1"]["stance_source"] == "model"


def test_a_post_stored_again_meanwhile_is_labelled_by_the_next_pass(run, es_client, index_names):
    """A label is written only over the version it was computed from: a crawl that stored the
    post between the read and the write wins, and the post stays pending until the next pass."""
    from indexer.stance_pending import LabelRun, _write_labels, pending_query

    run(post("1"), stance_model=True, deferred=True)
    es_client.indices.refresh(index=index_names.posts)
    found = es_client.search(
        index=index_names.posts, query=pending_query(INCIDENT.id), seq_no_primary_term=True
    )
    hits = found["hits"]["hits"]  # what a pass read
    run(post("1", engagement=Engagement(likes=9, reposts=2)), stance_model=True, deferred=True)
    stale = LabelRun()
    _write_labels(
        es_client, hits, [dict(h["_source"]) for h in hits], "2026-01-01T00:00:00Z", stale
    )
    assert (stale.labelled, stale.conflicts) == (0, 1)
    assert posts(es_client, index_names)["weibo:1"]["stance_pending"] is True
    assert label_now(es_client, index_names).labelled == 1
    doc = posts(es_client, index_names)["weibo:1"]
    assert (doc["stance_source"], doc["engagement"]["likes"]) == ("model", 9)


def test_a_label_set_by_hand_is_never_relabelled(run, es_client, index_names):
    from indexer.stance_human import set_label

    run(post("1"), stance_model=True, deferred=True)
    set_label(es_client, index_names, INCIDENT, "weibo:1", "denial", note="read it twice")
    assert label_now(es_client, index_names).labelled == 0
    doc = posts(es_client, index_names)["weibo:1"]
    assert (doc["stance"], doc["stance_source"], doc["stance_pending"]) == (
        "denial",
        "human",
        False,
    )


def test_a_repository_is_not_the_context_of_what_is_filed_in_it(run, es_client, index_names):
    """An issue or a README points at its repository (`reply_to`) without answering the
    repository's description, stored or in the batch; a comment answers its issue."""
    from indexer.stance_enrich import StanceEnricher
    from indexer.stance_model import StanceModel

    stored_repo = "github:audio-forensics/recording-is-fake"
    run(post("audio-forensics/recording-is-fake", platform="github", kind="repo",
             text="The ByteDance intern confession recording is fake",
             url="https://github.com/audio-forensics/recording-is-fake"))  # fmt: skip
    assert stored_repo in posts(es_client, index_names)
    issue = {"platform": "github", "native_id": "audio-forensics/recording-is-fake#1",
             "kind": "issue", "title": "8000 H100?", "text": "Where is this from?",
             "reply_to": stored_repo}  # fmt: skip
    comment = {"platform": "github", "native_id": "audio-forensics/recording-is-fake#1/comment-2",
               "kind": "comment", "text": "No idea", "reply_to": f"{stored_repo}#1"}  # fmt: skip
    repo_in_batch = {"platform": "github", "native_id": "someone/truth", "kind": "repo",
                     "text": "The truth about the ByteDance intern"}  # fmt: skip
    readme = {"platform": "github", "native_id": "someone/truth:readme", "kind": "article",
              "text": "# Truth", "reply_to": "github:someone/truth"}  # fmt: skip
    enricher = StanceEnricher(INCIDENT, StanceModel.load(), es_client, index_names)
    assert enricher.parent_texts([issue, comment, repo_in_batch, readme]) == {
        f"{stored_repo}#1": "8000 H100?\nWhere is this from?"
    }
