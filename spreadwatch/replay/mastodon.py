"""A Mastodon instance, replayed: hashtag timelines, status search, and the instance's limits.

- `GET /api/v1/timelines/tag/:hashtag?limit≤40&since_id&max_id&min_id`: public statuses carrying
  the tag, newest first, paged backwards by the `Link: <...max_id=..>; rel="next"` header as
  Mastodon does. With `public_timelines=False` (instances that turned public preview off,
  4.5+), a request without a token gets 401 `{"error": "This method requires an authenticated
  user"}`.
- `GET /api/v2/search?q=&type=statuses&limit&offset`: needs `Authorization: Bearer <token>`
  (`tokens`); without, Mastodon returns no statuses for full-text queries.
- `GET /api/v1/statuses/:id`: one status; a deleted one (removed from `statuses`) answers 404
  `{"error": "Record not found"}` as Mastodon does.
- `X-RateLimit-Limit/-Remaining/-Reset` on every reply; 429 over the budget. As Mastodon's
  rack-attack throttle: `budget` requests per `window_seconds` (5 minutes), windows aligned to
  the epoch, every request counted (a refused one too), the reset the window's end in wall time
  as an ISO 8601 time with milliseconds (`2024-10-19T06:05:00.000Z`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from spreadwatch.replay.server import ReplayApp, ReplayRequest, Reply, parse_time

WINDOW_SECONDS = 300.0


@dataclass
class MastodonData:
    """One instance: `statuses` as `/api/v1` returns them, and whether public timelines are on."""

    statuses: list[dict[str, Any]] = field(default_factory=list)
    public_timelines: bool = True

    @classmethod
    def load(cls, path: Path, instance: str) -> MastodonData:
        return cls(**json.loads(path.read_text(encoding="utf-8"))["instances"][instance])


class MastodonReplay(ReplayApp):
    name = "mastodon"

    def __init__(
        self,
        data: MastodonData,
        tokens: tuple[str, ...] = (),
        budget: int = 300,
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        super().__init__()
        self.data = data
        self.tokens = set(tokens)
        self.budget = budget
        self.window_seconds = window_seconds
        self.used = 0
        self._window = self._window_now()
        self._lock = threading.Lock()
        self.route("GET", r"/api/v1/timelines/tag/(?P<tag>[^/]+)", self.tag_timeline)
        self.route("GET", r"/api/v2/search", self.search)
        self.route("GET", r"/api/v1/statuses/(?P<id>\d+)", self.status)

    def _window_now(self) -> int:
        return int(time.time() // self.window_seconds)

    def dispatch(self, request: ReplayRequest) -> Reply:
        with self._lock:
            if (window := self._window_now()) != self._window:
                self.used, self._window = 0, window
            self.used += 1
            over = self.used > self.budget
        if over:
            return _error(429, "Too many requests")
        return super().dispatch(request)

    def decorate(self, request: ReplayRequest, reply: Reply) -> Reply:
        with self._lock:
            left, ends = max(0, self.budget - self.used), (self._window + 1) * self.window_seconds
        reset = datetime.fromtimestamp(ends, UTC).isoformat(timespec="milliseconds")
        reply.headers.setdefault("X-RateLimit-Limit", str(self.budget))
        reply.headers.setdefault("X-RateLimit-Remaining", str(left))
        reply.headers.setdefault("X-RateLimit-Reset", reset.replace("+00:00", "Z"))
        return reply

    def _authorised(self, request: ReplayRequest) -> bool:
        auth = request.header("authorization") or ""
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

    def status(self, request: ReplayRequest) -> Reply:
        """One status by its id on this instance; 404 `Record not found` once it is deleted."""
        assert request.match is not None
        for status in self._visible(request):
            if str(status["id"]) == request.match["id"]:
                return Reply.json(status)
        return _error(404, "Record not found")

    def tag_timeline(self, request: ReplayRequest) -> Reply:
        if not self.data.public_timelines and not self._authorised(request):
            return _error(401, "This method requires an authenticated user")
        assert request.match is not None
        tag = request.match["tag"].lower()
        # Like Mastodon, tag timelines list original statuses only, never boosts.
        found = [s for s in self._visible(request) if not s.get("reblog") and tag in _tags(s)]
        return self._page(request, found)

    def search(self, request: ReplayRequest) -> Reply:
        if not self._authorised(request):
            return Reply.json({"accounts": [], "statuses": [], "hashtags": []})
        words = request.query.get("q", "").casefold().split()
        found = [
            s for s in self._visible(request)
            if not s.get("reblog") and all(w in _content(s) for w in words)
        ]  # fmt: skip
        limit = request.int_param("limit", 20, 1, 40)
        offset = request.int_param("offset", 0, 0)
        return Reply.json({"accounts": [], "statuses": found[offset : offset + limit], "hashtags": []})  # fmt: skip

    def _visible(self, request: ReplayRequest) -> list[dict[str, Any]]:
        shown = [s for s in self.data.statuses if parse_time(s["created_at"]) <= request.now]
        return sorted(shown, key=lambda s: int(s["id"]), reverse=True)

    def _page(self, request: ReplayRequest, statuses: list[dict[str, Any]]) -> Reply:
        """Mastodon paging: `since_id` (newer than), `max_id` (older than), newest first."""
        since, max_id = _id(request.query.get("since_id")), _id(request.query.get("max_id"))
        chosen = [
            s for s in statuses
            if (since is None or int(s["id"]) > since) and (max_id is None or int(s["id"]) < max_id)
        ]  # fmt: skip
        limit = request.int_param("limit", 20, 1, 40)
        chunk = chosen[:limit]
        headers: dict[str, str] = {}
        if chunk:
            # Mastodon's `pagination_params`: the next link keeps `limit` (and `local`,
            # `only_media`) and the new `max_id`, never `since_id`.
            kept = ("limit", "local", "only_media")
            older = {**{k: v for k, v in request.query.items() if k in kept}, "max_id": chunk[-1]["id"]}  # fmt: skip
            newer = {k: v for k, v in request.query.items() if k not in ("max_id", "since_id")}
            newer["min_id"] = chunk[0]["id"]
            headers["Link"] = (
                f'<{request.base_url}{request.path}?{urlencode(older)}>; rel="next", '
                f'<{request.base_url}{request.path}?{urlencode(newer)}>; rel="prev"'
            )
        reply = Reply.json(chunk)
        reply.headers.update(headers)
        return reply


def _tags(status: dict[str, Any]) -> set[str]:
    return {t.get("name", "").lower() for t in status.get("tags") or [] if isinstance(t, dict)}


def _content(status: dict[str, Any]) -> str:
    return str(status.get("content") or "").casefold()


def _id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _error(status: int, message: str) -> Reply:
    reply = Reply.json({"error": message}, status=status)
    reply.etag = False
    return reply
