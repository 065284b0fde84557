"""A local SMTP server (aiosmtpd) that keeps every message the demo's alerts send.

The alerts go through the real SMTP client code (`alerts.mailer.SmtpSender`) to a real server on
loopback; the demo then writes what arrived as .eml files, byte for byte as received.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    raw: bytes
    mail_from: str
    rcpt_tos: list[str]

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)


@dataclass
class _Handler:
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        received = Received(envelope.original_content, envelope.mail_from, list(envelope.rcpt_tos))
        with self.lock:
            self.messages.append(received)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpSink:
    """Start with `start()`, read `messages`, `write_eml(folder)`, then `stop()`."""

    def __init__(self) -> None:
        self._handler = _Handler()
        self.port = _free_port()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[Received]:
        with self._handler.lock:
            return list(self._handler.messages)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def write_eml(self, folder: Path) -> list[Path]:
        """Each received message as `alert-NN.eml`, in the order it arrived."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for number, received in enumerate(self.messages, start=1):
            path = folder / f"alert-{number:02d}.eml"
            path.write_bytes(received.raw)
            written.append(path)
        return written
