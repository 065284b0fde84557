"""Sending alert e-mails over SMTP from `settings.smtp_url` (without one, alerts stay pending).

`smtp://user:pass@host:587?starttls=true` uses STARTTLS, `smtps://host:465` implicit TLS,
plain `smtp://host:25` neither; `cafile=/path/ca.pem` trusts a private CA (certificates are
always verified). The password is read from the URL only here and never logged:
errors name the host and port.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

logger = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}


class SendError(RuntimeError):
    """The message was not accepted for anyone; safe to show (no secrets). `code` is the SMTP
    reply code when the server gave one (5xx: permanent, anything else: try again)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Refusal:
    """The server's answer to one recipient it did not accept."""

    code: int | None
    reason: str

    @property
    def permanent(self) -> bool:
        """5xx: this address will not take the message (retrying is pointless)."""
        return self.code is not None and 500 <= self.code < 600


class Sender(Protocol):
    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, Refusal]:
        """Send `message` to `recipients` (the envelope; the To header may list more);
        returns the recipients the server refused. Raises `SendError` when nobody got it."""
        ...


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    ssl: bool
    starttls: bool
    username: str | None
    password: str | None = field(repr=False)
    cafile: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                "SPREADWATCH_SMTP_URL must look like smtp://host:587?starttls=true or "
                f"smtps://host:465 (scheme {parts.scheme!r})"
            )
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        secure = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if secure else 25)
        except ValueError:
            raise ValueError("SPREADWATCH_SMTP_URL has an invalid port") from None
        return cls(
            host=parts.hostname,
            port=port,
            ssl=secure,
            starttls=not secure and options.get("starttls", "false").lower() in _TRUE,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            cafile=options.get("cafile"),
        )


@dataclass
class SmtpSender:
    """One connection per message: alerts are rare, and a fresh connection survives restarts."""

    config: SmtpConfig
    timeout: float = 20.0

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context(cafile=self.config.cafile)
        if self.config.ssl:
            return smtplib.SMTP_SSL(
                self.config.host, self.config.port, timeout=self.timeout, context=context
            )
        connection = smtplib.SMTP(self.config.host, self.config.port, timeout=self.timeout)
        if self.config.starttls:
            try:
                connection.starttls(context=context)
            except BaseException:
                connection.close()  # not returned, so no `with` would close it
                raise
        return connection

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, Refusal]:
        where = f"{self.config.host}:{self.config.port}"
        try:
            with self._connect() as connection:
                if self.config.username:
                    connection.login(self.config.username, self.config.password or "")
                refused = connection.send_message(message, to_addrs=list(recipients))
        except smtplib.SMTPRecipientsRefused as error:  # every recipient refused
            refused = error.recipients
        except smtplib.SMTPAuthenticationError as error:
            raise SendError(f"SMTP server {where} refused the login ({error.smtp_code})") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            raise SendError(
                f"SMTP server {where} refused the message ({error.smtp_code}: "
                f"{_text(error.smtp_error)})",
                code=error.smtp_code,
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise SendError(
                f"cannot send through {where}: {type(error).__name__}: {error}"
            ) from None
        refusals = {
            address: Refusal(code, f"{code} {_text(reply)}")
            for address, (code, reply) in refused.items()
        }
        if refusals:
            logger.warning("SMTP server %s refused recipients: %s", where, sorted(refusals))
        return refusals


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]


@dataclass
class UnconfiguredSender:
    """Used when no SMTP URL is set: alerts stay stored and pending, with a clear reason."""

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, Refusal]:
        raise SendError("no SPREADWATCH_SMTP_URL configured; alert kept pending")


def sender_from_settings(smtp_url: str | None, timeout: float) -> Sender:
    """The sender the settings ask for (the URL is a secret: pass it in, never log it)."""
    if not smtp_url:
        logger.warning("SPREADWATCH_SMTP_URL is not set: alerts are stored but not e-mailed")
        return UnconfiguredSender()
    return SmtpSender(SmtpConfig.from_url(smtp_url), timeout=timeout)
