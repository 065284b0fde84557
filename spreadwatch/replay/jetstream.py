"""Bluesky Jetstream, replayed: a local WebSocket server at `/subscribe`.

Events are held as Jetstream sends them (`{did, time_us, kind, commit{...}}`), sorted by
`time_us`. A connection gets, as fast as it can take them, every event of a `wantedCollections`
collection from `cursor` on (inclusive; no cursor = from the first event, so a burst can be
replayed), then stays open and quiet like a live stream with nothing new. Faults: `drop_after`
lists, per connection in order, after how many events the server drops the connection without a
close frame (a network failure mid-burst). `connections` records each connection's cursor.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

logger = logging.getLogger(__name__)


class JetstreamReplay:
    """A Jetstream server on 127.0.0.1:<free port>, run on its own thread and event loop."""

    def __init__(self, events: Iterable[dict[str, Any]], drop_after: Iterable[int] = ()) -> None:
        self.events = sorted(events, key=lambda e: e["time_us"])
        self._payloads = [json.dumps(e, separators=(",", ":")) for e in self.events]
        self._drops = deque(drop_after)
        self.connections: list[int | None] = []
        self.sent = 0
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    def start(self) -> JetstreamReplay:
        self._thread = threading.Thread(target=self._run, name="replay-jetstream", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Jetstream replay server did not start")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> JetstreamReplay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        async with serve(self._connection, "127.0.0.1", 0, max_size=2**22) as server:
            self._server = server
            self._ready.set()
            await server.wait_closed()

    async def _connection(self, connection: ServerConnection) -> None:
        request = connection.request
        parts = urlsplit(request.path if request else "/")
        if parts.path != "/subscribe":
            await connection.close(code=1008, reason="unknown path")
            return
        query = parse_qs(parts.query)
        cursor = _int(query.get("cursor", [None])[0])
        wanted = set(query.get("wantedCollections", []))
        self.connections.append(cursor)
        drop_at = self._drops.popleft() if self._drops else None
        sent_here = 0
        try:
            for event, payload in zip(self.events, self._payloads, strict=True):
                if cursor is not None and event["time_us"] < cursor:
                    continue
                if wanted and _collection(event) not in wanted:
                    continue
                if drop_at is not None and sent_here >= drop_at:
                    connection.transport.abort()  # no close frame: a network failure
                    return
                await connection.send(payload)
                sent_here += 1
                self.sent += 1
            await connection.wait_closed()
        except ConnectionClosed:
            return


def _collection(event: dict[str, Any]) -> str | None:
    commit = event.get("commit")
    return commit.get("collection") if isinstance(commit, dict) else None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def post_event(did: str, rkey: str, time_us: int, text: str, **record: Any) -> dict[str, Any]:
    """A Jetstream `commit` event creating a post, shaped as the real stream sends it."""
    created = record.pop("createdAt", None)
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": f"3l{rkey[:11]}",
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": {
                "$type": "app.bsky.feed.post",
                "createdAt": created or _iso(time_us),
                "langs": ["en"],
                "text": text,
                **record,
            },
            "cid": f"bafyrei{rkey}",
        },
    }


def _iso(time_us: int) -> str:
    from datetime import UTC, datetime  # noqa: PLC0415

    return datetime.fromtimestamp(time_us / 1_000_000, UTC).isoformat().replace("+00:00", "Z")
