"""Hand the evidence over: an incident's archive as one WACZ (or WARC) a lawyer can check.

The package holds every WARC record of the incident, plus a WARC of its own with two resources:
an index page (`index.html`, the package's first page in ReplayWeb.page or pywb) and a CSV
manifest (`manifest.csv`: post id, URL, author, time, archived record, SHA-256 of the archived
body, deleted/edited). Both are also written beside the output, so they can be read without a
replay tool. `verify` recomputes every record's payload digest (and, for a WACZ, the package's
own hashes with the `wacz` validator) and compares the manifest with the records.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import gzip
import hashlib
import io
import json
import shutil
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from evidence.warcstore import WarcStore, incident_folder
from spreadwatch.display import display_html, display_line
from spreadwatch.urls import link_url

with warnings.catch_warnings():
    # wacz imports pyamf (through cdxj_indexer), which imports pkg_resources, which warns that
    # it is deprecated: two lines on stderr before every evidence command's own one line.
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    from wacz.main import main as wacz_main

INDEX_HOST = "https://spreadwatch.invalid"
MANIFEST_COLUMNS = (
    "post_id", "platform", "url", "author", "published", "archived_uri", "record_id",
    "warc", "captured_at", "sha256", "payload_digest", "deleted_at", "deleted_how",
    "edited_at", "versions",
)  # fmt: skip


class ExportError(ValueError):
    """Nothing to export, or an output the exporter cannot write."""


@dataclass
class VerifyReport:
    records: int = 0
    mismatched: list[str] = field(default_factory=list)
    manifest_rows: int = 0
    manifest_missing: list[str] = field(default_factory=list)
    package_valid: bool | None = None  # None for a bare WARC
    #: Why the file could not be checked through: unreadable, cut short, no records, no manifest.
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return (
            not self.mismatched
            and not self.manifest_missing
            and self.package_valid is not False
            and self.problem is None
        )


def export(
    data_dir: Path, incident_id: str, title: str, posts: list[dict[str, Any]], out: Path
) -> dict[str, Any]:
    """Write the incident's evidence to `out` (.wacz or .warc.gz); returns what went in."""
    warcs = sorted(incident_folder(data_dir, incident_id).glob("*.warc.gz"))
    if not warcs:
        raise ExportError(f"no archived records for incident {incident_id} under {data_dir / 'evidence'}")  # fmt: skip
    rows = manifest_rows(data_dir, posts)
    manifest = _csv(rows)
    page = index_page(incident_id, title, rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="spreadwatch-export-") as temp:
        own = _index_warc(Path(temp), incident_id, page, manifest)
        if out.name.endswith(".wacz"):
            _wacz(out, [*warcs, own], Path(temp), incident_id, title)
        elif out.name.endswith(".warc.gz"):
            with out.open("wb") as target:
                for path in [*warcs, own]:
                    with path.open("rb") as source:
                        shutil.copyfileobj(source, target)
        else:
            raise ExportError(f"{out}: the output must end in .wacz or .warc.gz")
    out.with_name(out.name + ".manifest.csv").write_text(manifest, encoding="utf-8")
    out.with_name(out.name + ".index.html").write_text(page, encoding="utf-8")
    return {"out": str(out), "warcs": len(warcs), "posts": len(rows), "bytes": out.stat().st_size}


