"""Adapters from the dataset to the social platforms' replay servers (spreadwatch/replay/).

Each adapter imports its replay module when called: a platform whose replay module is not there
yet raises `ModuleNotFoundError`, which the demo reports as "not replayed" rather than faking it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from spreadwatch.demo.dataset import entries
from spreadwatch.replay.server import ReplayApp


def hackernews_app() -> ReplayApp:
    module = importlib.import_module("spreadwatch.replay.hackernews")
    hits = [e.data for e in entries("hackernews")]
    return module.HackerNewsReplay(module.HackerNewsData(hits=hits, items=_hn_trees(hits)))


def _hn_trees(hits: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`/items/:id` trees of the stories, built from their comment hits."""
    nodes = {
        int(h["objectID"]): {
            "id": int(h["objectID"]),
            "created_at": h["created_at"],
            "created_at_i": h["created_at_i"],
            "type": "story" if h.get("parent_id") is None else "comment",
            "author": h["author"],
            "title": h.get("title"),
            "url": h.get("url"),
            "text": h.get("comment_text") or h.get("story_text"),
            "points": h.get("points"),
            "parent_id": h.get("parent_id"),
            "story_id": h.get("story_id"),
            "children": [],
        }
        for h in hits
    }
    for node in sorted(nodes.values(), key=lambda n: n["created_at_i"]):
        parent = nodes.get(node["parent_id"]) if node["parent_id"] is not None else None
        if parent is not None:
            parent["children"].append(node)
    return {str(i): n for i, n in nodes.items() if n["type"] == "story"}


#: Source name → the function building its replay app.
SOCIAL_APPS: dict[str, Callable[[], ReplayApp]] = {
    "hackernews": hackernews_app,
}
