"""Fixtures for the alert and e-mail tests: real SMTP servers on free loopback ports."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from alerts_support import PASSWORD, Inbox, SmtpServer, free_port, self_signed_cert
from elasticsearch import Elasticsearch
from index_pool import empty

from alerts.mailer import SmtpConfig, SmtpSender
from indexer.connection import IndexNames
from indexer.templates import delete_all, init
from spreadwatch.settings import Settings


def _authenticator(inbox: Inbox) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == PASSWORD.encode()
        if ok:
            inbox.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    return check


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real aiosmtpd server on a free loopback port (started)."""
    server = SmtpServer(Inbox(), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_sender(smtp_server: SmtpServer) -> SmtpSender:
    """The product's own SMTP sender, pointed at `smtp_server` (what arrives: its inbox)."""
    return SmtpSender(SmtpConfig.from_url(smtp_server.url), timeout=5)


@pytest.fixture
def smtp_port_down() -> Iterator[SmtpServer]:
    """A server object whose port has nothing listening until the test calls `start()`."""
    server = SmtpServer(Inbox(), free_port())
    yield server
    server.stop()


@pytest.fixture
def smtp_with_auth() -> Iterator[SmtpServer]:
    """A server that requires AUTH LOGIN/PLAIN (allowed without TLS on loopback, for the test)."""
    inbox = Inbox()
    server = SmtpServer(inbox, free_port())
    server.start(
        authenticator=_authenticator(inbox),
        auth_required=True,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


def _server_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    return context


@pytest.fixture
def smtp_starttls(tls_files: tuple[Path, Path]) -> Iterator[SmtpServer]:
    """A server that requires STARTTLS before AUTH and mail, with a self-signed certificate."""
    inbox = Inbox()
    server = SmtpServer(inbox, free_port())
    server.start(
        tls_context=_server_context(tls_files),
        require_starttls=True,
        authenticator=_authenticator(inbox),
        auth_required=True,
    )
    yield server
    server.stop()


@pytest.fixture
def smtps_server(tls_files: tuple[Path, Path]) -> Iterator[SmtpServer]:
    """A server speaking TLS from the first byte (smtps://)."""
    inbox = Inbox()
    server = SmtpServer(inbox, free_port())
    server.start(ssl_context=_server_context(tls_files))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_indices(es_settings: Settings, es_client: Elasticsearch) -> Iterator[IndexNames]:
    """One set of indices per test module (creating indices costs seconds on a busy node)."""
    names = IndexNames(f"{es_settings.index_prefix}-{uuid.uuid4().hex[:6]}")
    init(es_client, names)
    yield names
    delete_all(es_client, names)


@pytest.fixture
def emptied_indices(module_indices: IndexNames, es_client: Elasticsearch) -> IndexNames:
    """The module's indices, emptied before the test: as clean as fresh ones, much faster.

    A test module opts in by overriding `index_names` with this fixture.
    """
    empty(es_client, module_indices)
    return module_indices
