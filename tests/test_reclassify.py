"""`reclassify` recomputes everything the incident file decides and detaches what no longer
belongs — the airline case: a newsroom release kept as a 'statement/denial' while the feed was
marked official, after the user removed the domain and set the feed to `official: false`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alerts_support import index_docs, index_posts, post
from search_support import found

from indexer.reclassify import reclassify
from indexer.writer import BulkWriter
from spreadwatch.incident import Incident

from es_relay import BulkGate  # isort: skip

pytest_plugins = ["conftest_alerts"]

T = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
ID = "aurora-air"


def incident(official_feed: bool, domains: list[str], statements: list[str] = ()) -> Incident:
    return Incident.model_validate(
        {
            "id": ID,
            "title": "Aurora Air fleet grounding rumour",
            "window": {"start": (T - timedelta(days=1)).isoformat()},
            "queries": [{"name": "grounding", "any": ["Aurora Air grounded"]}],
            "claims": [
                {"name": "fleet", "patterns": ["whole fleet", "entire fleet"]},
                {"name": "cracks", "patterns": ["engine cracks"]},
            ],
            "official": {
                "organisation": "Aurora Air",
                "domains": domains,
                "statements": list(statements),
            },
            "sources": {
                "feeds": {
                    "feeds": [
                        {"url": "https://newsroom.aurora-air.example/rss.xml",
                         "name": "newsroom", "official": official_feed},
                    ]
                }
            },
        }
    )  # fmt: skip


def newsroom(native_id: str, text: str, **fields):
    """A newsroom item as it was indexed while the feed was marked official."""
    values = {
        "platform": "news",
        "kind": "statement",
        "url": f"https://newsroom.aurora-air.example/news/{native_id}",
        "author": {"id": "newsroom.aurora-air.example", "handle": "newsroom.aurora-air.example",
                   "official": True},
        "matched": {"queries": [], "claims": [], "official": True},
        "stance": "denial",
        "stance_confidence": 1.0,
        "stance_source": "official",
        "source": {"spider": "feeds", "query": "newsroom"},
        "text": text,
        **fields,
    }  # fmt: skip
    return post(native_id, T, incident=ID, **values)


@pytest.fixture
def index_names(emptied_indices):
    """Module-wide indices emptied per test (see conftest_alerts)."""
    return emptied_indices


def stored(client, names, doc_id):
    client.indices.refresh(index=names.posts)
    found = client.options(ignore_status=404).get(index=names.posts, id=doc_id)
    return found["_source"] if found.get("found") else None


def test_an_official_release_about_something_else_is_detached_and_deleted(es_client, index_names):
    index_posts(es_client, index_names, [newsroom("winter", "Aurora Air adds winter routes")])
    result = reclassify(es_client, index_names, incident(False, []))
    assert (result.scanned, result.detached, result.deleted) == (1, 1, 1)
    assert result.reasons == {"detached: matches nothing any more": 1}
    assert stored(es_client, index_names, "news:winter") is None


def test_while_the_feed_is_still_official_the_release_is_detached_too(es_client, index_names):
    index_posts(es_client, index_names, [newsroom("winter", "Aurora Air adds winter routes")])
    result = reclassify(es_client, index_names, incident(True, ["aurora-air.example"]))
    assert result.reasons == {"detached: an official source's post that matches nothing": 1}


def test_a_post_another_incident_has_is_only_detached(es_client, index_names):
    shared = newsroom("winter", "Aurora Air adds winter routes")
    shared["incident"] = [ID, "winter-ops"]
    index_posts(es_client, index_names, [shared])
    result = reclassify(es_client, index_names, incident(False, []))
    assert (result.detached, result.deleted) == (1, 0)
    assert stored(es_client, index_names, "news:winter")["incident"] == ["winter-ops"]


def test_the_engagement_snapshots_of_a_deleted_post_go_with_it(es_client, index_names):
    index_posts(es_client, index_names, [newsroom("winter", "Aurora Air adds winter routes")])
    snapshot = {"@timestamp": T.isoformat(), "incident": [ID], "post_id": "news:winter",
                "event": "engagement", "platform": "news"}  # fmt: skip
    index_docs(es_client, index_names.activity, [{"_id": "news:engagement:1", **snapshot}])
    reclassify(es_client, index_names, incident(False, []))
    es_client.indices.refresh(index=index_names.activity)
    assert es_client.count(index=index_names.activity)["count"] == 0


def test_a_matching_item_of_a_feed_no_longer_official_becomes_an_article(es_client, index_names):
    item = newsroom("story", "Aurora Air grounded? Our whole fleet is flying.")
    index_posts(es_client, index_names, [item])
    result = reclassify(es_client, index_names, incident(False, []))
    doc = stored(es_client, index_names, "news:story")
    assert (doc["author"]["official"], doc["kind"], doc["matched"]["official"]) == (
        False,
        "article",
        False,
    )
    assert doc["stance"] != "denial" or doc["stance_source"] != "official"
    assert {"official source → not official", "kind statement → article"} <= set(result.reasons)
    assert result.changed == 1 and result.detached == 0


def test_a_pinned_statement_stays_and_is_flagged(es_client, index_names):
    url = "https://newsroom.aurora-air.example/news/statement"
    index_posts(es_client, index_names, [newsroom("statement", "A word to our passengers")])
    result = reclassify(es_client, index_names, incident(True, [], statements=[url + "/"]))
    assert stored(es_client, index_names, "news:statement")["matched"]["statement"] is True
    assert result.reasons["pinned as a statement"] == 1


def test_each_claim_gets_the_stance_of_the_sentences_that_name_it(es_client, index_names):
    mixed = post(
        "mixed",
        T,
        incident=ID,
        platform="mastodon",
        text="Aurora Air grounded the whole fleet, I am sure of it. "
        "But the engine cracks story is fake, that was debunked.",
        author={"id": "x", "handle": "x"},
    )
    index_posts(es_client, index_names, [mixed])
    reclassify(es_client, index_names, incident(False, []))
    doc = stored(es_client, index_names, "mastodon:mixed")
    assert doc["matched"]["claims"] == ["fleet", "cracks"]
    fleet, cracks = (pair.split(":") for pair in doc["claim_stances"])
    assert (fleet, cracks[0]) == (["fleet", "rumour"], "cracks")
    assert cracks[1] in ("denial", "debunk")  # spreads one claim, rejects the other


def test_a_second_run_changes_nothing(es_client, index_names):
    index_posts(
        es_client,
        index_names,
        [newsroom("story", "Aurora Air grounded? Our whole fleet is flying."),
         newsroom("winter", "Aurora Air adds winter routes")],
    )  # fmt: skip
    reclassify(es_client, index_names, incident(False, []))
    again = reclassify(es_client, index_names, incident(False, []))
    assert (again.scanned, again.changed, again.detached, dict(again.reasons)) == (1, 0, 0, {})


def test_with_the_learned_head_every_post_is_relabelled_by_it(es_client, index_names):
    """Chunks of one post each: the head labels each chunk; a reply's parent is read back."""
    from indexer.stance_model import StanceModel

    rumour = post("r", T, incident=ID, platform="mastodon", author={"id": "a", "handle": "a"},
                  text="Aurora Air grounded the whole fleet, engine cracks everywhere")  # fmt: skip
    reply = post("q", T, incident=ID, platform="mastodon", author={"id": "b", "handle": "b"},
                 text="Aurora Air grounded? Source?", reply_to="mastodon:r")  # fmt: skip
    waiting = post("w", T, incident=ID, platform="mastodon", author={"id": "c", "handle": "c"},
                   text="Aurora Air grounded the whole fleet", stance_source="lexicon",
                   stance_pending=True)  # fmt: skip
    index_posts(es_client, index_names, [rumour, reply, waiting])
    result = reclassify(es_client, index_names, incident(False, []), chunk_size=1, learned=True)
    version = StanceModel.load().version
    docs = [stored(es_client, index_names, f"mastodon:{n}") for n in ("r", "q", "w")]
    assert [(d["stance_source"], d["stance_model"]) for d in docs] == [("model", version)] * 3
    assert result.scanned == 3 and result.changed == 3
    assert docs[2]["stance_pending"] is False  # no longer waiting for the head
    assert result.reasons["provisional label replaced by the model's"] == 1


