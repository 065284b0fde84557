"""Reddit, replayed: the OAuth API, the public JSON and the client-credentials token endpoint.

- `POST /api/v1/access_token` (basic auth `client_id:secret`, `grant_type=client_credentials`)
  → `{access_token, token_type: "bearer", expires_in, scope}`; wrong credentials → 401.
- OAuth: `GET /search` and `/r/{sub}/search` (`q`, `restrict_sr`, `sort=new`, `limit≤100`,
  `after=t3_x`) with `Authorization: bearer <token>`; without it 401. Every OAuth reply carries
  `X-Ratelimit-Used/-Remaining/-Reset` (seconds to the window's end); over the budget, 429 until the window resets.
- Comment trees (`reddit_comments.py`): `GET /comments/{article}` (and `/r/{sub}/comments/…`;
  `limit` ≤ 500, `sort`) → `[link listing, comment listing]` with `more` stubs past `limit`, and
  `GET /api/morechildren?link_id=&children=` (≤ 100 ids) → `{json: {errors, data: {things}}}`;
  OAuth like search (budget, headers), or public with `.json`.
- Public: `GET /search.json`, `/r/{sub}/search.json`: the same listings, or, with
  `public_forbidden`, the 403 Reddit now answers most unauthenticated clients.
- A listing holds at most `listing_cap` things (Reddit's 1,000): past them the last page
  answers `after: null`, as at the true end, and an `after` beyond them answers nothing.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spreadwatch.replay.reddit_comments import MAX_CHILDREN, MAX_LIMIT, CommentTree, listing
from spreadwatch.replay.server import ReplayApp, ReplayRequest, Reply

WINDOW_SECONDS = 600
#: Things a listing serves at most, newest first: Reddit precomputes 1,000 and says nothing
#: when a listing is cut there (`after: null`, as at its end).
LISTING_CAP = 1000


@dataclass
class RedditData:
    """`things`: listing children (`{kind: t3|t1, data}`) as Reddit returns them."""

    things: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> RedditData:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


class RedditReplay(ReplayApp):
    name = "reddit"

    def __init__(
        self,
        data: RedditData,
        *,
        client_id: str = "replay-client",
        client_secret: str = "replay-secret",
        budget: int = 100,
        public_forbidden: bool = False,
        window_seconds: float = WINDOW_SECONDS,
        listing_cap: int = LISTING_CAP,
    ) -> None:
        super().__init__()
        self.data = data
        self.credentials = (client_id, client_secret)
        self.budget = budget
        self.public_forbidden = public_forbidden
        self.tokens: set[str] = set()
        self.used = 0
        self.window_seconds = window_seconds
        self.listing_cap = listing_cap
        self._window_start = time.monotonic()
        self._lock = threading.Lock()
        self.route("POST", r"/api/v1/access_token", self.token)
        self.route("GET", r"/search", self.oauth_search)
        self.route("GET", r"/r/(?P<sub>\w+)/search", self.oauth_search)
        self.route("GET", r"/search\.json", self.public_search)
        self.route("GET", r"/r/(?P<sub>\w+)/search\.json", self.public_search)
        self.route("GET", r"(?:/r/\w+)?/comments/(?P<article>\w+)(?:/[\w-]*(?:/\w*)?)?/?", self.oauth_comments)  # fmt: skip
        self.route("GET", r"(?:/r/\w+)?/comments/(?P<article>\w+)(?:/[\w-]*(?:/\w*)?)?/?\.json", self.public_comments)  # fmt: skip
        self.route("GET", r"/api/morechildren", self.oauth_more)
        self.route("GET", r"/api/morechildren\.json", self.public_more)
        self.route("GET", r"/api/info", self.info)
        self.route("GET", r"/api/info\.json", self.info)

    def token(self, request: ReplayRequest) -> Reply:
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        if request.header("authorization") != f"Basic {expected}":
            return _error(401, "Unauthorized")
        token = secrets.token_hex(12)
        self.tokens.add(token)
        reply = Reply.json({"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"})  # fmt: skip
        reply.etag = False
        return reply

    def oauth_search(self, request: ReplayRequest) -> Reply:
        return self._oauth(request, self._listing)

    def oauth_comments(self, request: ReplayRequest) -> Reply:
        return self._oauth(request, self._comments)

    def oauth_more(self, request: ReplayRequest) -> Reply:
        return self._oauth(request, self._more_children)

    def public_comments(self, request: ReplayRequest) -> Reply:
        return _error(403, "Forbidden") if self.public_forbidden else self._comments(request)

    def public_more(self, request: ReplayRequest) -> Reply:
        return _error(403, "Forbidden") if self.public_forbidden else self._more_children(request)

    def _oauth(self, request: ReplayRequest, answer: Any) -> Reply:
        """A bearer-token request, counted against the window's budget (429 past it)."""
        auth = request.header("authorization") or ""
        if not auth.lower().startswith("bearer ") or auth.split(" ", 1)[1] not in self.tokens:
            return _error(401, "Unauthorized")
        with self._lock:
            if time.monotonic() - self._window_start >= self.window_seconds:
                self.used, self._window_start = 0, time.monotonic()
            if self.used >= self.budget:
                return self._limited(_error(429, "Too Many Requests"))
            self.used += 1
        return self._limited(answer(request))

    def _comments(self, request: ReplayRequest) -> Reply:
        name = f"t3_{request.match['article'] if request.match else ''}"
        now = request.now.timestamp()
        link = next((t for t in self.data.things if t["data"].get("name") == name), None)
        if link is None or _created(link) > now:
            return _error(404, "Not Found")
        tree = CommentTree(self.data.things, name, now, request.query.get("sort", "new"))
        comments = tree.page(request.int_param("limit", 200, 1, MAX_LIMIT))
        return Reply.json([listing([link]), listing(comments)])

    def _more_children(self, request: ReplayRequest) -> Reply:
        ids = [i for i in request.query.get("children", "").split(",") if i]
        if len(ids) > MAX_CHILDREN:
            return _error(400, "too many children")
        link = request.query.get("link_id", "")
        tree = CommentTree(self.data.things, link, request.now.timestamp(), request.query.get("sort", "new"))  # fmt: skip
        return Reply.json({"json": {"errors": [], "data": {"things": tree.flat(ids)}}})

    def info(self, request: ReplayRequest) -> Reply:
        """Things by fullname (`id=t3_a,t1_b`); a thing Reddit no longer has is left out, one
        removed or deleted carries `[removed]`/`[deleted]` as it does in the data."""
        if request.path.endswith(".json") and self.public_forbidden:
            return _error(403, "Forbidden")
        if not request.path.endswith(".json"):
            auth = request.header("authorization") or ""
            if not auth.lower().startswith("bearer ") or auth.split(" ", 1)[1] not in self.tokens:
                return _error(401, "Unauthorized")
        wanted = [n for n in request.query.get("id", "").split(",") if n]
        by_name = {t["data"].get("name"): t for t in self.data.things}
        children = [by_name[n] for n in wanted if n in by_name and _created(by_name[n]) <= request.now.timestamp()]  # fmt: skip
        return Reply.json({"kind": "Listing", "data": {"after": None, "before": None, "dist": len(children), "children": children}})  # fmt: skip

    def public_search(self, request: ReplayRequest) -> Reply:
        if self.public_forbidden:
            return _error(403, "Forbidden")
        return self._listing(request)

    def _limited(self, reply: Reply) -> Reply:
        reply.headers.update(
            {
                "x-ratelimit-used": str(self.used),
                "x-ratelimit-remaining": f"{max(0, self.budget - self.used):.1f}",
                "x-ratelimit-reset": str(max(1, round(self._reset_in()))),
            }
        )
        return reply

    def _reset_in(self) -> float:
        return self.window_seconds - (time.monotonic() - self._window_start)

    def _listing(self, request: ReplayRequest) -> Reply:
        words = request.query.get("q", "").casefold().split()
        sub = request.match["sub"] if request.match and "sub" in request.match.groupdict() else None
        now = request.now.timestamp()
        found = [
            t for t in self.data.things
            if t.get("kind") == "t3" and _created(t) <= now
            and (sub is None or str(t["data"].get("subreddit", "")).lower() == sub.lower())
            and all(w in _text(t) for w in words)
        ]  # fmt: skip
        found.sort(key=_created, reverse=True)
        found = found[: self.listing_cap]
        after = request.query.get("after")
        if after:
            names = [t["data"].get("name") for t in found]
            found = found[names.index(after) + 1 :] if after in names else []
        limit = request.int_param("limit", 25, 1, 100)
        chunk = found[:limit]
        more = len(found) > limit
        data = {"after": chunk[-1]["data"]["name"] if more and chunk else None, "dist": len(chunk),
                "modhash": "", "geo_filter": "", "children": chunk, "before": None}  # fmt: skip
        return Reply.json({"kind": "Listing", "data": data})


def _created(thing: dict[str, Any]) -> float:
    value = thing["data"].get("created_utc")
    return float(value) if isinstance(value, int | float) else 0.0


def _text(thing: dict[str, Any]) -> str:
    data = thing["data"]
    return f"{data.get('title') or ''} {data.get('selftext') or ''}".casefold()


def _error(status: int, message: str) -> Reply:
    reply = Reply.json({"message": message, "error": status}, status=status)
    reply.etag = False
    return reply
