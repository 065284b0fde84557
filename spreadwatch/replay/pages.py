"""Configured web pages, replayed: statement pages, newsrooms, forum threads, and robots.txt.

A page is HTML as the site serves it. A page whose posts appear over time (a forum thread, a
newsroom list) is a `html` template with one `{items}` slot and `items` each with an `at` time
and their own HTML; only items whose time has passed on the replay clock are rendered.
`robots` is served at /robots.txt (absent → 404, which robots rules read as "allow all").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spreadwatch.replay.server import ReplayApp, ReplayRequest, Reply, parse_time

HTML_TYPE = "text/html; charset=utf-8"


@dataclass
class PagesData:
    """`pages`: path (with query, if any) → HTML string, or {html: "...{items}...", items: [...]}."""

    pages: dict[str, Any] = field(default_factory=dict)
    robots: str | None = None

    @classmethod
    def load(cls, path: Path) -> PagesData:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


class PagesReplay(ReplayApp):
    name = "pages"

    def __init__(self, data: PagesData) -> None:
        super().__init__()
        self.data = data
        self.route("GET", r"/robots\.txt", self.robots)
        self.route("GET", r"/.*", self.page)

    def robots(self, request: ReplayRequest) -> Reply:
        if self.data.robots is None:
            return Reply.text("Not Found", "text/plain", status=404)
        return Reply.text(self.data.robots, "text/plain; charset=utf-8")

    def page(self, request: ReplayRequest) -> Reply:
        key = request.path
        if request.query:
            full = key + "?" + "&".join(f"{k}={v}" for k, v in request.query.items())
            key = full if full in self.data.pages else key
        page = self.data.pages.get(key)
        if page is None:
            return Reply.text("<html><body><h1>404</h1></body></html>", HTML_TYPE, status=404)
        if isinstance(page, str):
            return Reply.text(page, HTML_TYPE)
        shown = [i["html"] for i in page.get("items", []) if parse_time(i["at"]) <= request.now]
        return Reply.text(page["html"].replace("{items}", "".join(shown)), HTML_TYPE)
