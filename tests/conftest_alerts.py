"""Fixtures for the alert and e-mail tests: real SMTP servers on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from alerts_support import PASSWORD, Inbox, SmtpServer, free_port


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
