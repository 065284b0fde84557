"""Mastodon: `GET /api/v1/statuses/:id` on the status's home instance (public statuses need no
token); 404 `Record not found` once deleted (or made private)."""

from __future__ import annotations

from urllib.parse import urlsplit

from crawlers.parsers import ParseError
from crawlers.parsers.mastodon import parse_status
from crawlers.recheck.model import CheckContext, Fetch, Reply, Target, Verdict, http_verdict


def fetch(target: Target, ctx: CheckContext) -> Fetch | None:
    if not target.url:
        return None
    parts = urlsplit(target.url)
    status_id = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if not status_id.isdigit():
        return None
    base = ctx.settings.base_url("mastodon") or f"{parts.scheme}://{parts.netloc}"
    headers = {}
    token = ctx.settings.secret("mastodon_token")
    if token and not ctx.settings.base_url("mastodon"):
        headers["Authorization"] = f"Bearer {token}"
    return Fetch(f"{base}/api/v1/statuses/{status_id}", headers)


def judge(target: Target, reply: Reply) -> Verdict:
    if reply.status == 404:
        return Verdict(gone="mastodon:deleted")
    refused = http_verdict("mastodon", reply)
    if refused is not None:
        return refused
    instance = urlsplit(target.url or "").netloc
    try:
        posts = parse_status(reply.json(), f"https://{instance}")
    except (ParseError, AttributeError):
        return Verdict()
    return Verdict(post=next((p for p in posts if p.native_id == target.native_id), None))
