"""Reddit: `/api/info?id=<fullname>` (OAuth, or the public `.json`); a thing Reddit no longer
lists is gone; one it lists with `[removed]`/`[deleted]` says how (`parsers.reddit.gone`)."""

from __future__ import annotations

from urllib.parse import urlencode

from crawlers.parsers import ParseError
from crawlers.parsers.reddit import listing_children, parse_thing
from crawlers.recheck.model import CheckContext, Fetch, Reply, Target, Verdict, http_verdict


def fetch(target: Target, ctx: CheckContext) -> Fetch | None:
    query = urlencode({"id": target.native_id, "raw_json": 1})
    token = ctx.secrets.get("reddit_token")
    if token:
        return Fetch(f"{ctx.settings.base_url('reddit')}/api/info?{query}", {"Authorization": f"bearer {token}"})  # fmt: skip
    return Fetch(f"{ctx.settings.base_url('reddit_public')}/api/info.json?{query}")


def judge(target: Target, reply: Reply) -> Verdict:
    refused = http_verdict("reddit", reply)
    if refused is not None:
        return Verdict(unverifiable=f"http_{reply.status}")  # Reddit's 404 is not about the post
    payload = reply.json()
    children = listing_children(payload)
    if children is None:
        return Verdict(unverifiable="bad_shape")
    for child in children:
        try:
            post = parse_thing(child)
        except ParseError:
            continue
        if post.native_id == target.native_id:
            return Verdict(gone=post.deleted_how) if post.deleted_how else Verdict(post=post)
    return Verdict(gone="reddit:not_found")
