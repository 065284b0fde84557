"""Pure parts of evidence: what counts as an edit, what the redactor removes, retention."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawlers.capture import CaptureStage
from crawlers.exchange import attach
from crawlers.ingest.stages import PostDoc
from evidence.capture import Capturer
from evidence.retention import prune
from evidence.secrets import REDACTED, Redactor
from evidence.warcstore import Exchange, WarcStore
from indexer.merge import is_edit, merge_post


@pytest.mark.parametrize(
    ("before", "after", "edited"),
    [
        ("The intern was fired.", "The intern was dismissed.", True),
        ("网传字节跳动实习生…全文", "网传字节跳动实习生投毒，损失千万美元", False),  # read in full
        ("A long post about the GPUs...", "A long post about the GPUs and the losses.", False),
        ("same", "same", False),
        ("text", "", False),  # a reply without text says nothing about the text
    ],
)
def test_what_counts_as_an_edit(before: str, after: str, edited: bool) -> None:
    assert is_edit({"text": before}, {"text": after}) is edited


def test_a_deletion_keeps_its_first_time_and_the_last_text() -> None:
    stored = {"text": "gone soon", "deleted_at": "2024-10-20T00:00:00+00:00", "deleted_how": "weibo:deleted", "last_seen": "2024-10-19T00:00:00+00:00"}  # fmt: skip
    notice = {"deleted_at": "2024-10-21T00:00:00+00:00", "deleted_how": "weibo:deleted", "last_seen": "2024-10-21T00:00:00+00:00"}  # fmt: skip
    merged = merge_post(stored, notice)
    assert (merged["deleted_at"], merged["text"]) == ("2024-10-20T00:00:00+00:00", "gone soon")


def test_the_redactor_strips_credentials_everywhere() -> None:
    redact = Redactor(["tok-1234567890"])
    headers = redact.headers([("Authorization", "Bearer x"), ("Cookie", "SUB=1"), ("X-Note", "tok-1234567890")])  # fmt: skip
    assert headers == [("X-Note", REDACTED)]
    url = redact.url("https://user:pw@api.example/x?q=intern&access_token=abc&client_secret=s")
    assert (
        url
        == "https://api.example/x?q=intern&access_token=%5Bredacted%5D&client_secret=%5Bredacted%5D"
    )
    body, changed = redact.body(b"grant_type=password&password=hunter22", "application/x-www-form-urlencoded")  # fmt: skip
    assert changed and b"hunter22" not in body


def _record_ids(path: Path) -> list[str]:
    with path.open("rb") as stream:
        return [r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(stream)]


def test_retention_keeps_referenced_records_and_their_requests(tmp_path: Path) -> None:
    store = WarcStore(tmp_path, "case")
    old = datetime(2024, 1, 1, tzinfo=UTC)
    kept = store.write_exchange(Exchange("https://a.example/1", 200, [], b"kept", fetched_at=old))
    store.write_exchange(Exchange("https://a.example/2", 200, [], b"orphan", fetched_at=old))
    recent = store.write_exchange(Exchange("https://a.example/3", 200, [], b"new"))
    path = tmp_path / "evidence" / kept.warc
    before = len(_record_ids(path))
    report = prune(tmp_path, "case", {kept.record_id}, days=30)
    ids = _record_ids(path)
    assert report.removed_records == 2 and len(ids) == before - 2  # orphan response + request
    assert kept.record_id in ids
    assert recent.record_id in _record_ids(tmp_path / "evidence" / recent.warc)  # not yet due


def test_a_post_seen_again_after_retention_took_its_record_is_captured_anew(tmp_path: Path) -> None:
    """A post dropped from the index loses its old capture to retention; when a crawl keeps it
    again with the same text, its evidence must name a record that still exists, not the one
    the capture ledger remembers."""
    capturer = Capturer(tmp_path, "case", Redactor())
    doc = {"title": None, "text": "the intern story"}
    old = datetime(2024, 1, 1, tzinfo=UTC)
    first = capturer.capture("weibo:1", doc, Exchange("https://a.example/1", 200, [], b"the intern story", fetched_at=old))  # fmt: skip
    assert first is not None
    prune(tmp_path, "case", set(), days=30)  # no post refers to it any more
    again = capturer.capture("weibo:1", doc, Exchange("https://a.example/1", 200, [], b"the intern story"))  # fmt: skip
    capturer.close()
    assert again is not None
    path = tmp_path / "evidence" / again["warc"]
    assert path.is_file() and again["record_id"] in _record_ids(path)


CREDENTIALS = "access_token=tok-runtime-77&client_secret=cs-runtime-88"
LIST_URL = f"https://newsroom.example/list?page=2&{CREDENTIALS}"


@pytest.mark.parametrize(
    ("side", "header", "value"),
    [
        ("request", "Referer", LIST_URL),  # Scrapy sets it on a followed link: the list's URL
        (
            "response",
            "Link",
            f'<{LIST_URL}>; rel="next", <https://newsroom.example/x?p=9>; rel="last"',
        ),
        ("response", "Content-Location", LIST_URL),
        ("response", "Location", f"/list?page=3&{CREDENTIALS}"),
        ("response", "Location", f"http://[newsroom?{CREDENTIALS}"),  # unreadable as a URL
    ],
)
def test_credential_parameters_in_headers_do_not_reach_the_archive(
    tmp_path: Path, side: str, header: str, value: str
) -> None:
    """A credential query parameter is redacted in the archived URL; the same URL repeated in a
    header (a Referer, a Link) must not carry it into the WARC either, known secret or not."""
    headers = [(header, value)]
    exchange = Exchange(
        "https://newsroom.example/statement/1",
        200,
        headers if side == "response" else [],
        b"statement",
        request_headers=headers if side == "request" else [],
    )
    capture = WarcStore(tmp_path, "case", Redactor()).write_exchange(exchange)
    raw = gzip.decompress((tmp_path / "evidence" / capture.warc).read_bytes())
    assert header.encode() in raw  # the header is archived ...
    assert b"tok-runtime-77" not in raw and b"cs-runtime-88" not in raw  # ... without them


@pytest.mark.parametrize("deleted_how", [None, "reddit:removed"])
def test_a_post_whose_archive_cannot_be_written_goes_on_without_it(
    tmp_path: Path, deleted_how: str | None
) -> None:
    """A full disk (here: the day file's name taken by a folder) must not cost the post, nor the
    notice that it was deleted: it is indexed without new evidence and the failure counted."""
    moment = datetime(2024, 10, 20, tzinfo=UTC)
    (tmp_path / "evidence" / "case" / "2024-10-20.warc.gz").mkdir(parents=True)
    stage = CaptureStage(Capturer(tmp_path, "case", Redactor()))
    doc = PostDoc(platform="reddit", native_id="t3_1", text="[removed]", deleted_how=deleted_how)
    attach(doc, Exchange("https://oauth.reddit.com/api/info?id=t3_1", 200, [], b"{}", fetched_at=moment))  # fmt: skip
    stage.process(doc)
    counts = stage.close()
    assert "evidence" not in doc and "deleted_evidence" not in doc
    assert counts["failed"] == 1
