"""TCP relays in front of the test node: one that can be cut (the node lost mid-crawl), one that
holds bulk requests (another writer's request lands first), one that loses the first bulk
request's reply (the node died after writing, before answering), and a black hole (a cluster
that takes connections and never answers), alone or after a relay's first bulk request."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from urllib.parse import urlsplit

from elasticsearch import Elasticsearch


class Proxy:
    """A TCP relay to the node that can be cut, as when Elasticsearch stops mid-crawl."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            self._relay(client, upstream)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        """Pass bytes both ways, each way in a thread of its own."""
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        self.open = False
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.server.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()

    @classmethod
    def to(cls, es_client: Elasticsearch):  # type: ignore[no-untyped-def]
        """A relay to the node `es_client` talks to."""
        node = urlsplit(es_client.transport.node_pool.get().base_url)
        return cls((node.hostname or "127.0.0.1", node.port or 9200))

    def client(self) -> Elasticsearch:
        return Elasticsearch(f"http://127.0.0.1:{self.port}", request_timeout=30, max_retries=0)


class BulkGate(Proxy):
    """A relay to the node that holds every bulk request until `release()`: the moment between
    a writer reading the stored posts and writing its merge, made as long as a test needs."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.held = threading.Event()
        self.released = threading.Event()
        super().__init__(target)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        threading.Thread(target=self._hold, args=(client, upstream), daemon=True).start()
        threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _hold(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if b"/_bulk" in data.split(b"\r\n", 1)[0]:
                    self.held.set()
                    self.released.wait(30)
                dst.sendall(data)

    def release(self) -> None:
        self.released.set()


class LostReply(Proxy):
    """A relay to the node that passes the first bulk request on and then closes the client's
    connection instead of answering it: the node wrote the documents and died before its reply
    left. Everything after (the client sending the request again) is relayed as it is."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.lost = threading.Event()
        super().__init__(target)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        bulk_sent = threading.Event()
        threading.Thread(
            target=self._watch, args=(client, upstream, bulk_sent), daemon=True
        ).start()
        threading.Thread(
            target=self._reply, args=(upstream, client, bulk_sent), daemon=True
        ).start()

    def _watch(self, src: socket.socket, dst: socket.socket, bulk_sent: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                first_line = data.split(b"\r\n", 1)[0]
                is_bulk = REQUEST_LINE.match(first_line) and b"/_bulk" in first_line
                if is_bulk and not self.lost.is_set():
                    bulk_sent.set()
                dst.sendall(data)

    def _reply(self, src: socket.socket, dst: socket.socket, bulk_sent: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if bulk_sent.is_set() and not self.lost.is_set():
                    self.lost.set()  # the bulk reply: dropped, and the connection with it
                    for sock in (dst, src):  # shut down first: it wakes the other reader
                        with contextlib.suppress(OSError):
                            sock.shutdown(socket.SHUT_RDWR)
                        sock.close()
                    return
                dst.sendall(data)

    def client(self) -> Elasticsearch:
        """A client that sends a request again once when its connection breaks, as the
        default client does (there to another node)."""
        return Elasticsearch(f"http://127.0.0.1:{self.port}", request_timeout=30, max_retries=1)


#: The first line of an HTTP request, as the client sends it.
REQUEST_LINE = re.compile(rb"^(GET|HEAD|POST|PUT|DELETE) \S+ HTTP/1\.[01]$")


class BlackHole:
    """Elasticsearch behind a firewall that black-holes it: every connection is accepted and every
    request read, none answered, so the client waits out its timeout each time.

    With `relay_to` (a node) it is a relay until a request whose first line holds `dark_after`
    has been passed on, and a black hole from the next request on: a cluster lost between two
    requests of one writer.
    """

    def __init__(self, relay_to: tuple[str, int] | None = None, dark_after: bytes = b"") -> None:
        self.relay_to = relay_to
        self.dark_after = dark_after
        self.dark = relay_to is None
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._swallowed: list[str] = []
        self._readers: list[threading.Thread] = []
        self._probe: tuple[str, int] | None = None
        self._probe_accepted = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @classmethod
    def after_first_bulk(cls, es_client: Elasticsearch):  # type: ignore[no-untyped-def]
        """A relay to the node of `es_client` that goes dark once a bulk request went through."""
        node = urlsplit(es_client.transport.node_pool.get().base_url)
        return cls((node.hostname or "127.0.0.1", node.port or 9200), dark_after=b"/_bulk")

    def client(self, timeout: float) -> Elasticsearch:
        """A client that gives up on a request after `timeout` seconds and does not retry it."""
        return Elasticsearch(
            f"http://127.0.0.1:{self.port}", request_timeout=timeout, max_retries=0
        )

    def swallowed(self) -> list[str]:
        """The first lines of the requests never answered, in order, once every connection made
        so far was closed by its client (close the client first)."""
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self._probe = probe.getsockname()
        probe.connect(("127.0.0.1", self.port))
        probe.close()
        # Connections are accepted in the order they were made: once the probe is, every
        # connection before it has its reader, which ends when its client closes it.
        self._probe_accepted.wait(30)
        for reader in list(self._readers):
            reader.join(30)
        return list(self._swallowed)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, peer = self.server.accept()
            except OSError:
                return
            if peer == self._probe:
                conn.close()
                self._probe_accepted.set()
                continue
            upstream = socket.create_connection(self.relay_to) if self.relay_to else None
            reader = threading.Thread(target=self._read, args=(conn, upstream), daemon=True)
            self._readers.append(reader)
            reader.start()
            if upstream is not None:
                threading.Thread(target=Proxy._pipe, args=(upstream, conn), daemon=True).start()

    def _read(self, conn: socket.socket, upstream: socket.socket | None) -> None:
        swallowing = self.dark
        with contextlib.suppress(OSError):
            while data := conn.recv(65536):
                line = data.split(b"\r\n", 1)[0]
                if REQUEST_LINE.match(line):  # a request starts (else: more of its body)
                    swallowing = self.dark
                    if swallowing:
                        self._swallowed.append(line.decode())
                    elif self.dark_after and self.dark_after in line:
                        self.dark = True  # this one still goes through, and is answered
                if not swallowing and upstream is not None:
                    upstream.sendall(data)
        for sock in (conn, upstream):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
