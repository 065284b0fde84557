"""Telegram public channels: the message's embed widget (`t.me/<channel>/<id>?embed=1`); a
deleted message shows the widget's "Post not found" error."""

from __future__ import annotations

from crawlers.parsers import ParseError
from crawlers.parsers.telegram import parse_channel_page
from crawlers.recheck.model import CheckContext, Fetch, Reply, Target, Verdict, http_verdict


def fetch(target: Target, ctx: CheckContext) -> Fetch | None:
    channel, _, number = target.native_id.partition("/")
    if not number.isdigit():
        return None
    return Fetch(f"{ctx.settings.base_url('telegram')}/{channel}/{number}?embed=1&mode=tme")


def judge(target: Target, reply: Reply) -> Verdict:
    refused = http_verdict("telegram", reply)
    if refused is not None:
        return refused
    if "tgme_widget_message_error" in reply.text:
        return Verdict(gone="telegram:not_found")
    channel = target.native_id.partition("/")[0]
    try:
        posts, _ = parse_channel_page(reply.text, channel)
    except ParseError:
        return Verdict()
    return Verdict(post=next((p for p in posts if p.native_id == target.native_id), None))
