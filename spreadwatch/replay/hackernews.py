"""Hacker News' Algolia API, replayed: `/api/v1/search_by_date` and `/api/v1/items/:id`.

Hits are held as Algolia returns them; a search filters by every query word (in title, story
text or comment text), by `tags=(story,comment)` and `numericFilters=created_at_i>=..,<..`,
newest first, paged by `page` (from 0) and `hitsPerPage`, with Algolia's 1,000-hit pagination
cap: `nbHits` counts everything, but pages past hit 1,000 are empty.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spreadwatch.replay.server import ReplayApp, ReplayRequest, Reply, parse_time

PAGINATION_LIMIT = 1000
_FILTER = re.compile(r"^\s*(created_at_i|points|num_comments)\s*(>=|<=|>|<|=)\s*(\d+)\s*$")


@dataclass
class HackerNewsData:
    """`hits`: search hits; `items`: story id → the `/items/:id` tree."""

    hits: list[dict[str, Any]] = field(default_factory=list)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> HackerNewsData:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


class HackerNewsReplay(ReplayApp):
    name = "hackernews"

    def __init__(self, data: HackerNewsData) -> None:
        super().__init__()
        self.data = data
        self.route("GET", r"/api/v1/search_by_date", self.search)
        self.route("GET", r"/api/v1/search", self.search)
        self.route("GET", r"/api/v1/items/(?P<id>\d+)", self.item)

    def search(self, request: ReplayRequest) -> Reply:
        try:
            filters = _numeric_filters(request.query.get("numericFilters", ""))
        except ValueError as error:
            return Reply.json({"message": str(error), "status": 400}, status=400)
        words = request.query.get("query", "").casefold().split()
        tags = _tags(request.query.get("tags", ""))
        now = int(request.now.timestamp())
        found = [
            hit
            for hit in self.data.hits
            if _epoch(hit) <= now
            and all(f(hit) for f in filters)
            and (not tags or tags & set(hit.get("_tags", [])))
            and all(word in _searchable(hit) for word in words)
        ]
        found.sort(key=_epoch, reverse=True)
        per_page = request.int_param("hitsPerPage", 20, 1, 1000)
        page = request.int_param("page", 0, 0)
        reachable = found[:PAGINATION_LIMIT]
        chunk = reachable[page * per_page : (page + 1) * per_page]
        return Reply.json(
            {
                "hits": chunk,
                "nbHits": len(found),
                "page": page,
                "nbPages": -(-len(reachable) // per_page),
                "hitsPerPage": per_page,
                "exhaustiveNbHits": True,
                "query": request.query.get("query", ""),
                "params": "&".join(f"{k}={v}" for k, v in request.query.items()),
                "processingTimeMS": 1,
            }
        )

    def item(self, request: ReplayRequest) -> Reply:
        assert request.match is not None
        item = self.data.items.get(request.match["id"]) or self._item_of_hit(request.match["id"])
        if item is None or item["created_at_i"] > request.now.timestamp():
            reply = Reply.json({"status": 404, "error": "Not Found"}, status=404)
            reply.etag = False
            return reply
        return Reply.json(_prune(item, int(request.now.timestamp())))

    def _item_of_hit(self, object_id: str) -> dict[str, Any] | None:
        """An item without a stored tree, as Algolia's items endpoint shows it, from its hit."""
        hit = next((h for h in self.data.hits if str(h.get("objectID")) == object_id), None)
        if hit is None:
            return None
        kind = "comment" if "comment" in (hit.get("_tags") or []) else "story"
        return {
            "id": int(object_id), "created_at": hit.get("created_at"), "created_at_i": hit["created_at_i"],
            "type": kind, "author": hit.get("author"), "title": hit.get("title"), "url": hit.get("url"),
            "text": hit.get("comment_text") or hit.get("story_text"), "points": hit.get("points"),
            "parent_id": hit.get("parent_id"), "story_id": hit.get("story_id"), "children": [],
        }  # fmt: skip


def _prune(node: dict[str, Any], now: int) -> dict[str, Any]:
    """The tree as of `now`: comments not yet written are not there."""
    children = [_prune(c, now) for c in node.get("children", []) if c["created_at_i"] <= now]
    return {**node, "children": children}


def _searchable(hit: dict[str, Any]) -> str:
    parts = (hit.get("title"), hit.get("story_text"), hit.get("comment_text"), hit.get("url"))
    return " ".join(p for p in parts if isinstance(p, str)).casefold()


def _tags(value: str) -> set[str]:
    return {t for t in re.split(r"[(),\s]+", value) if t}


def _numeric_filters(value: str) -> list[Any]:
    filters = []
    for part in (p for p in value.split(",") if p.strip()):
        match = _FILTER.match(part)
        if not match:
            raise ValueError(f"invalid numericFilters: {part!r}")
        name, op, number = match.group(1), match.group(2), int(match.group(3))
        filters.append(_comparison(name, op, number))
    return filters


def _comparison(name: str, op: str, number: int) -> Any:
    ops = {
        ">=": lambda a: a >= number, "<=": lambda a: a <= number, ">": lambda a: a > number,
        "<": lambda a: a < number, "=": lambda a: a == number,
    }  # fmt: skip
    check = ops[op]
    if name == "created_at_i":
        return lambda hit: check(_epoch(hit))
    return lambda hit: isinstance(hit.get(name), int) and check(hit[name])


def _epoch(hit: dict[str, Any]) -> int:
    """A hit's creation time; from `created_at` when a fixture changed `created_at_i`'s type."""
    value = hit.get("created_at_i")
    if isinstance(value, int):
        return value
    return int(parse_time(hit["created_at"]).timestamp())
