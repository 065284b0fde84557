"""Helpers for the alert and e-mail tests: a real SMTP server, fixture posts, incidents.

The pytest fixtures built on them are in `conftest_alerts.py` (`pytest_plugins`).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from elasticsearch import Elasticsearch, helpers

from indexer.connection import IndexNames
from spreadwatch.incident import Incident

#: The founding case's Saturday: ByteDance's statement on Toutiao, 19 Oct 2024.
NOW = datetime(2024, 10, 19, 12, 0, tzinfo=UTC)
USER = "alerts@example.org"
PASSWORD = "s3cret-pa55word"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    """What the SMTP server accepted, parsed as the recipient's mail client would."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self, **options: Any) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def post(
    native_id: str,
    at: datetime,
    platform: str = "weibo",
    incident: str = "bytedance-intern-2024",
    **fields: Any,
) -> dict[str, Any]:
    """A posts-index document as the pipelines store it."""
    doc: dict[str, Any] = {
        "@timestamp": at.isoformat(),
        "incident": [incident],
        "platform": platform,
        "kind": "post",
        "native_id": native_id,
        "url": f"https://example.org/{platform}/{native_id}",
        "author": {"id": f"u-{native_id}", "handle": f"user{native_id}", "followers": 10},
        "text": f"post {native_id}",
        "stance": "rumour",
        "reach": 10,
    }
    doc.update(fields)
    return {"_id": f"{platform}:{native_id}", **doc}


def official_denial(native_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """What the official denial looks like indexed: an official account's matching post, its
    stance a confident denial (see `indexer.scope.OFFICIAL_DENIAL`)."""
    values: dict[str, Any] = {
        "platform": "toutiao",
        "author": {"id": "bd", "handle": "bytedance", "official": True, "followers": 1000},
        "matched": {"queries": ["zh"], "claims": [], "official": True},
        "stance": "denial",
        "stance_confidence": 0.9,
        "reach": 1000,
        **fields,
    }
    return post(native_id, at, **values)


def spread(count: int, start: datetime, end: datetime, prefix: str, **fields: Any) -> list[dict]:
    """`count` posts evenly spread over [start, end)."""
    step = (end - start) / max(count, 1)
    return [post(f"{prefix}{i}", start + step * i, **fields) for i in range(count)]


def index_docs(client: Elasticsearch, index: str, docs: list[dict[str, Any]]) -> None:
    actions = [{"_index": index, "_id": d.pop("_id", None), "_source": d} for d in docs]
    helpers.bulk(client, actions, refresh=True)


def index_posts(client: Elasticsearch, names: IndexNames, docs: list[dict[str, Any]]) -> None:
    index_docs(client, names.posts, docs)


def run_doc(
    source: str, at: datetime, status: str, items: int, incident: str = "bytedance-intern-2024"
) -> dict:
    return {
        "@timestamp": at.isoformat(),
        "job": "crawl",
        "incident": incident,
        "source": source,
        "status": status,
        "items_scraped": items,
        "error_count": 0 if status == "ok" else 1,
        "run_id": f"{source}-{at.timestamp():.0f}",
    }


def incident_with(rules: list[dict[str, Any]], **alerts: Any) -> Incident:
    """The founding case's incident with the given alert rules."""
    return Incident.model_validate(
        {
            "id": "bytedance-intern-2024",
            "title": "ByteDance intern rumour",
            "window": {"start": (NOW - timedelta(days=3)).isoformat()},
            "queries": [{"name": "zh", "lang": "zh", "any": ["字节 实习生"]}],
            "alerts": {"recipients": ["analyst@example.org"], "rules": rules, **alerts},
        }
    )


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (IP SAN) and its key, the certificate being its own CA."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file
