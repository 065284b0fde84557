"""Hacker News (Algolia): `/api/v1/items/:id`; 404 once the item is gone, and the item asked
for (its own id) with neither text nor author is a deleted comment. An answer that is not the
item (an empty `{}` from a cache or proxy) says nothing: unverifiable, never a deletion."""

from __future__ import annotations

from crawlers.parsers import ParseError
from crawlers.parsers.hackernews import parse_item
from crawlers.recheck.model import CheckContext, Fetch, Reply, Target, Verdict, http_verdict


def fetch(target: Target, ctx: CheckContext) -> Fetch | None:
    if not target.native_id.isdigit():
        return None
    return Fetch(f"{ctx.settings.base_url('hackernews')}/api/v1/items/{target.native_id}")


def judge(target: Target, reply: Reply) -> Verdict:
    refused = http_verdict("hackernews", reply)
    if refused is not None:
        return refused
    item = reply.json()
    if not isinstance(item, dict) or str(item.get("id")) != target.native_id:
        return Verdict(unverifiable="bad_shape")  # not the item asked for: an empty `{}` too
    if not item.get("author") and not (item.get("text") or item.get("title")):
        return Verdict(gone="hackernews:deleted")
    try:
        return Verdict(post=parse_item(item))
    except ParseError:
        return Verdict()
