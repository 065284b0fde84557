"""The spool file: durable appends, hand-over to replay, and recovery after crashes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from indexer.spool import Spool, SpoolEntry, spool_summary


def entry(native_id: str, reason: str = "unreachable: test") -> SpoolEntry:
    return SpoolEntry(kind="post", doc={"platform": "weibo", "native_id": native_id}, reason=reason)


def dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


def test_appended_entries_are_read_back_with_their_reason(tmp_path: Path):
    spool = Spool(tmp_path, "sw")
    spool.append([entry("1"), entry("2", "content: mapper_parsing_exception: bad")])
    assert [(e.doc["native_id"], e.reason) for e in spool.entries()] == [
        ("1", "unreachable: test"),
        ("2", "content: mapper_parsing_exception: bad"),
    ]


def test_taking_for_replay_empties_the_spool(tmp_path: Path):
    spool = Spool(tmp_path, "sw")
    spool.append([entry("1")])
    taken = list(spool.take_for_replay())
    spool.finish_replay()
    assert ([e.doc["native_id"] for e in taken], spool.entries()) == (["1"], [])


def test_a_torn_last_line_is_kept_aside_and_the_rest_replayed(tmp_path: Path):
    spool = Spool(tmp_path, "sw")
    spool.append([entry("1")])
    with spool.path.open("a", encoding="utf-8") as handle:
        handle.write('{"kind": "post", "doc": {"native_id": "2"')  # power cut mid-write
    taken = list(spool.take_for_replay())
    assert [e.doc["native_id"] for e in taken] == ["1"]
    kept = (tmp_path / "sw.unreadable.jsonl").read_text()
    assert '"native_id": "2"' in kept


def test_replay_left_by_a_crashed_process_is_taken_over(tmp_path: Path):
    orphan = tmp_path / f"sw.jsonl.replaying.{dead_pid()}"
    orphan.write_text(entry("lost").to_json() + "\n", encoding="utf-8")
    spool = Spool(tmp_path, "sw")
    assert [e.doc["native_id"] for e in spool.take_for_replay()] == ["lost"]
    assert not orphan.exists()


def test_what_a_crashed_replay_held_is_replayed_before_what_was_spooled_since(tmp_path: Path):
    """Oldest first: a deletion notice spooled after its post must not be written before it."""
    orphan = tmp_path / f"sw.jsonl.replaying.{dead_pid()}"
    orphan.write_text(entry("post").to_json() + "\n", encoding="utf-8")
    spool = Spool(tmp_path, "sw")
    spool.append([entry("deletion notice")])
    assert [e.doc["native_id"] for e in spool.take_for_replay()] == ["post", "deletion notice"]


def test_replay_of_a_running_process_is_left_to_it(tmp_path: Path):
    theirs = tmp_path / f"sw.jsonl.replaying.{os.getppid()}"
    theirs.write_text(entry("theirs").to_json() + "\n", encoding="utf-8")
    assert list(Spool(tmp_path, "sw").take_for_replay()) == []
    assert theirs.exists()


def test_two_writers_in_one_process_do_not_replay_the_same_entries(tmp_path: Path):
    Spool(tmp_path, "sw").append([entry("1")])
    first, second = Spool(tmp_path, "sw"), Spool(tmp_path, "sw")
    assert [e.doc["native_id"] for e in first.take_for_replay()] == ["1"]
    assert list(second.take_for_replay()) == []


def test_a_replay_given_up_is_taken_over_by_the_next_writer_of_the_same_process(tmp_path: Path):
    """A long-lived process (the scheduler, the stream) starts its next writers itself: what a
    replay it gave up held is replayed by the next one, not when the process ends (days later),
    oldest first and once."""
    spool = Spool(tmp_path, "sw")
    spool.append([entry("1"), entry("2")])
    given_up = spool.take_for_replay()
    assert next(given_up).doc["native_id"] == "1"
    spool.append([entry("1", "unreachable: again")])  # set apart: the replay file still has it
    spool.abandon_replay()
    Spool(tmp_path, "sw").append([entry("3")])  # spooled since: newer than what it held
    after = Spool(tmp_path, "sw")
    assert [e.doc["native_id"] for e in after.take_for_replay()] == ["1", "2", "3"]
    assert after.finish_replay() == 0
    assert list(tmp_path.iterdir()) == []


def test_a_replay_whose_writer_is_gone_is_taken_over_in_the_same_process(tmp_path: Path):
    """A writer that raised mid-replay neither finished nor gave it up: once its spool is gone,
    the replay is as dead as a dead process's, and what it had set apart goes the same way."""
    spool = Spool(tmp_path, "sw")
    spool.append([entry("1"), entry("2")])
    replaying = spool.take_for_replay()
    assert next(replaying).doc["native_id"] == "1"
    spool.append([entry("1", "unreachable: again")])
    again = spool.again_path
    del spool, replaying
    after = Spool(tmp_path, "sw")
    assert [e.doc["native_id"] for e in after.take_for_replay()] == ["1", "2"]
    assert not again.exists()


