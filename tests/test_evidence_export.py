"""Export: an incident's archive as a WACZ that validates, replays in pywb, and is checked by
`spreadwatch evidence verify`; tampering with a record is found."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from pywb_support import replaying

from evidence.export import export, verify
from evidence.secrets import Redactor
from evidence.warcstore import Exchange, WarcStore
from spreadwatch.cli import cli

ROOT = Path(__file__).resolve().parent.parent
WEIBO_URL = (
    "https://m.weibo.cn/api/container/getIndex?containerid=100103type%3D1%26q%3D%E5%AD%97%E8%8A%82"
)
POST_TEXT = "传言：某实习生篡改代码，8000张H100训练被破坏"
HOSTILE_AUTHOR = '=HYPERLINK("http://evil.example")<script>'


def _posts(store: WarcStore) -> list[dict[str, Any]]:
    body = ('{"ok":1,"data":{"cards":[{"mblog":{"id":"5091","text":"' + POST_TEXT + '"}}]}}').encode()  # fmt: skip
    weibo = store.write_exchange(
        Exchange(
            url=WEIBO_URL,
            status=200,
            body=body,
            response_headers=[("Content-Type", "application/json; charset=utf-8")],
            request_headers=[
                ("Cookie", "SUB=secret-cookie-value"),
                ("Referer", "https://m.weibo.cn/"),
            ],
            fetched_at=datetime(2024, 10, 18, 3, 0, tzinfo=UTC),
        )
    )
    gone = store.write_exchange(
        Exchange(
            url="https://api.github.com/repos/JusticeFighter110/confession",
            status=404,
            body=b'{"message":"Not Found"}',
            response_headers=[("Content-Type", "application/json")],
            fetched_at=datetime(2024, 10, 21, 9, 0, tzinfo=UTC),
        )
    )
    return [
        {
            "_id": "weibo:5091", "platform": "weibo", "native_id": "5091", "url": "https://m.weibo.cn/status/OzA1b",
            "author": {"handle": HOSTILE_AUTHOR}, "@timestamp": "2024-10-18T02:15:00+00:00",
            "evidence": weibo.as_field(), "edited_at": "2024-10-20T00:00:00+00:00",
            "versions": [{"text": "older"}],
        },
        {
            "_id": "github:JusticeFighter110/confession", "platform": "github",
            "native_id": "JusticeFighter110/confession", "url": "https://github.com/JusticeFighter110/confession",
            "author": {"handle": "JusticeFighter110"}, "@timestamp": "2024-10-18T08:00:00+00:00",
            "deleted_at": "2024-10-21T09:00:00+00:00", "deleted_how": "github:repo_gone_or_private",
            "deleted_evidence": gone.as_field(),
        },
    ]  # fmt: skip


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("export")
    store = WarcStore(folder / "data", "bytedance-intern-2024", Redactor(["secret-cookie-value"]))
    posts = _posts(store)
    out = folder / "out" / "evidence.wacz"
    export(folder / "data", "bytedance-intern-2024", "ByteDance intern rumour", posts, out)
    return out, posts


def test_the_package_validates_and_every_digest_checks_out(package: Any) -> None:
    report = verify(package[0])
    assert report.package_valid is True
    assert report.records >= 6 and report.mismatched == []
    assert report.manifest_rows == 2 and report.manifest_missing == []


def test_the_manifest_lists_each_post_with_its_record_and_status(package: Any) -> None:
    out, posts = package
    rows = {r["post_id"]: r for r in csv.DictReader(io.StringIO((out.parent / "evidence.wacz.manifest.csv").read_text()))}  # fmt: skip
    assert rows["weibo:5091"]["record_id"] == posts[0]["evidence"]["record_id"]
    assert rows["weibo:5091"]["edited_at"] and rows["weibo:5091"]["versions"] == "1"
    assert rows["weibo:5091"]["author"].startswith("'=")  # never a spreadsheet formula
    gone = rows["github:JusticeFighter110/confession"]
    assert gone["deleted_how"] == "github:repo_gone_or_private" and len(gone["sha256"]) == 64


def test_the_index_page_escapes_what_posts_say(package: Any) -> None:
    page = (package[0].parent / "evidence.wacz.index.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "deleted 2024-10-21T09:00" in page


def test_a_tampered_record_is_found(package: Any, tmp_path: Path) -> None:
    out = package[0]
    tampered = tmp_path / "tampered.warc"  # uncompressed: WARC readers take both
    with zipfile.ZipFile(out) as wacz:
        name = next(n for n in wacz.namelist() if n.startswith("archive/") and "index" not in n)
        raw = gzip.decompress(wacz.read(name))
    tampered.write_bytes(raw.replace("8000张".encode(), "9000张".encode()))
    report = verify(tampered)
    assert len(report.mismatched) == 1


def test_no_secret_is_in_the_package(package: Any) -> None:
    with zipfile.ZipFile(package[0]) as wacz:
        for name in wacz.namelist():
            data = wacz.read(name)
            data = gzip.decompress(data) if name.endswith(".gz") else data
            assert b"secret-cookie-value" not in data, name


def test_verify_on_the_command_line(package: Any) -> None:
    result = CliRunner().invoke(cli, ["evidence", "verify", str(package[0])])
    assert result.exit_code == 0, result.output
    assert "0 digest mismatches" in result.output and "package hashes valid" in result.output


def test_verify_as_run_says_its_one_line_and_nothing_else(package: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "spreadwatch", "evidence", "verify", str(package[0])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")},
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert len(done.stdout.splitlines()) == 1


@pytest.fixture
def pywb(package: Any, tmp_path: Path) -> Iterator[str]:
    with replaying(package[0], tmp_path) as url:
        yield url


def test_an_archived_post_replays_in_pywb(pywb: str) -> None:
    with urllib.request.urlopen(f"{pywb}/20241018030000id_/{WEIBO_URL}", timeout=20) as reply:
        body = reply.read().decode("utf-8")
    assert POST_TEXT in body


def _day_file(package: Path) -> bytes:
    """The first archived day file inside the package, without the index and manifest."""
    with zipfile.ZipFile(package) as wacz:
        name = next(n for n in wacz.namelist() if n.startswith("archive/") and "index" not in n)
        return wacz.read(name)


DAMAGED: dict[str, tuple[str, Any]] = {
    "text-as-wacz": ("evidence.wacz", lambda p: b"not a package\n"),
    "text-as-warc": ("evidence.warc.gz", lambda p: b"not a package\n"),
    "truncated-wacz": ("evidence.wacz", lambda p: p.read_bytes()[: p.stat().st_size // 2]),
    "truncated-warc": ("evidence.warc.gz", lambda p: _day_file(p)[: len(_day_file(p)) // 2]),
    "empty-warc": ("evidence.warc.gz", lambda p: b""),
    "no-manifest": ("evidence.warc.gz", _day_file),
}


@pytest.mark.parametrize("damage", list(DAMAGED))
def test_a_damaged_or_incomplete_package_fails_verification_in_one_line(
    package: Any, tmp_path: Path, damage: str
) -> None:
    name, content = DAMAGED[damage]
    broken = tmp_path / name
    broken.write_bytes(content(package[0]))
    result = CliRunner().invoke(cli, ["evidence", "verify", str(broken)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "FAILED" in result.output and str(broken) in result.output


def _index_page_of(tmp_path: Path, url: str, author: str) -> str:
    """The index page of a one-post export whose post has this URL and author."""
    store = WarcStore(tmp_path / "data", "hostile")
    capture = store.write_exchange(Exchange("https://news.example/1", 200, [], b"post"))
    post = {
        "_id": "news:1", "platform": "news", "native_id": "1", "url": url,
        "author": {"handle": author}, "@timestamp": "2024-10-18T02:15:00+00:00",
        "evidence": capture.as_field(),
    }  # fmt: skip
    out = tmp_path / "out" / "evidence.warc.gz"
    export(tmp_path / "data", "hostile", "Hostile", [post], out)
    return (out.parent / "evidence.warc.gz.index.html").read_text(encoding="utf-8")


class _Page(HTMLParser):
    """The links an HTML page makes and the text it shows."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.shown: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value or "" for name, value in attrs if tag == "a" and name == "href"]

    def handle_data(self, data: str) -> None:
        self.shown.append(data)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.domain)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
    ],
)
def test_the_index_page_links_only_web_addresses(tmp_path: Path, url: str) -> None:
    """A post's URL comes from the platform (a feed's link is anything its author wrote): the
    index page shows it, but a link it makes must be one a browser opens as a web page."""
    page = _Page(_index_page_of(tmp_path, url, "someone"))
    # A browser drops tabs and line breaks from a URL and trims it before reading its scheme.
    schemes = {urlsplit(re.sub(r"[\t\n\r]", "", h).strip()).scheme.lower() for h in page.hrefs}
    assert schemes <= {"http", "https"}, page.hrefs


@pytest.mark.parametrize("control", ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\x1b"])
def test_the_index_page_shows_bidi_and_control_characters_instead_of_obeying_them(
    tmp_path: Path, control: str
) -> None:
    """`admin` + U+202E + `gepj.exe` must not read as "adminexe.jpeg": as in the report, such
    characters are shown as escapes, in the author and the URL alike."""
    page = _index_page_of(tmp_path, f"https://news.example/{control}moc.elgoog", f"admin{control}gepj.exe")  # fmt: skip
    shown = "".join(_Page(page).shown)
    escaped = f"\\u{ord(control):04x}" if ord(control) > 0xFF else f"\\x{ord(control):02x}"
    assert control not in shown and shown.count(escaped) == 2
