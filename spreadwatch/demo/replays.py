"""The dataset served by the project's replay servers (spreadwatch/replay/), one per source.

Each adapter turns the committed records into the replay module's data class; the servers share
the demo's simulated clock, so a record appears to the spiders once the clock passes its time.
Every platform of the dataset has its server: one that cannot be built stops the demo.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from spreadwatch.clock import Clock
from spreadwatch.demo.dataset import Entry, entries
from spreadwatch.demo.replays_social import SOCIAL_APPS
from spreadwatch.demo.shapes import CST, digest
from spreadwatch.replay import ReplayServer
from spreadwatch.replay.feeds import FeedsData, FeedsReplay
from spreadwatch.replay.github import GithubData, GithubReplay
from spreadwatch.replay.pages import PagesData, PagesReplay

logger = logging.getLogger(__name__)


def github_data() -> GithubData:
    data = GithubData()
    for entry in entries("github"):
        _add_github(data, entry)
    for repo, stars in data.stargazers.items():
        data.repo_events.setdefault(repo, []).extend(
            _event("WatchEvent", s["user"], repo, s["starred_at"]) for s in stars
        )
    return data


def _add_github(data: GithubData, entry: Entry) -> None:
    d, kind = entry.data, entry.kind
    if kind == "repo":
        data.repos.append(d)
        if "deleted_at" in entry.meta:
            data.deleted_repos[d["full_name"]] = entry.meta["deleted_at"]
    elif kind == "readme":
        import base64  # noqa: PLC0415

        data.readmes[d["repository"]] = base64.b64decode(d["content"]).decode("utf-8")
        if entry.meta.get("edits"):
            data.readme_edits[d["repository"]] = list(entry.meta["edits"])
    elif kind == "user":
        data.users[d["login"]] = d
    elif kind == "issue":
        repo = d["repository_url"].split("/repos/", 1)[1]
        data.issues.setdefault(repo, []).append(d)
    elif kind == "comment":
        repo = d["issue_url"].split("/repos/", 1)[1].split("/issues/")[0]
        data.comments.setdefault(repo, []).append(d)
    elif kind == "star":
        data.stargazers.setdefault(entry.meta["repo"], []).append(d)
    elif kind == "fork":
        data.forks.setdefault(entry.meta["repo"], []).append(d)


def _event(kind: str, actor: dict[str, Any], repo: str, at: str) -> dict[str, Any]:
    return {
        "id": str(int(digest(kind, actor["login"], repo, at, size=10), 16)),
        "type": kind,
        "actor": {"login": actor["login"], "id": actor["id"]},
        "repo": {"name": repo, "url": f"https://api.github.com/repos/{repo}"},
        "payload": {"action": "started"} if kind == "WatchEvent" else {},
        "public": True,
        "created_at": at,
    }


def feeds_data() -> FeedsData:
    items = [dict(e.data, lang=e.meta["feed_lang"]) for e in entries("feeds")]
    return FeedsData(google_news=items)


def pages_data() -> PagesData:
    """The Toutiao statement page, and V2EX's career node with each topic's page."""
    pages: dict[str, Any] = {}
    (statement,) = entries("toutiao")
    pages[statement.data["url"].split("toutiao.com", 1)[1]] = {
        "html": "{items}",  # the page exists from the statement's publication on
        "items": [{"at": _iso(statement.at), "html": _statement_html(statement.data)}],
    }
    topics = [e for e in entries("v2ex") if e.kind == "topic"]
    pages["/go/career"] = {
        "html": '<html><head><title>职场话题 - V2EX</title></head><body><div id="Main">{items}</div></body></html>',
        "items": [{"at": _iso(t.at), "html": _topic_cell(t.data)} for t in reversed(topics)],
    }
    for topic in topics:
        replies = [
            e
            for e in entries("v2ex")
            if e.kind == "reply" and e.data["topic_id"] == topic.data["id"]
        ]
        pages[f"/t/{topic.data['id']}"] = {
            "html": _topic_page(topic.data),
            "items": [{"at": _iso(r.at), "html": _reply_html(r.data)} for r in replies],
        }
    return PagesData(pages=pages, robots="User-agent: *\nDisallow: /settings\n")


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, CST).isoformat()


def _statement_html(article: dict[str, Any]) -> str:
    e = html.escape
    return (
        f"<html><head><title>{e(article['title'])}</title></head><body>"
        f'<article class="statement" data-id="{e(article["id"])}"><h1>{e(article["title"])}</h1>'
        f'<span class="author">{e(article["author"]["name"])}</span>'
        f'<time datetime="{e(article["published"])}">{e(article["published"][:16])}</time>'
        f'<div class="content"><p>{e(article["text"])}</p></div></article></body></html>'
    )


def _topic_cell(topic: dict[str, Any]) -> str:
    e = html.escape
    return (
        f'<div class="cell item" data-id="{topic["id"]}"><span class="item_title">'
        f'<a href="/t/{topic["id"]}">{e(topic["title"])}</a></span>'
        f'<strong><a href="/member/{e(topic["member"]["username"])}">{e(topic["member"]["username"])}</a></strong>'
        f'<span class="ago" title="{_local(topic["created"])}"></span>'
        f'<div class="topic_content">{e(topic["content"])}</div></div>'
    )


def _topic_page(topic: dict[str, Any]) -> str:
    e = html.escape
    return (
        f'<html><head><title>{e(topic["title"])} - V2EX</title></head><body><div id="Main">'
        f'<div class="header"><h1>{e(topic["title"])}</h1></div>'
        f'<div class="topic_content">{e(topic["content"])}</div>'
        '<div class="box">{items}</div></div></body></html>'
    )


def _reply_html(reply: dict[str, Any]) -> str:
    e = html.escape
    return (
        f'<div class="cell reply" id="r_{reply["id"]}">'
        f'<strong><a href="/member/{e(reply["member"]["username"])}">{e(reply["member"]["username"])}</a></strong>'
        f'<span class="ago" title="{_local(reply["created"])}"></span>'
        f'<div class="reply_content">{e(reply["content"])}</div></div>'
    )


def start_servers(clock: Clock) -> dict[str, ReplayServer]:
    """Start a replay server per source of the dataset; the running servers by source name."""
    servers: dict[str, ReplayServer] = {}
    builders: dict[str, Callable[[], Any]] = {
        "github": lambda: GithubReplay(github_data(), core_limit=100_000, search_limit=10_000),
        "feeds": lambda: FeedsReplay(feeds_data()),
        "pages": lambda: PagesReplay(pages_data()),
        **SOCIAL_APPS,
    }
    try:
        for source, build in builders.items():
            servers[source] = ReplayServer(build(), clock=clock).start()
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: dict[str, ReplayServer]) -> None:
    for server in servers.values():
        try:
            server.stop()
        except OSError:
            logger.exception("replay server %s did not stop cleanly", server.app.name)
