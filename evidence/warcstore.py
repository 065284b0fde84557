"""Per-incident, per-day WARC files under the data folder, appended by every crawl process.

`<data_dir>/evidence/<incident>/<YYYY-MM-DD>.warc.gz`: one gzip member per record (the standard
layout every WARC tool reads, and what lets several crawl processes append to the same day's file:
each appends its records under an exclusive `flock`, then fsyncs, so a post never points at a
record that a crash could lose). Each file starts with a `warcinfo` record. A captured exchange
is a `response` record (status line, headers, body as received) and a `request` record
(`WARC-Concurrent-To` the response) with its credentials stripped by `evidence.secrets`.
"""

from __future__ import annotations

import fcntl
import io
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from evidence.secrets import Redactor

SOFTWARE = "spreadwatch (warcio)"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: Hop-by-hop and encoding headers that no longer describe the body as stored (Scrapy has
#: already decompressed it and joined its chunks).
_STALE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified",
            400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            410: "Gone", 422: "Unprocessable Entity", 429: "Too Many Requests",
            451: "Unavailable For Legal Reasons"}  # fmt: skip


@dataclass
class Exchange:
    """One HTTP request and its response, as the crawler saw them (body decoded by Scrapy)."""

    url: str
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes
    method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytes = b""
    protocol: str = "HTTP/1.1"
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def header(self, name: str) -> str:
        for key, value in self.response_headers:
            if key.lower() == name.lower():
                return value
        return ""


@dataclass(frozen=True)
class Capture:
    """Where one archived record lives: what a post's `evidence` field holds."""

    warc: str  # file path relative to the data folder's `evidence/` folder
    record_id: str
    digest: str  # the WARC payload digest of the response body: sha256:<base32>
    captured_at: str
    uri: str
    content_type: str = ""

    def as_field(self) -> dict[str, Any]:
        return {
            "warc": self.warc,
            "record_id": self.record_id,
            "digest": self.digest,
            "captured_at": self.captured_at,
            "uri": self.uri,
        }


def evidence_root(data_dir: Path) -> Path:
    return data_dir / "evidence"


def incident_folder(data_dir: Path, incident_id: str) -> Path:
    return evidence_root(data_dir) / _SAFE.sub("_", incident_id)


