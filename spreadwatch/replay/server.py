"""A local HTTP server that replays a platform's API from data held in the platform's own shape.

Spider tests, benchmarks and the demo point `SPREADWATCH_<SOURCE>_BASE_URL` at one of these, so
the real spiders run unchanged against responses shaped exactly like the real API. A platform is
a `ReplayApp` (routes → handlers, see `github.py`); the server adds what every platform shares:
a record is revealed only once `clock()` has passed its creation time (the demo drives a
simulated clock), ETag/If-None-Match → 304, scripted faults per route, and a request log that
tests assert on. Loopback only: it binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from spreadwatch.clock import Clock, utc_now

logger = logging.getLogger(__name__)


@dataclass
class Reply:
    """One HTTP response as the server will send it."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    etag: bool = True  # compute an ETag and answer 304 to a matching If-None-Match
    abort: bool = False  # close the connection without answering (a network failure)
    delay: float = 0.0  # seconds to hold the request before answering (a stalled server)

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Reply:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return cls(status=status, body=body, headers=dict(headers))

    def with_headers(self, headers: dict[str, str]) -> Reply:
        """The same reply with `headers` added (e.g. a `Link` header from `page_of`)."""
        self.headers.update(headers)
        return self

    @classmethod
    def text(cls, text: str, content_type: str, status: int = 200, **headers: str) -> Reply:
        return cls(
            status=status,
            body=text.encode("utf-8"),
            content_type=content_type,
            headers=dict(headers),
        )


@dataclass
class ReplayRequest:
    """What a handler sees: method, path, query (first value per name, and all values), headers."""

    method: str
    path: str
    query: dict[str, str]
    query_lists: dict[str, list[str]]
    headers: dict[str, str]
    base_url: str
    now: datetime
    match: re.Match[str] | None = None
    body: bytes = b""  # the request body (POST), e.g. a JSON login

    def json_body(self) -> Any:
        """The request body as JSON, or None when it is absent or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def int_param(self, name: str, default: int, low: int = 1, high: int = 10**9) -> int:
        try:
            value = int(self.query.get(name, default))
        except ValueError:
            value = default
        return max(low, min(high, value))


@dataclass
class LoggedRequest:
    """One request the server answered, for assertions (`server.count(status=304)`)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int
    scripted: bool
    at: datetime  # on the replay's clock
    received: float = 0.0  # wall time (`time.time()`) the request arrived


Handler = Callable[[ReplayRequest], Reply]


class ReplayApp:
    """A platform: a list of routes. Subclasses call `self.route()` in `__init__`."""

    name = "replay"

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method.upper(), re.compile(pattern), handler))

    def dispatch(self, request: ReplayRequest) -> Reply:
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                request.match = match
                return handler(request)
        return self.not_found(request)

    def not_found(self, request: ReplayRequest) -> Reply:
        return Reply.json({"message": "Not Found"}, status=404)

    def decorate(self, request: ReplayRequest, reply: Reply) -> Reply:
        """Last touch on every reply (e.g. rate-limit headers); scripted faults included."""
        return reply


def visible(
    records: Iterable[dict[str, Any]], now: datetime, key: Callable[[dict[str, Any]], datetime]
) -> list[dict[str, Any]]:
    """The records whose creation time (`key`) has passed on the replay clock."""
    return [record for record in records if key(record) <= now]


def parse_time(value: str) -> datetime:
    """An ISO-8601 time as stored in fixtures (`2024-10-18T09:00:00Z`), made aware."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def etag_of(body: bytes) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


#: What a crawl against replay servers must be allowed to reach (they listen on loopback, which
#: the private-network guard refuses by default): `SPREADWATCH_ALLOW_PRIVATE_NETWORKS`.
REPLAY_NETWORKS = "127.0.0.1/32"


class ReplayServer:
    """A threaded HTTP server on 127.0.0.1:<free port> serving one `ReplayApp`.

    Use as a context manager, or `start()`/`stop()`. `url` is the base URL to configure.
    """

    def __init__(self, app: ReplayApp, clock: Clock = utc_now, port: int = 0) -> None:
        self.app = app
        self.clock = clock
        self.requests: list[LoggedRequest] = []
        self._scripts: list[tuple[str, re.Pattern[str], deque[Reply]]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_class(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReplayServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name=f"replay-{self.app.name}", daemon=True
            )
            self._thread.start()
            logger.info("replay server for %s on %s", self.app.name, self.url)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Fault injection and assertions.

    def script(self, pattern: str, replies: Iterable[Reply], method: str = "GET") -> None:
        """The next requests matching `pattern` (a regex searched in path?query) get `replies`,
        one each, before the platform answers normally again."""
        with self._lock:
            self._scripts.append((method.upper(), re.compile(pattern), deque(replies)))

    def count(self, status: int | None = None, path: str | None = None) -> int:
        """How many logged requests had this status and/or a path matching the regex `path`."""
        return len(self.matching(status=status, path=path))

    def matching(self, status: int | None = None, path: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            logged = list(self.requests)
        return [
            r
            for r in logged
            if (status is None or r.status == status) and (path is None or re.search(path, r.path))
        ]

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def clear_scripts(self) -> None:
        """Forget scripted replies not served yet: the platform answers normally again."""
        with self._lock:
            self._scripts.clear()

    # Request handling (called on server threads).

    def _scripted(self, method: str, target: str) -> Reply | None:
        with self._lock:
            for script_method, pattern, replies in self._scripts:
                if replies and script_method == method and pattern.search(target):
                    return replies.popleft()
        return None

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[Reply, bool]:
        received = time.time()
        parts = urlsplit(target)
        lists = parse_qs(parts.query, keep_blank_values=True)
        request = ReplayRequest(
            method=method,
            path=parts.path,
            query={k: v[0] for k, v in lists.items()},
            query_lists=lists,
            headers=headers,
            base_url=self.url,
            now=self.clock(),
            body=body,
        )
        scripted = self._scripted(method, target)
        if scripted is not None:
            reply = scripted
        else:
            try:
                reply = self.app.dispatch(request)
            except Exception:
                logger.exception("replay handler failed for %s %s", method, target)
                reply = Reply.json({"message": "replay handler error"}, status=500)
            reply = _conditional(reply, headers)
        reply = self.app.decorate(request, reply)
        with self._lock:
            self.requests.append(
                LoggedRequest(
                    method,
                    parts.path,
                    request.query,
                    headers,
                    reply.status,
                    scripted is not None,
                    request.now,
                    received,
                )
            )
        return reply, scripted is not None


def _conditional(reply: Reply, headers: dict[str, str]) -> Reply:
    """Add an ETag to a 200 and answer 304 (no body) when the client already has it."""
    if reply.status != 200 or not reply.etag:
        return reply
    tag = etag_of(reply.body)
    reply.headers.setdefault("ETag", tag)
    sent = headers.get("if-none-match", "")
    if tag in [t.strip() for t in sent.split(",")]:
        return Reply(status=304, body=b"", headers={"ETag": tag}, content_type="", etag=False)
    return reply


def _handler_class(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        #: Headers and body are two writes: with Nagle's algorithm the body waits for the
        #: client's delayed ACK of the headers, ~40 ms on every reply of a kept-alive connection
        #: (most of a replayed crawl's time); real APIs answer without that stall.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            length = int(headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            reply, _ = server.answer(self.command, self.path, headers, body)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.abort:
                self.close_connection = True
                return
            self.send_response(reply.status)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_POST = do_HEAD = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("replay %s: " + format, server.app.name, *args)

    return _Handler