def test_a_replay_running_in_this_process_is_left_to_it(tmp_path: Path):
    """Another writer of the process (a parallel crawl) starting mid-replay takes only the spool;
    the running replay keeps its file and what it set apart, and gives its rest back after."""
    spool = Spool(tmp_path, "sw")
    spool.append([entry("1"), entry("2")])
    replaying = spool.take_for_replay()
    assert next(replaying).doc["native_id"] == "1"
    spool.append([entry("1", "unreachable: again")])
    other = Spool(tmp_path, "sw")
    other.append([entry("3")])
    assert [e.doc["native_id"] for e in other.take_for_replay()] == ["3"]
    assert other.finish_replay() == 0
    assert spool.replay_path.exists() and spool.again_path.exists()
    assert spool.finish_replay(replaying) == 1
    assert [(e.doc["native_id"], e.reason) for e in spool.entries()] == [
        ("1", "unreachable: again"),
        ("2", "unreachable: test"),
    ]


def test_summary_counts_waiting_documents_per_prefix_and_reason(tmp_path: Path):
    Spool(tmp_path, "sw").append(
        [entry("1"), entry("2"), entry("3", "content: mapper_parsing_exception")]
    )
    Spool(tmp_path, "other").append([entry("4")])
    summary = spool_summary(tmp_path)
    assert {p: (s["documents"], s["by_reason"], s["dead_letters"]) for p, s in summary.items()} == {
        "other": (1, {"unreachable": 1}, 0),
        "sw": (3, {"unreachable": 2, "content": 1}, 0),
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.jsonl", "sw.jsonl"]


TORN = '{"kind": "post", "reason": "unreachable: test", "doc": {"native_id": "2"'


def test_an_entry_appended_after_a_torn_last_line_is_replayed(tmp_path: Path):
    """The process that tore the line is gone; the next one appends: its entry is read back."""
    spool = Spool(tmp_path, "sw")
    spool.append([entry("1")])
    with spool.path.open("a", encoding="utf-8") as handle:
        handle.write(TORN)  # power cut (or a full disk) mid-write
    spool.append([entry("3")])
    assert [e.doc["native_id"] for e in spool.take_for_replay()] == ["1", "3"]
    assert (tmp_path / "sw.unreadable.jsonl").read_text() == TORN + "\n"


def test_an_entry_glued_to_a_torn_line_by_an_older_version_is_replayed(tmp_path: Path):
    """Versions before the fix appended right after a torn line: one line, two entries."""
    (tmp_path / "sw.jsonl").write_text(TORN + entry("3").to_json() + "\n", encoding="utf-8")
    spool = Spool(tmp_path, "sw")
    assert [e.doc["native_id"] for e in spool.take_for_replay()] == ["3"]
    assert (tmp_path / "sw.unreadable.jsonl").read_text() == TORN + "\n"


def test_a_replay_stopped_short_gives_its_entries_back_before_what_was_spooled_meanwhile(
    tmp_path: Path,
):
    """Oldest first, each once: what the replay spooled again, then what it did not get to,
    then what another writer spooled while it ran."""
    spool = Spool(tmp_path, "sw")
    spool.append([entry(n) for n in "123456"])
    replaying = spool.take_for_replay()
    assert [e.doc["native_id"] for e in (next(replaying), next(replaying))] == ["1", "2"]
    spool.append([entry("2", "unreachable: again")])  # 1 was written; 2 was not
    Spool(tmp_path, "sw").append([entry("new")])  # a crawl beside the replay, cluster down
    assert spool.finish_replay(replaying) == 4
    assert [(e.doc["native_id"], e.reason) for e in spool.entries()] == [
        ("2", "unreachable: again"),
        ("3", "unreachable: test"),
        ("4", "unreachable: test"),
        ("5", "unreachable: test"),
        ("6", "unreachable: test"),
        ("new", "unreachable: test"),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sw.jsonl"]


def test_what_a_dead_replay_spooled_again_is_not_taken_twice(tmp_path: Path):
    """Its replay file still holds those entries: the copy it had spooled again is dropped."""
    pid = dead_pid()
    (tmp_path / f"sw.jsonl.replaying.{pid}.ab").write_text(
        entry("1").to_json() + "\n" + entry("2").to_json() + "\n", encoding="utf-8"
    )
    again = tmp_path / f"sw.jsonl.again.{pid}.ab"
    again.write_text(entry("1", "unreachable: again").to_json() + "\n", encoding="utf-8")
    spool = Spool(tmp_path, "sw")
    assert [e.doc["native_id"] for e in spool.take_for_replay()] == ["1", "2"]
    assert not again.exists()


#: A line torn inside a character: "字" is three bytes in UTF-8, and the cut keeps one.
TORN_IN_A_CHARACTER = b'{"kind": "post", "reason": "unreachable: test", "doc": {"text": "' + "字".encode()[:1]  # fmt: skip


def test_a_line_torn_inside_a_character_is_kept_aside_byte_for_byte(tmp_path: Path):
    """A power cut in the middle of Chinese text: the spool still replays, and every writer
    start does not stop on it."""
    spool = Spool(tmp_path, "sw")
    spool.append([entry("1")])
    with spool.path.open("ab") as handle:
        handle.write(TORN_IN_A_CHARACTER)
    spool.append([entry("字节")])
    assert [e.doc["native_id"] for e in spool.take_for_replay()] == ["1", "字节"]
    kept = (tmp_path / "sw.unreadable.jsonl").read_bytes()
    assert kept == TORN_IN_A_CHARACTER + b"\n"


def test_status_reads_a_spool_with_a_line_torn_inside_a_character(tmp_path: Path):
    spool = Spool(tmp_path, "sw")
    spool.append([entry("1")])
    with spool.path.open("ab") as handle:
        handle.write(TORN_IN_A_CHARACTER)
    assert spool_summary(tmp_path)["sw"]["documents"] == 1


def test_a_replay_gives_back_a_spool_torn_inside_a_character_unchanged(tmp_path: Path):
    """What other writers spooled while a replay ran is copied behind what it gives back: a
    torn character in it goes through as it is, and its entries stay readable."""
    spool = Spool(tmp_path, "sw")
    spool.append([entry("1")])
    taken = spool.take_for_replay()
    other = Spool(tmp_path, "sw")
    other.append([entry("2")])
    with other.path.open("ab") as handle:
        handle.write(TORN_IN_A_CHARACTER)
    other.append([entry("3")])
    assert spool.finish_replay(taken) == 1
    assert [e.doc["native_id"] for e in Spool(tmp_path, "sw").entries()] == ["1", "2", "3"]
    assert TORN_IN_A_CHARACTER + b"\n" in spool.path.read_bytes()
