"""Bluesky: `app.bsky.feed.getPostThread` on the public AppView; a deleted post is HTTP 400
`{"error": "NotFound"}` (or a `#notFoundPost` thread), a blocked one a `#blockedPost`."""

from __future__ import annotations

from urllib.parse import urlencode

from crawlers.parsers import ParseError
from crawlers.parsers.bluesky import parse_post_view
from crawlers.recheck.model import CheckContext, Fetch, Reply, Target, Verdict, http_verdict


def fetch(target: Target, ctx: CheckContext) -> Fetch | None:
    if not target.native_id.startswith("at://"):
        return None
    query = urlencode({"uri": target.native_id, "depth": 0, "parentHeight": 0})
    return Fetch(
        f"{ctx.settings.base_url('bluesky_public')}/xrpc/app.bsky.feed.getPostThread?{query}"
    )


def judge(target: Target, reply: Reply) -> Verdict:
    payload = reply.json()
    error = payload.get("error") if isinstance(payload, dict) else None
    if reply.status == 400 and error == "NotFound":
        return Verdict(gone="bluesky:not_found")
    refused = http_verdict("bluesky", reply)
    if refused is not None:
        return refused
    thread = payload.get("thread") if isinstance(payload, dict) else None
    kind = thread.get("$type", "") if isinstance(thread, dict) else ""
    if kind.endswith("#notFoundPost"):
        return Verdict(gone="bluesky:not_found")
    if kind.endswith("#blockedPost"):
        return Verdict(gone="bluesky:blocked")
    try:
        return Verdict(
            post=parse_post_view(thread.get("post") if isinstance(thread, dict) else None)
        )
    except ParseError:
        return Verdict()
