"""m.weibo.cn, replayed: container search, user timelines, long text, and the login wall.

- `GET /api/container/getIndex?containerid=100103type%3D61%26q%3D<kw>&page_type=searchall&page=N`:
  the search's 实时 (real-time) tab, newest first; `type=1` is its 综合 (mixed) tab, which puts
  much-shared posts first whatever their age (as Weibo ranks it); another `type` is `ok: 0`.
  Page 1 wraps its posts in one `card_type: 11` group, later pages list `card_type: 9` cards;
  past the end `{"ok": 0, "msg": "这里还没有内容"}`. `containerid=107603<uid>` is a user's
  timeline, paged by `since_id` from `cardlistInfo`.
- `GET /statuses/extend?id=<id>`: `{ok: 1, data: {longTextContent}}` for `isLongText` posts.
- The login wall: without a `SUB=` cookie HTTP 432 (as since late 2025); with `expired=True`
  `{"ok": -100, "url": "https://passport.weibo.com/sso/signin?..."}`; without the
  `Referer: https://m.weibo.cn/` header 403.
- `created_at` is rendered the way Weibo writes it, relative to the replay clock (`刚刚`,
  `5分钟前`, `3小时前`, `昨天 12:00`, `10-18`, or absolute for older years).
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from spreadwatch.replay.server import ReplayApp, ReplayRequest, Reply

BEIJING = ZoneInfo("Asia/Shanghai")
#: The search's tabs (`100103type=<tab>&q=...`): 实时, newest first; 综合, most shared first.
REALTIME_TAB, MIXED_TAB = "61", "1"
PAGE_SIZE = 10
ABSOLUTE = "%a %b %d %H:%M:%S %z %Y"


@dataclass
class WeiboData:
    """`users` by uid, `mblogs` (with `user_id`, optional `retweeted_id` and `long_text`,
    `created_at` absolute), `timelines`: uid → post ids shown on that user's page."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    mblogs: list[dict[str, Any]] = field(default_factory=list)
    timelines: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> WeiboData:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


