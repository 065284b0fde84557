"""Bluesky, replayed: an app-password session on the PDS and post search through it.

- `POST /xrpc/com.atproto.server.createSession` `{identifier, password}` → `{did, handle,
  accessJwt, refreshJwt, active}`; a wrong password → 401 `AuthenticationRequired`.
- `POST /xrpc/com.atproto.server.refreshSession` with the refresh token → new tokens.
- `GET /xrpc/app.bsky.feed.searchPosts?q&sort=latest&since&until&lang&limit≤100&cursor` and
  `GET /xrpc/app.bsky.actor.getProfiles?actors=..` need `Authorization: Bearer <accessJwt>`;
  without it 403 (as the public AppView now answers logged-out search). An access token
  expires after `access_uses` requests: 400 `{"error": "ExpiredToken"}`.
- `ratelimit-limit/-remaining/-reset/-policy` headers on every reply, as the PDS's rate limiter
  (atproto `xrpc-server`, rate-limiter-flexible) sends them: `budget` requests per
  `window_seconds` (5 minutes), a window starting at the first request after the last one
  ended, every request counted, the reset its end in epoch seconds (floored); over the budget,
  429 `RateLimitExceeded`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spreadwatch.replay.server import ReplayApp, ReplayRequest, Reply, parse_time


@dataclass
class BlueskyData:
    """`accounts`: handle → app password; `posts`: postViews; `profiles`: profileViewDetailed."""

    accounts: dict[str, str] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> BlueskyData:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


class BlueskyReplay(ReplayApp):
    name = "bluesky"

    def __init__(
        self,
        data: BlueskyData,
        access_uses: int = 1000,
        budget: int = 3000,
        window_seconds: float = 300.0,
    ) -> None:
        super().__init__()
        self.data = data
        self.access_uses = access_uses
        self.budget = budget
        self.window_seconds = window_seconds
        self.used = 0
        self._window_ends = 0.0
        self.sessions = 0
        self.refreshes = 0
        self._access: dict[str, int] = {}
        self._refresh: set[str] = set()
        self._lock = threading.Lock()
        self.route("POST", r"/xrpc/com\.atproto\.server\.createSession", self.create_session)
        self.route("POST", r"/xrpc/com\.atproto\.server\.refreshSession", self.refresh_session)
        self.route("GET", r"/xrpc/app\.bsky\.feed\.searchPosts", self.search_posts)
        self.route("GET", r"/xrpc/app\.bsky\.actor\.getProfiles", self.get_profiles)
        self.route("GET", r"/xrpc/app\.bsky\.feed\.getPostThread", self.get_post_thread)

    def dispatch(self, request: ReplayRequest) -> Reply:
        with self._lock:
            if time.time() >= self._window_ends:
                self.used, self._window_ends = 0, time.time() + self.window_seconds
            self.used += 1
            over = self.used > self.budget
        if over:
            return _error(429, "RateLimitExceeded", "Rate Limit Exceeded")
        return super().dispatch(request)

    def decorate(self, request: ReplayRequest, reply: Reply) -> Reply:
        with self._lock:
            remaining, ends = max(0, self.budget - self.used), int(self._window_ends)
        reply.headers.update({
            "ratelimit-limit": str(self.budget), "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(ends), "ratelimit-policy": f"{self.budget};w={self.window_seconds:g}",
        })  # fmt: skip
        return reply

    def create_session(self, request: ReplayRequest) -> Reply:
        body = request.json_body()
        if not isinstance(body, dict):
            return _error(400, "InvalidRequest", "Input must be an object")
        identifier, password = body.get("identifier"), body.get("password")
        if not isinstance(identifier, str) or self.data.accounts.get(identifier) != password:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.sessions += 1
        return self._tokens(identifier)

    def refresh_session(self, request: ReplayRequest) -> Reply:
        token = _bearer(request)
        if token not in self._refresh:
            return _error(400, "ExpiredToken", "Token has been revoked")
        self._refresh.discard(token)
        self.refreshes += 1
        return self._tokens(next(iter(self.data.accounts), "replay.bsky.social"))

    def _tokens(self, handle: str) -> Reply:
        access, refresh = f"acc-{secrets.token_hex(8)}", f"ref-{secrets.token_hex(8)}"
        with self._lock:
            self._access[access] = self.access_uses
            self._refresh.add(refresh)
        reply = Reply.json({"did": f"did:plc:{handle.split('.', maxsplit=1)[0]}", "handle": handle,
                            "accessJwt": access, "refreshJwt": refresh, "active": True})  # fmt: skip
        reply.etag = False
        return reply

    def _authorised(self, request: ReplayRequest) -> Reply | None:
        token = _bearer(request)
        with self._lock:
            uses = self._access.get(token or "")
            if uses is None:
                return _error(403, "Forbidden", "Forbidden")  # logged-out search
            if uses <= 0:
                return _error(400, "ExpiredToken", "Token has expired")
            self._access[token or ""] = uses - 1
        return None

    def get_post_thread(self, request: ReplayRequest) -> Reply:
        """A post's thread (public, no session); a deleted post answers 400 `NotFound`."""
        uri = request.query.get("uri", "")
        for post in self.data.posts:
            if post["uri"] == uri and parse_time(post["indexedAt"]) <= request.now:
                view = {"$type": "app.bsky.feed.defs#threadViewPost", "post": post, "replies": []}
                return Reply.json({"thread": view})
        return _error(400, "NotFound", f"Post not found: {uri}")

    def search_posts(self, request: ReplayRequest) -> Reply:
        refusal = self._authorised(request)
        if refusal is not None:
            return refusal
        query = request.query.get("q", "")
        if not query.strip():
            return _error(400, "InvalidRequest", 'Error: Params must have the property "q"')
        words = query.casefold().split()
        since, until = request.query.get("since"), request.query.get("until")
        lang = request.query.get("lang")
        found = [
            p for p in self.data.posts
            if parse_time(p["indexedAt"]) <= request.now
            and all(w in p["record"].get("text", "").casefold() for w in words)
            and (not since or parse_time(p["indexedAt"]) >= parse_time(since))
            and (not until or parse_time(p["indexedAt"]) < parse_time(until))
            and (not lang or lang in (p["record"].get("langs") or []))
        ]  # fmt: skip
        found.sort(key=lambda p: p["indexedAt"], reverse=True)
        offset = int(request.query.get("cursor") or 0)
        limit = request.int_param("limit", 25, 1, 100)
        chunk = found[offset : offset + limit]
        body: dict[str, Any] = {"hitsTotal": len(found), "posts": chunk}
        if offset + limit < len(found):
            body["cursor"] = str(offset + limit)
        return Reply.json(body)

    def get_profiles(self, request: ReplayRequest) -> Reply:
        refusal = self._authorised(request)
        if refusal is not None:
            return refusal
        actors = request.query_lists.get("actors", [])
        if len(actors) > 25:
            return _error(400, "InvalidRequest", "Error: actors must not have more than 25 elements")  # fmt: skip
        wanted = set(actors)
        profiles = [p for p in self.data.profiles if p["did"] in wanted or p["handle"] in wanted]
        return Reply.json({"profiles": profiles})


def _bearer(request: ReplayRequest) -> str | None:
    auth = request.header("authorization") or ""
    return auth[7:] if auth.startswith("Bearer ") else None


def _error(status: int, error: str, message: str) -> Reply:
    reply = Reply.json({"error": error, "message": message}, status=status)
    reply.etag = False
    return reply
