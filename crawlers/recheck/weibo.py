"""Weibo: `/statuses/show?id=` with the cookie. `ok: 0` with error code 20101 ("target weibo
does not exist") or a "deleted / no permission to view" message is a deletion; `ok: -100` and
HTTP 432 are the login wall, never a deletion. A post's relative time (`5分钟前`) is read against
when the reply came on the crawl's clock (`Reply.received_at`), as the Weibo spider reads it."""

from __future__ import annotations

from urllib.parse import urlencode

from crawlers.parsers import ParseError
from crawlers.parsers.weibo import parse_mblog
from crawlers.recheck.model import CheckContext, Fetch, Reply, Target, Verdict, http_verdict

#: Weibo's error codes for a post that is no more (open.weibo.com error code table).
GONE_CODES = {"20101": "weibo:deleted", "20112": "weibo:hidden_by_author", "20132": "weibo:deleted"}
GONE_WORDS = ("不存在", "已被删除", "已删除", "暂无查看权限")


def fetch(target: Target, ctx: CheckContext) -> Fetch | None:
    headers = {"Referer": "https://m.weibo.cn/", "X-Requested-With": "XMLHttpRequest"}
    cookie = ctx.settings.secret("weibo_cookie") or ctx.secrets.get("weibo_cookie")
    if cookie:
        headers["Cookie"] = cookie
    return Fetch(f"{ctx.settings.base_url('weibo')}/statuses/show?{urlencode({'id': target.native_id})}", headers)  # fmt: skip


def judge(target: Target, reply: Reply) -> Verdict:
    if reply.status == 432:
        return Verdict(unverifiable="login_needed")
    refused = http_verdict("weibo", reply)
    if refused is not None:
        return refused
    payload = reply.json()
    if not isinstance(payload, dict):
        return Verdict(unverifiable="bad_json")
    if payload.get("ok") == -100:
        return Verdict(unverifiable="login_needed")
    if payload.get("ok") != 1:
        code, message = str(payload.get("errno", "")), str(payload.get("msg", ""))
        if code in GONE_CODES:
            return Verdict(gone=GONE_CODES[code])
        if any(word in message for word in GONE_WORDS):
            return Verdict(gone="weibo:deleted")
        return Verdict(unverifiable=f"weibo_error_{code or 'unknown'}")
    try:
        posts = parse_mblog(payload.get("data"), reply.received_at)
    except ParseError:
        return Verdict()
    return Verdict(post=next((p for p in posts if p.native_id == target.native_id), None))