def manifest_rows(data_dir: Path, posts: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """One row per archived post: where its record is, and the SHA-256 of the archived body."""
    digests = record_digests(sorted(incident_dirs(data_dir, posts)))
    rows = []
    for post in posts:
        evidence = post.get("evidence") or post.get("deleted_evidence") or {}
        record = evidence.get("record_id", "")
        author = post.get("author") or {}
        rows.append(
            {
                "post_id": post.get("_id") or f"{post.get('platform')}:{post.get('native_id')}",
                "platform": post.get("platform", ""),
                "url": post.get("url") or "",
                "author": author.get("handle") or author.get("name") or "",
                "published": post.get("@timestamp", ""),
                "archived_uri": evidence.get("uri", ""),
                "record_id": record,
                "warc": evidence.get("warc", ""),
                "captured_at": evidence.get("captured_at", ""),
                "sha256": digests.get(record, ("", ""))[0],
                "payload_digest": evidence.get("digest", ""),
                "deleted_at": post.get("deleted_at", ""),
                "deleted_how": post.get("deleted_how", ""),
                "edited_at": post.get("edited_at", ""),
                "versions": str(len(post.get("versions") or [])),
            }
        )
    return rows


def incident_dirs(data_dir: Path, posts: Iterable[dict[str, Any]]) -> set[Path]:
    files = set()
    for post in posts:
        for evidence in (post.get("evidence"), post.get("deleted_evidence")):
            if evidence and evidence.get("warc"):
                files.add(data_dir / "evidence" / evidence["warc"])
    return {f for f in files if f.is_file()}


def record_digests(paths: Iterable[Path]) -> dict[str, tuple[str, str]]:
    """Record id → (hex SHA-256 of the payload, the record's declared payload digest)."""
    found = {}
    for path in paths:
        with path.open("rb") as stream:
            for record_id, hexdigest, declared, _ in _records(stream):
                found[record_id] = (hexdigest, declared)
    return found


def _records(stream: IO[bytes]) -> Iterator[tuple[str, str, str, bool]]:
    """(record id, hex SHA-256 of payload, declared payload digest, declared matches)."""
    for record in ArchiveIterator(stream):
        if record.rec_type not in ("response", "resource", "request"):
            continue
        payload = record.content_stream().read()
        digest = hashlib.sha256(payload)
        declared = record.rec_headers.get_header("WARC-Payload-Digest") or ""
        algorithm, _, value = declared.partition(":")
        if algorithm.lower() == "sha256":
            matches = base64.b32encode(digest.digest()).decode() == value.upper()
        elif algorithm.lower() == "sha1":
            matches = base64.b32encode(hashlib.sha1(payload).digest()).decode() == value.upper()
        else:
            matches = not declared
        yield record.rec_headers.get_header("WARC-Record-ID"), digest.hexdigest(), declared, matches


def verify(path: Path) -> VerifyReport:
    """Re-check every record's digest, the manifest against the records and (WACZ) the package.
    A file that cannot be read through (not a WACZ or WARC, cut short, a damaged gzip), holds
    no record or no manifest fails with `problem` saying so: a package cut short loses its
    manifest, the last record `export` writes."""
    report = VerifyReport()
    seen: set[str] = set()
    kind = "a WACZ" if path.name.endswith(".wacz") else "a WARC"
    try:
        manifest = _check_file(path, report, seen)
    except (zipfile.BadZipFile, gzip.BadGzipFile, ArchiveLoadFailed, EOFError, zlib.error) as error:
        report.problem = f"cannot be read as {kind}: {error or type(error).__name__}"
        return report
    if not report.records:
        report.problem = "no archived record in it"
    elif manifest is None:
        report.problem = "no manifest in it: not a package `evidence export` wrote, or cut short"
    else:
        rows = list(csv.DictReader(io.StringIO(manifest)))
        report.manifest_rows = len(rows)
        report.manifest_missing = [
            r["post_id"] for r in rows if r["record_id"] and r["record_id"] not in seen
        ]
    return report


def _check_file(path: Path, report: VerifyReport, seen: set[str]) -> str | None:
    """Check every record of the file (each archive of a WACZ); the manifest, if found."""
    if not path.name.endswith(".wacz"):
        with path.open("rb") as stream:
            _whole(stream)
            return _check(stream, report, seen)
    report.package_valid = _wacz_valid(path)
    manifest = None
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if name.startswith("archive/") and name.endswith((".warc.gz", ".warc")):
                with package.open(name) as member:
                    archive = io.BytesIO(member.read())
                _whole(archive)
                manifest = _check(archive, report, seen) or manifest
    return manifest


def _whole(stream: IO[bytes]) -> None:
    """Raise EOFError (cut short) or zlib.error / BadGzipFile (damaged) unless a gzipped stream
    decompresses to its end: the WARC reader stops quietly at a cut, as if the file ended
    there. Rewinds the stream."""
    if stream.read(2) == b"\x1f\x8b":
        stream.seek(0)
        with gzip.GzipFile(fileobj=stream) as unpacked:
            while unpacked.read(1 << 20):
                pass
    stream.seek(0)


def _check(stream: IO[bytes], report: VerifyReport, seen: set[str]) -> str | None:
    manifest = None
    for record in ArchiveIterator(stream):
        if record.rec_type not in ("response", "resource", "request"):
            continue
        uri = record.rec_headers.get_header("WARC-Target-URI") or ""
        payload = record.content_stream().read()
        if uri.endswith("/manifest.csv") and uri.startswith(INDEX_HOST):
            manifest = payload.decode("utf-8")
        _verify_record(record, payload, report)
        seen.add(record.rec_headers.get_header("WARC-Record-ID"))
    return manifest


def _verify_record(record: Any, payload: bytes, report: VerifyReport) -> None:
    report.records += 1
    declared = record.rec_headers.get_header("WARC-Payload-Digest") or ""
    algorithm, _, value = declared.partition(":")
    if algorithm.lower() not in ("sha256", "sha1"):
        return
    computed = base64.b32encode(hashlib.new(algorithm.lower(), payload).digest()).decode()
    if computed != value.upper():
        report.mismatched.append(record.rec_headers.get_header("WARC-Record-ID"))


def _wacz_valid(path: Path) -> bool:
    with contextlib.redirect_stdout(io.StringIO()):
        return wacz_main(["validate", "-f", str(path)]) == 0


def _wacz(out: Path, warcs: list[Path], temp: Path, incident_id: str, title: str) -> None:
    pages = temp / "pages.jsonl"
    header = {"format": "json-pages-1.0", "id": "pages", "title": f"Evidence: {title}"}
    entry = {"url": index_url(incident_id), "title": f"Evidence index: {title}"}
    pages.write_text(json.dumps(header) + "\n" + json.dumps(entry) + "\n", encoding="utf-8")
    inputs = []
    for number, path in enumerate(warcs):  # the package names archives by file name
        copy = temp / f"{number:04d}-{path.name}"
        shutil.copyfile(path, copy)
        inputs.append(str(copy))
    args = ["create", "-o", str(out), *inputs, "-p", str(pages), "--hash-type", "sha256"]
    args += ["--title", f"spreadwatch evidence: {title}", "--desc", f"incident {incident_id}"]
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        code = wacz_main(args)
    if code not in (0, None) or not out.is_file():
        raise ExportError(f"wacz create failed: {printed.getvalue()[-500:]}")


def index_url(incident_id: str) -> str:
    return f"{INDEX_HOST}/evidence/{incident_id}/index.html"


def _index_warc(folder: Path, incident_id: str, page: str, manifest: str) -> Path:
    """The index page and manifest as WARC resources, in a WARC file of their own."""
    store = WarcStore(folder, f"index-{incident_id}")
    now = datetime.now(UTC)
    store.write_resource(index_url(incident_id), "text/html; charset=utf-8", page.encode(), now)
    manifest_url = index_url(incident_id).replace("index.html", "manifest.csv")
    store.write_resource(manifest_url, "text/csv; charset=utf-8", manifest.encode(), now)
    [path] = list(store.folder.glob("*.warc.gz"))
    final = folder / f"spreadwatch-index-{path.name}"
    path.rename(final)
    return final


def _csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (post text is untrusted)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _link(url: str, shown: str) -> str:
    """`shown` (already HTML) as a link to `url` when that is a web address; a post's
    `javascript:` or `data:` URL is never a link (`spreadwatch.urls.link_url`, as in the report)."""
    href = link_url(url)
    return f'<a href="{escape(href, quote=True)}">{shown}</a>' if href else shown


def index_page(incident_id: str, title: str, rows: list[dict[str, str]]) -> str:
    """The package's index: every archived post, with its record and what happened to it.
    Untrusted text (ids, authors, URLs) is shown through `spreadwatch.display`: escaped, control
    and bidi characters made visible, isolated in `<bdi>`."""
    lines = []
    for row in rows:
        status = []
        if row["deleted_at"]:
            status.append(f"deleted {row['deleted_at'][:16]} ({row['deleted_how']})")
        if row["edited_at"]:
            status.append(f"edited {row['edited_at'][:16]}, {row['versions']} earlier version(s)")
        lines.append(
            "<tr>"
            f"<td>{display_html(row['post_id'])}</td><td>{display_html(row['author'])}</td>"
            f"<td>{escape(row['published'][:16])}</td>"
            f"<td>{_link(row['url'], display_html(row['url']))}</td>"
            f"<td>{_link(row['archived_uri'], 'archived copy')}<br>"
            f"<code>{escape(row['record_id'])}</code><br>{escape(row['captured_at'][:19])}</td>"
            f"<td><code>{escape(row['sha256'])}</code></td>"
            f"<td>{display_html('; '.join(status))}</td>"
            "</tr>"
        )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>Evidence: {escape(display_line(title))}</title>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px;"
        "vertical-align:top;font-size:13px}code{font-size:11px;word-break:break-all}</style>"
        f"</head><body><h1>Evidence: {display_html(title)}</h1>"
        f"<p>Incident <code>{display_html(incident_id)}</code>, exported "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC by spreadwatch. Each post links to its archived "
        "copy (the request and response as fetched, WARC); SHA-256 is of the archived body.</p>"
        "<table><tr><th>post</th><th>author</th><th>published (UTC)</th><th>URL</th>"
        "<th>archived</th><th>SHA-256</th><th>status</th></tr>"
        + "".join(lines)
        + "</table></body></html>"
    )