def test_stale_searchable_copies_are_rewritten_so_a_simplified_search_finds_the_post(
    es_client, index_names
):
    """A Hong Kong post stored by a version that kept its stemmed copy in traditional script: a
    search in simplified script misses it until reclassify rewrites the copy."""
    hong_kong = post("hk", T, incident=ID, platform="mastodon", author={"id": "h", "handle": "h"},
                     lang="zh", text="Aurora Air grounded 全機隊停飛",
                     text_stemmed="aurora air ground 全機隊停飛")  # fmt: skip
    index_posts(es_client, index_names, [hong_kong])
    assert found(es_client, index_names, "机队停飞", ID) == set()
    result = reclassify(es_client, index_names, incident(False, []))
    assert result.reasons["searchable copies refreshed"] == 1
    assert found(es_client, index_names, "机队停飞", ID) == {"mastodon:hk"}
    assert found(es_client, index_names, "機隊停飛", ID) == {"mastodon:hk"}


@pytest.mark.parametrize(
    ("meanwhile", "expected"),
    [
        # Another incident's crawl finds the post: detached from this one, kept for that one.
        ({"incident": ["winter-ops"]}, {"incident": ["winter-ops"], "matched_claims": None}),
        # A crawl sees it edited into a claim: it belongs again, with the new text's match.
        (
            {"text": "Aurora Air grounded the whole fleet for winter"},
            {"incident": [ID], "matched_claims": ["fleet"]},
        ),
    ],
)
def test_a_post_written_by_a_crawl_while_reclassify_runs_keeps_the_crawl_s_write(
    es_client, index_names, tmp_path, meanwhile, expected
):
    """reclassify decides from what it scanned; a crawl may store the post again before the
    decision is written. The decision must be made again over what the crawl wrote."""
    item = newsroom("winter", "Aurora Air adds winter routes")
    index_posts(es_client, index_names, [item])
    gate = BulkGate.to(es_client)
    running = threading.Thread(
        target=reclassify, args=(gate.client(), index_names, incident(False, []))
    )
    running.start()  # decides to delete the post; its bulk request waits at the gate
    assert gate.held.wait(30)
    crawl = BulkWriter(es_client, index_names, tmp_path / "spool")
    later = datetime(2025, 3, 11, tzinfo=UTC).isoformat()
    crawl.add_post({**item, **meanwhile, "first_seen": later, "last_seen": later})
    crawl.close()
    gate.release()
    running.join(60)
    gate.cut()
    doc = stored(es_client, index_names, "news:winter") or {}
    assert {
        "incident": doc.get("incident"),
        "matched_claims": (doc.get("matched") or {}).get("claims") or None,
    } == expected
