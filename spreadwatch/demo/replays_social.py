"""Adapters from the dataset to the social platforms' replay servers (spreadwatch/replay/)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spreadwatch.demo.dataset import entries
from spreadwatch.replay import bluesky, hackernews, mastodon, reddit, weibo
from spreadwatch.replay.server import ReplayApp


def hackernews_app() -> ReplayApp:
    hits = [e.data for e in entries("hackernews")]
    return hackernews.HackerNewsReplay(hackernews.HackerNewsData(hits=hits, items=_hn_trees(hits)))


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


def weibo_app() -> ReplayApp:
    """Posts stored as the replay keeps them (user by id, reposts by id).

    Times are served in Weibo's absolute form: that is what m.weibo.cn shows for posts more than
    a year old, as 2024's are today. (Relative forms such as `5分钟前` would be read by the spider
    against the crawl process's wall clock, not the demo's simulated one.)
    """
    users: dict[str, dict[str, Any]] = {}
    mblogs = []
    for entry in entries("weibo"):
        stored = {k: v for k, v in entry.data.items() if k not in ("user", "retweeted_status")}
        users[str(entry.data["user"]["id"])] = entry.data["user"]
        stored["user_id"] = str(entry.data["user"]["id"])
        if "retweeted_status" in entry.data:
            stored["retweeted_id"] = entry.data["retweeted_status"]["id"]
        mblogs.append(stored)
    app = weibo.WeiboReplay(weibo.WeiboData(users=users, mblogs=mblogs))
    app.render_time = lambda created, now: created.astimezone(weibo.BEIJING).strftime(
        weibo.ABSOLUTE
    )
    return app


def reddit_app() -> ReplayApp:
    things = [e.data for e in entries("reddit")]
    client_id, secret = DEMO_REDDIT
    return reddit.RedditReplay(
        reddit.RedditData(things=things), client_id=client_id, client_secret=secret, budget=100_000
    )


def mastodon_app() -> ReplayApp:
    """One instance's hashtag timeline; statuses from other instances arrive federated."""
    statuses = [e.data for e in entries("mastodon")]
    return mastodon.MastodonReplay(mastodon.MastodonData(statuses=statuses), budget=100_000)


def bluesky_app() -> ReplayApp:
    posts = [e.data for e in entries("bluesky") if e.kind == "post"]
    profiles = [e.data for e in entries("bluesky") if e.kind == "profile"]
    handle, password = DEMO_BLUESKY
    data = bluesky.BlueskyData(accounts={handle: password}, posts=posts, profiles=profiles)
    return bluesky.BlueskyReplay(data, budget=100_000)


#: Demo credentials the replays accept (not secrets; `rounds.DEMO_CREDENTIALS` sends them).
DEMO_REDDIT = ("spreadwatch-demo", "demo-replay-only")
DEMO_BLUESKY = ("demo.bsky.social", "demo-replay-only")

#: Source name → the function building its replay app.
SOCIAL_APPS: dict[str, Callable[[], ReplayApp]] = {
    "weibo": weibo_app,
    "hackernews": hackernews_app,
    "reddit": reddit_app,
    "mastodon": mastodon_app,
    "bluesky": bluesky_app,
}