class WeiboReplay(ReplayApp):
    name = "weibo"

    def __init__(self, data: WeiboData, expired: bool = False) -> None:
        super().__init__()
        self.data = data
        self.expired = expired
        #: How `created_at` is written (tests swap in formats Weibo may start using).
        self.render_time = weibo_created_at
        self.route("GET", r"/api/container/getIndex", self.container)
        self.route("GET", r"/statuses/extend", self.extend)
        self.route("GET", r"/statuses/show", self.show)

    def dispatch(self, request: ReplayRequest) -> Reply:
        if "SUB=" not in (request.header("cookie") or ""):
            return _reply(Reply.text("", "text/html; charset=utf-8", status=432))
        if not (request.header("referer") or "").startswith("https://m.weibo.cn/"):
            return _reply(Reply.text("<html><body>403 Forbidden</body></html>", "text/html", status=403))  # fmt: skip
        if self.expired:
            return _reply(Reply.json({"ok": -100, "url": "https://passport.weibo.com/sso/signin?entry=wapsso&source=wapssowb&url=https%3A%2F%2Fm.weibo.cn%2F"}))  # fmt: skip
        return super().dispatch(request)

    def container(self, request: ReplayRequest) -> Reply:
        container = request.query.get("containerid", "")
        if container.startswith("107603"):
            return self._timeline(request, container[6:])
        if container.startswith("100103"):
            query = parse_qs(container[6:])
            words = (query.get("q") or [""])[0].casefold().split()
            found = [m for m in self._visible(request) if all(w in m["text"].casefold() for w in words)]  # fmt: skip
            tab = (query.get("type") or [""])[0]
            if tab == MIXED_TAB:
                found.sort(key=_shared, reverse=True)  # stable: newest first among equals
            elif tab != REALTIME_TAB:
                return _reply(Reply.json({"ok": 0, "msg": "参数错误"}))
            return self._search_page(request, container, found)
        return _reply(Reply.json({"ok": 0, "msg": "参数错误"}))

    def _search_page(self, request: ReplayRequest, container: str, found: list[dict[str, Any]]) -> Reply:  # fmt: skip
        page = request.int_param("page", 1)
        chunk = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        if not chunk:
            return Reply.json({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})
        cards = [self._card(m, request.now) for m in chunk]
        if page == 1:
            cards = [{"card_type": 11, "show_type": 1, "card_group": cards}]
        info = {"containerid": container, "v_p": 42, "show_style": 1, "total": len(found), "page": page + 1}  # fmt: skip
        return Reply.json({"ok": 1, "data": {"cardlistInfo": info, "cards": cards, "scheme": ""}})

    def _timeline(self, request: ReplayRequest, uid: str) -> Reply:
        if uid not in self.data.users:
            return Reply.json({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})
        ids = set(self.data.timelines.get(uid, []))
        mine = [m for m in self._visible(request) if m["id"] in ids]
        since = request.query.get("since_id")
        if since:
            mine = [m for m in mine if int(m["id"]) < int(since)]
        chunk = mine[:PAGE_SIZE]
        if not chunk:
            return Reply.json({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})
        info: dict[str, Any] = {"containerid": f"107603{uid}", "total": len(mine)}
        if len(mine) > PAGE_SIZE:
            info["since_id"] = int(chunk[-1]["id"])
        return Reply.json({"ok": 1, "data": {"cardlistInfo": info, "cards": [self._card(m, request.now) for m in chunk]}})  # fmt: skip

    def show(self, request: ReplayRequest) -> Reply:
        """One weibo; a deleted one answers `ok: 0` with Weibo's error code 20101 ("target
        weibo does not exist") and the page's message."""
        wanted = request.query.get("id", "")
        for mblog in self._visible(request):
            if wanted in (str(mblog["id"]), str(mblog.get("bid"))):
                return Reply.json({"ok": 1, "data": self._card(mblog, request.now)["mblog"]})
        return Reply.json({"ok": 0, "errno": "20101", "msg": "微博不存在或暂无查看权限!"})

    def extend(self, request: ReplayRequest) -> Reply:
        mblog = self._by_id(request.query.get("id", ""))
        if mblog is None or "long_text" not in mblog:
            return Reply.json({"ok": 0, "msg": "微博不存在或暂无查看权限"})
        return Reply.json({"ok": 1, "data": {"ok": 1, "longTextContent": mblog["long_text"], "reposts_count": mblog.get("reposts_count")}})  # fmt: skip

    def _visible(self, request: ReplayRequest) -> list[dict[str, Any]]:
        shown = [m for m in self.data.mblogs if _created(m) <= request.now]
        return sorted(shown, key=_created, reverse=True)

    def _by_id(self, post_id: str) -> dict[str, Any] | None:
        return next((m for m in self.data.mblogs if m["id"] == post_id), None)

    def _card(self, mblog: dict[str, Any], now: datetime) -> dict[str, Any]:
        return {"card_type": 9, "itemid": "", "scheme": f"https://m.weibo.cn/status/{mblog['bid']}", "mblog": self._mblog(mblog, now)}  # fmt: skip

    def _mblog(self, stored: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The stored record as the API shows it: user embedded, time as Weibo writes it."""
        mblog = {k: copy.deepcopy(v) for k, v in stored.items() if k not in ("user_id", "retweeted_id", "long_text")}  # fmt: skip
        mblog["user"] = copy.deepcopy(self.data.users[str(stored["user_id"])])
        mblog["created_at"] = self.render_time(_created(stored), now)
        original = self._by_id(stored.get("retweeted_id", ""))
        if original is not None:
            mblog["retweeted_status"] = self._mblog(original, now)
        return mblog


def weibo_created_at(created: datetime, now: datetime) -> str:
    """How m.weibo.cn writes a post's time, seen at `now` (both in Beijing time)."""
    local, today = created.astimezone(BEIJING), now.astimezone(BEIJING)
    age = now - created
    if age < timedelta(minutes=1):
        return "刚刚"
    if age < timedelta(hours=1):
        return f"{int(age.total_seconds() // 60)}分钟前"
    if age < timedelta(hours=24) and local.date() == today.date():
        return f"{int(age.total_seconds() // 3600)}小时前"
    if local.date() == (today - timedelta(days=1)).date():
        return f"昨天 {local:%H:%M}"
    if local.year == today.year:
        return f"{local:%m-%d}"
    return local.strftime(ABSOLUTE)


def _created(mblog: dict[str, Any]) -> datetime:
    return _absolute_time(mblog["created_at"])


@functools.lru_cache(maxsize=1 << 16)
def _absolute_time(text: str) -> datetime:
    """Parsed once per distinct time: every timeline or show request filters and sorts all
    stored posts by it, and `strptime` at that rate took most of the demo's replay CPU."""
    return datetime.strptime(text, ABSOLUTE)


def _shared(mblog: dict[str, Any]) -> float:
    """How much a post is shared, as the 综合 tab ranks it; counts as Weibo writes them."""
    return sum(_count(mblog.get(k)) for k in ("reposts_count", "comments_count", "attitudes_count"))  # fmt: skip


def _count(value: Any) -> float:
    """12, "2.3万", "10万+", "1亿" → a number (0 when unreadable)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value or "").rstrip("+")
    scale = {"万": 1e4, "亿": 1e8}.get(text[-1:], 1.0)
    try:
        return float(text.rstrip("万亿")) * scale
    except ValueError:
        return 0.0


def _reply(reply: Reply) -> Reply:
    reply.etag = False
    return reply
