"""What never enters an archive: credentials in request headers, URLs and bodies.

A WARC is evidence handed to other people; a token in it is a leaked token. Requests lose their
credential headers entirely (`Authorization`, `Cookie`, ...), query parameters and form fields
with credential names are replaced, and any known secret value (the settings' secrets and the
variables an incident file names) is replaced wherever it still appears, responses included
(a `Set-Cookie` is dropped; a body that echoes a token has it replaced).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"

#: Request headers that carry credentials; removed, never archived.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "set-cookie2",
        "x-api-key",
        "x-auth-token",
        "x-csrf-token",
        "x-xsrf-token",
        "private-token",
    }
)
_SECRET_PARAM = re.compile(
    r"(?i)^(access_token|refresh_token|token|api_key|apikey|key|client_secret|secret|password|"
    r"passwd|sig|signature|sessionid)$"
)
#: An absolute or relative URL with a query inside a header value (whole, or between `<>`).
_URL_IN_HEADER = re.compile(r"[^\s<>\",]*\?[^\s<>\",]*")
#: Environment variable names whose values are secrets (as `crawlers.run` scrubs logs).
SECRET_ENV_WORDS = ("TOKEN", "SECRET", "PASSWORD", "COOKIE", "KEY")


class Redactor:
    """Strips credentials from headers, URLs and bodies; built once per crawl."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Short values would redact ordinary words; secrets are never that short.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)
        self._encoded = [s.encode("utf-8") for s in self.secrets]

    def headers(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Headers without credential headers; in the rest, every URL (a `Referer`, `Location`,
        each target of a `Link`) as `url` leaves it, and known secret values replaced."""
        return [
            (k, self.text(_URL_IN_HEADER.sub(lambda m: self._header_url(m.group()), v)))
            for k, v in pairs
            if k.lower() not in SECRET_HEADERS
        ]

    def _header_url(self, url: str) -> str:
        """`url` as `url` leaves it; one it cannot read (`http://[x?…`) is replaced whole: a
        header is the server's to write, and what it holds cannot be judged."""
        try:
            return self.url(url)
        except ValueError:
            return REDACTED

    def url(self, url: str) -> str:
        """The URL with credential parameters and userinfo replaced."""
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(_SECRET_PARAM.match(k) for k, _ in pairs):
                query = urlencode(
                    [(k, REDACTED if _SECRET_PARAM.match(k) else v) for k, v in pairs]
                )
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))

    def body(self, body: bytes, content_type: str = "") -> tuple[bytes, bool]:
        """The body with known secret values (and form credentials) replaced; and whether any was."""
        changed = False
        if "application/x-www-form-urlencoded" in content_type.lower() and body:
            pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
            if any(_SECRET_PARAM.match(k) for k, _ in pairs):
                body = urlencode(
                    [(k, REDACTED if _SECRET_PARAM.match(k) else v) for k, v in pairs]
                ).encode("latin-1")
                changed = True
        for secret in self._encoded:
            if secret in body:
                body = body.replace(secret, REDACTED.encode())
                changed = True
        return body, changed

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        return value


def secret_values(configured: Iterable[str], env_names: Iterable[str]) -> list[str]:
    """The settings' secrets plus the values of the credential variables an incident names."""
    named = [
        os.environ.get(name, "")
        for name in env_names
        if any(word in name.upper() for word in SECRET_ENV_WORDS)
    ]
    return [v for v in [*configured, *named] if v]
