"""TCP relays in front of the test node: one that can be cut (the node lost mid-crawl), one that
holds bulk requests (another writer's request lands first)."""

from __future__ import annotations

import contextlib
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