class _Sha256Writer(WARCWriter):
    """WARCWriter with SHA-256 block and payload digests (warcio's default is SHA-1)."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


class WarcStore:
    """Appends records to an incident's WARC file of the capture's day (UTC)."""

    def __init__(self, data_dir: Path, incident_id: str, redactor: Redactor | None = None) -> None:
        self.root = evidence_root(data_dir)
        self.folder = incident_folder(data_dir, incident_id)
        self.incident_id = incident_id
        self.redactor = redactor or Redactor()
        self.bytes_written = 0

    def path_for(self, moment: datetime) -> Path:
        return self.folder / f"{moment.astimezone(UTC):%Y-%m-%d}.warc.gz"

    def write_exchange(self, exchange: Exchange) -> Capture:
        """Archive a request/response pair; returns the response record's location."""
        redact = self.redactor
        uri = redact.url(exchange.url)
        body, redacted = redact.body(exchange.body)
        headers = [
            (k, v)
            for k, v in redact.headers(exchange.response_headers)
            if k.lower() not in _STALE_HEADERS
        ]
        headers.append(("Content-Length", str(len(body))))
        status = f"{exchange.status} {_REASONS.get(exchange.status, 'Status')}"
        when = exchange.fetched_at.astimezone(UTC)
        extra = {"WARC-Date": _warc_date(when)}
        if redacted:
            extra["WARC-Spreadwatch-Redacted"] = "secret values in the body were replaced"
        writer_records = []

        def build(writer: WARCWriter) -> None:
            response = writer.create_warc_record(
                uri,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=StatusAndHeaders(status, headers, protocol=exchange.protocol),
                warc_headers_dict=dict(extra),
            )
            request = self._request_record(writer, exchange, uri, when)
            request.rec_headers.add_header(
                "WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID")
            )
            writer_records.extend([response, request])

        path = self._append(when, build)
        response = writer_records[0]
        return Capture(
            warc=str(path.relative_to(self.root)),
            record_id=response.rec_headers.get_header("WARC-Record-ID"),
            digest=response.rec_headers.get_header("WARC-Payload-Digest"),
            captured_at=when.isoformat(),
            uri=uri,
            content_type=exchange.header("Content-Type"),
        )

    def write_resource(
        self, uri: str, content_type: str, payload: bytes, moment: datetime | None = None,
        refers_to: str | None = None,
    ) -> Capture:  # fmt: skip
        """Archive a resource made here (a screenshot, a rendered DOM) under `uri`."""
        when = (moment or datetime.now(UTC)).astimezone(UTC)
        made = []

        def build(writer: WARCWriter) -> None:
            headers = {"WARC-Date": _warc_date(when)}
            if refers_to:
                headers["WARC-Refers-To"] = refers_to
            made.append(
                writer.create_warc_record(
                    uri,
                    "resource",
                    payload=io.BytesIO(payload),
                    length=len(payload),
                    warc_content_type=content_type,
                    warc_headers_dict=headers,
                )
            )

        path = self._append(when, build)
        record = made[0]
        return Capture(
            warc=str(path.relative_to(self.root)),
            record_id=record.rec_headers.get_header("WARC-Record-ID"),
            digest=record.rec_headers.get_header("WARC-Payload-Digest")
            or record.rec_headers.get_header("WARC-Block-Digest"),
            captured_at=when.isoformat(),
            uri=uri,
            content_type=content_type,
        )

    def _request_record(
        self, writer: WARCWriter, exchange: Exchange, uri: str, when: datetime
    ) -> Any:
        parts = uri.split("/", 3)
        target = "/" + (parts[3] if len(parts) > 3 else "")
        host = parts[2] if len(parts) > 2 else ""
        headers = self.redactor.headers(exchange.request_headers)
        if not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", host))
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        body, _ = self.redactor.body(exchange.request_body, content_type)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        if body:
            headers.append(("Content-Length", str(len(body))))
        http = StatusAndHeaders(
            f"{exchange.method} {target} {exchange.protocol}", headers, is_http_request=True
        )
        return writer.create_warc_record(
            uri,
            "request",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": _warc_date(when)},
        )

    def _append(self, when: datetime, build: Any) -> Path:
        """Build records and append them to the day's file under an exclusive lock."""
        path = self.path_for(when)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            try:
                start = file.seek(0, os.SEEK_END)
                writer = _Sha256Writer(file, gzip=True, warc_version="1.1")
                if start == 0:
                    writer.write_record(self._warcinfo(writer, path.name, when))
                records: list[Any] = []
                build(_Collecting(writer, records))
                for record in records:
                    writer.write_record(record)
                file.flush()
                os.fsync(file.fileno())
                self.bytes_written += file.tell() - start
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)
        return path

    def _warcinfo(self, writer: WARCWriter, filename: str, when: datetime) -> Any:
        """The file's first record, dated as the capture that opened it (the day file's date)."""
        info = {
            "software": SOFTWARE,
            "format": "WARC File Format 1.1",
            "description": f"spreadwatch evidence of incident {self.incident_id}",
            "isPartOf": self.incident_id,
        }
        record = writer.create_warcinfo_record(filename, info)
        record.rec_headers.replace_header("WARC-Date", _warc_date(when))
        return record


class _Collecting:
    """A WARCWriter stand-in for `build`: makes records (digests filled) and collects them."""

    def __init__(self, writer: WARCWriter, records: list[Any]) -> None:
        self._writer = writer
        self._records = records

    def create_warc_record(self, *args: Any, **kwargs: Any) -> Any:
        record = self._writer.create_warc_record(*args, **kwargs)
        self._writer.ensure_digest(record, block=True, payload=True)
        self._records.append(record)
        return record


def _warc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def archive_sizes(data_dir: Path) -> dict[str, dict[str, int]]:
    """Per incident folder: WARC bytes on disk and day files (for `spreadwatch status`)."""
    root = evidence_root(data_dir)
    sizes = {}
    for folder in sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []:
        files = list(folder.glob("*.warc.gz"))
        sizes[folder.name] = {"bytes": sum(f.stat().st_size for f in files), "files": len(files)}
    return sizes


def archive_size(data_dir: Path, incident_id: str) -> int:
    """Bytes of WARC files an incident's evidence takes on disk."""
    folder = incident_folder(data_dir, incident_id)
    return sum(p.stat().st_size for p in folder.glob("*.warc.gz")) if folder.is_dir() else 0
