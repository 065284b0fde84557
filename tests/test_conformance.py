"""The conformance check (`python -m crawlers.conformance DIR`) on a folder written here.

The records are this test's own, in the recorded-responses layout (`<platform>.jsonl`, one
`{id, origin, kind, payload, meta}` a line; feeds name an XML file); the expected table is
counted by hand from them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crawlers.conformance.__main__ import main
from crawlers.conformance.check import (
    PARTS,
    SIDED_BOUND,
    SIDED_JUDGED,
    Tally,
    compare,
    part,
    recorded_posts,
    run,
    stance_failed,
    stance_line,
    table,
)
from crawlers.conformance.expected import Expectation, Want
from indexer.stance_model import StanceModel

ANNA = {"id": "1", "username": "anna", "acct": "anna", "url": "https://toot.example/@anna", "followers_count": 3}  # fmt: skip


def status(ident: str, content: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "uri": f"https://toot.example/users/anna/statuses/{ident}",
        "url": f"https://toot.example/@anna/{ident}",
        "created_at": "2024-10-19T08:00:00.000Z",
        "content": content,
        "account": ANNA,
        "mentions": [],
        "tags": [],
        "media_attachments": [],
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        **fields,
    }


def line(ident: str, kind: str, payload: Any, **meta: Any) -> str:
    origin = {"repo": "written-for-this-test", "path": "-", "commit": None, "note": ""}
    return json.dumps({"id": ident, "origin": origin, "kind": kind, "payload": payload, "meta": meta})  # fmt: skip


def write(folder: Path, platform: str, *lines: str) -> None:
    (folder / f"{platform}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    boost = status("12", "", reblog=status("11", "<p>the intern did it</p>"))
    empty = status("13", "")  # no words, media or link: a counted `empty` drop is right
    reply = status("14", "<p>no</p>", in_reply_to_id="11", in_reply_to_account_id="1")
    write(
        tmp_path,
        "mastodon",
        line("m1", "statuses", [boost, empty], instance="https://toot.example"),
        line("m2", "status", reply, instance="https://toot.example"),
        line("m3", "search", {"error": "not a search answer"}, instance="https://toot.example"),
    )
    thing = {"kind": "t1", "data": {"name": "t1_c", "created_utc": 1729325000, "body": "a &amp; b", "body_html": "&lt;p&gt;&lt;a href=\"/r/x/\"&gt;x&lt;/a&gt;&lt;/p&gt;", "parent_id": "t3_p", "link_id": "t3_p", "author": "z", "permalink": "/r/x/comments/p/t/c/"}}  # fmt: skip
    write(tmp_path, "reddit", line("r1", "t1", thing), line("r2", "more", {"kind": "more", "data": {}}))  # fmt: skip
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "a.xml").write_text(
        "<rss version='2.0'><channel><title>t</title><item><title>x</title><guid>g1</guid>"
        "<link>https://desk.example/a</link><pubDate>Sat, 19 Oct 2024 08:00:00 GMT</pubDate>"
        "</item><item><title>undated</title><guid>g2</guid></item></channel></rss>"
    )
    write(tmp_path, "feeds", line("f1", "feedparser_case", {"file": "feeds/a.xml"}))
    write_other_platforms(tmp_path)
    return tmp_path


def write_other_platforms(folder: Path) -> None:
    """One record of each other platform, in the shapes their readers take."""
    did = "did:plc:writtenforthistest"
    view = {"uri": f"at://{did}/app.bsky.feed.post/3k1", "cid": "c", "author": {"did": did, "handle": "w.bsky.social"}, "record": {"text": "see", "createdAt": "2024-10-19T08:00:00.000Z", "embed": {"$type": "app.bsky.embed.external", "external": {"uri": "https://www.example.org/a", "title": "t", "description": "d"}}}, "likeCount": 2}  # fmt: skip
    like = {"did": did, "time_us": 1729325000000000, "kind": "commit", "commit": {"operation": "create", "collection": "app.bsky.feed.like", "rkey": "3k2", "record": {"subject": {"uri": "at://x"}}}}  # fmt: skip
    write(folder, "bluesky", line("b1", "postview", view), line("b2", "jetstream", like))
    hits = {"hits": [{"objectID": "7", "created_at_i": 1729325000, "author": "a", "_tags": ["comment"], "comment_text": "<p>old\\ntext <a href=\"item?id=6\">here</a></p>", "parent_id": 6, "story_id": 5, "points": 3}]}  # fmt: skip
    write(folder, "hackernews", line("h1", "search", hits))
    mblog = {"id": "1", "created_at": "Sat Oct 19 16:00:00 +0800 2024", "text": "哈<span class=\"url-icon\"><img alt=[doge] src=\"//x\"></span>", "user": {"id": 9, "screen_name": "u"}}  # fmt: skip
    container = {"ok": 1, "data": {"cards": [{"card_type": 11, "card_group": [{"card_type": 9, "mblog": mblog}]}]}}  # fmt: skip
    write(folder, "weibo", line("w1", "container", container, committed="2024-10-20T00:00:00+08:00"))  # fmt: skip
    issue = {"node_id": "I_1", "number": 3, "title": "isType<T>() fails", "body": "See https://example.org/x.", "created_at": "2024-10-19T08:00:00Z", "html_url": "https://github.com/o/r/issues/3", "user": {"login": "me"}, "comments": 1}  # fmt: skip
    star = {"starred_at": "2024-10-19T09:00:00Z", "user": {"login": "Fan"}}
    write(folder, "github", line("g1", "issue", issue, repo="O/R"), line("g2", "star", star, repo="O/R"))  # fmt: skip


def test_every_record_is_read_and_tallied_per_platform(folder: Path) -> None:
    tallies = {t.platform: t for t in run(folder)}
    mastodon, reddit, feeds = tallies["mastodon"], tallies["reddit"], tallies["feeds"]
    # boost → original + repost; reply; the empty status is dropped; the search is refused.
    assert (mastodon.records, mastodon.documents, mastodon.right) == (3, 3, 3)
    assert (mastodon.drops["empty"], mastodon.drops["bad_shape"]) == (1, 1)
    assert not mastodon.wrong and not mastodon.crashes and not mastodon.failed
    assert (reddit.records, reddit.documents, reddit.skipped.total()) == (2, 1, 1)
    assert (feeds.documents, feeds.drops["no_time"]) == (1, 1)
    for other in ("bluesky", "hackernews", "weibo", "github"):
        tally = tallies[other]
        assert (tally.records, tally.right, tally.crashes, tally.failed) == (tally.records, tally.records, [], False), other  # fmt: skip
        assert tally.documents >= 1 and not tally.wrong, other
    assert tallies["bluesky"].checked["links"] == 1 and tallies["github"].checked["time"] == 2
    rows = table(list(tallies.values())).splitlines()
    cells = {row.split(" | ")[0].strip(): [c.strip() for c in row.split(" | ")] for row in rows}
    assert cells["platform"][:4] == ["platform", "records", "all right", "docs"]
    assert cells["mastodon"][:5] == ["mastodon", "3", "3", "3", "-"]
    assert cells["mastodon"][5] == "bad_shape 1, empty 1"


def test_the_command_passes_on_a_folder_read_right(folder: Path, capsys: Any) -> None:
    assert main([str(folder)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("passed")


def test_a_reply_whose_parent_uri_the_parser_cannot_know_fails_the_check(folder: Path, capsys: Any) -> None:  # fmt: skip
    """A server that names statuses `/objects/<uuid>` (not Mastodon's `/users/…/statuses/…`):
    the folder holds the parent, so the truth is known, and the parser's guess is wrong."""
    parent = status("21", "<p>claim</p>")
    parent["uri"] = "https://toot.example/objects/5c1e"
    reply = status("22", "<p>no</p>", in_reply_to_id="21", in_reply_to_account_id="1")
    write(folder, "mastodon", line("m1", "statuses", [parent, reply], instance="https://toot.example"))  # fmt: skip
    assert main([str(folder)]) == 1
    out = capsys.readouterr().out
    assert "reply_to 1" in out
    assert "FAIL mastodon reply_to: m1: mastodon:https://toot.example/users/anna/statuses/22" in out
    assert out.rstrip().endswith("FAILED on mastodon")


def test_compare_names_each_wrong_field_and_each_missing_document() -> None:
    want = Expectation(
        [
            Want(
                "x:1",
                {
                    "text": "Hello  world",
                    "links": ["https://www.a.example/p?utm_source=z"],
                    "reply_to": "x:0",
                },
            ),
            Want("x:2", {"text": "gone"}),
            Want("x:3", {"text": ""}, empty=True),
        ]
    )
    docs = {"x:1": {"text": "Hello world", "links": ["https://a.example/p"], "reply_to": None}}
    problems = compare(want, docs, {"x:3"})
    assert [name for name, _ in problems] == ["reply_to", "id"]
    assert "x:2 not produced" in problems[1][1]


def test_a_folder_that_is_not_recorded_responses_is_a_usage_error(tmp_path: Path) -> None:
    assert main([str(tmp_path / "absent")]) == 2
    (tmp_path / "notes.txt").write_text("x")
    assert main([str(tmp_path)]) == 2


def test_it_runs_as_a_module(folder: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crawlers.conformance", str(folder), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("platform")


def test_the_stance_of_every_recorded_post_is_tallied_and_reported(tmp_path: Path, capsys: Any) -> None:  # fmt: skip
    """Four statuses, four post documents: each labelled once, as the writer labels a batch."""
    statuses = [status(str(n), f"<p>{text}</p>") for n, text in enumerate(["Toot!", "gm", "lunch time", "see you at 8"], 1)]  # fmt: skip
    write(tmp_path, "mastodon", line("m1", "statuses", statuses, instance="https://toot.example"))
    (tally,) = run(tmp_path, StanceModel.load())
    assert tally.stances.total() == 4
    main([str(tmp_path)])
    out = capsys.readouterr().out
    assert "of 4 recorded posts (about no incident) labelled rumour/denial/debunk" in out
    assert "info mastodon stances: " in out
    assert "(not judged: under 200)" in out


@pytest.mark.parametrize(
    ("labels", "fails"),
    [
        ({"other": 180, "report": 10, "rumour": 5, "denial": 5}, False),  # 5 %
        ({"other": 184, "rumour": 8, "denial": 4, "debunk": 4}, False),  # 8 %: at the bound
        ({"other": 183, "rumour": 9, "denial": 4, "debunk": 4}, True),  # 8.5 %
        ({"rumour": 200}, True),
        ({"rumour": 199}, False),  # under 200 posts: reported, not judged
        ({}, False),
    ],
)
def test_the_check_fails_when_too_many_posts_about_nothing_take_a_side(labels: dict[str, int], fails: bool) -> None:  # fmt: skip
    assert (SIDED_BOUND, SIDED_JUDGED) == (0.08, 200)
    tallies = [Tally("mastodon", stances=Counter(labels))]
    assert stance_failed(tallies) is fails


@pytest.mark.parametrize(
    ("unseen", "fails"),
    [
        ({"other": 184, "rumour": 16}, False),  # 8 %
        ({"other": 183, "rumour": 17}, True),  # 8.5 % of the test part, 0.8 % of all
        ({"other": 100, "rumour": 99}, False),  # under 200: not judged
    ],
)
def test_the_check_fails_when_the_test_part_alone_takes_a_side_too_often(unseen: dict[str, int], fails: bool) -> None:  # fmt: skip
    everything = Counter({"other": 2000}) + Counter(unseen)
    assert stance_failed([Tally("reddit", stances=everything, unseen=Counter(unseen))]) is fails


def test_each_recorded_post_is_read_as_the_head_reads_it(folder: Path) -> None:
    """The posts a stance head may learn from are the check's own: the same documents, each
    with the text of the post it answers when the record holds it (a boost: its original)."""
    read = [(platform, post.title, post.text, post.parent_text) for platform, post in recorded_posts(folder)]  # fmt: skip
    assert read == [
        ("mastodon", None, "the intern did it", None),
        ("mastodon", None, "the intern did it", "the intern did it"),  # the boost
        ("mastodon", None, "no", None),  # its parent is in another record
        ("bluesky", None, "see", None),
        ("reddit", None, "a & b", None),
        ("hackernews", None, "old\ntext here", None),
        ("weibo", None, "哈[doge]", None),
        ("github", "isType<T>() fails", "See https://example.org/x.", None),
        ("feeds", "x", "x", None),
    ]
    assert len(read) == sum(t.stances.total() for t in run(folder))
    assert all(not post.claims for _, post in recorded_posts(folder))  # about no incident


def test_the_parts_share_the_texts_as_declared_and_keep_copies_together() -> None:
    texts = [f"recorded post number {n}" for n in range(6000)]
    shares = Counter(part(None, text) for text in texts)
    for name, share in PARTS:
        assert abs(shares[name] / len(texts) - share / 256) < 0.02, name
    assert sum(share for _, share in PARTS) == 256
    assert all(part(None, text) == part("", text) == part(None, text) for text in texts[:50])


def test_the_posts_of_the_test_part_are_tallied_apart_and_reported(tmp_path: Path, capsys: Any) -> None:  # fmt: skip
    texts = [f"lunch at {n}" for n in range(12)]
    statuses = [status(str(n), f"<p>{text}</p>") for n, text in enumerate(texts, 1)]
    write(tmp_path, "mastodon", line("m1", "statuses", statuses, instance="https://toot.example"))
    tested = sum(part(None, text) == "test" for text in texts)
    assert 0 < tested < len(texts)  # the texts fall in more than one part
    (tally,) = run(tmp_path, StanceModel.load())
    assert (tally.stances.total(), tally.unseen.total()) == (12, tested)
    assert f"of the test part, which no head learns from: {sum(tally.unseen[s] for s in ('rumour', 'denial', 'debunk'))} of {tested}," in stance_line([tally], None)  # fmt: skip


def test_the_stance_line_counts_the_test_part_alone() -> None:
    tally = Tally("mastodon", stances=Counter({"rumour": 3, "other": 7}), unseen=Counter({"debunk": 1, "other": 3}))  # fmt: skip
    line = stance_line([tally], None)
    assert "3 of 10 recorded posts (about no incident) labelled rumour/denial/debunk: 30.0%" in line
    assert "of the test part, which no head learns from: 1 of 4, 25.0%" in line
