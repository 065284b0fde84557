"""Public Telegram channel previews, replayed: `GET /s/<channel>[?before=<id>]` as HTML.

The page is the widget markup t.me serves: up to 20 `div.tgme_widget_message` blocks, oldest
first, each with `data-post="<channel>/<id>"`, the text in `.tgme_widget_message_text`, the time
in `time[datetime]`, views in `.tgme_widget_message_views` ("12.4K"), and for forwards and
replies their links. `?before=<id>` gives the 20 messages before that id. A channel without a
public preview (or none at all) is redirected to `/<channel>`, a page with no messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from spreadwatch.replay.server import ReplayApp, ReplayRequest, Reply, parse_time

PAGE_SIZE = 20
HTML = "text/html; charset=utf-8"


@dataclass
class TelegramData:
    """`channels`: name → {title, messages: [{id, datetime, views, html, forwarded_from?,
    reply_to?, time_attr?}]}; `html` is the message's inner HTML as Telegram renders it;
    `time_attr` overrides what the page shows as `time[datetime]` (a changed format)."""

    channels: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> TelegramData:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


class TelegramReplay(ReplayApp):
    name = "telegram"

    def __init__(self, data: TelegramData) -> None:
        super().__init__()
        self.data = data
        self.route("GET", r"/s/(?P<channel>\w+)", self.preview)
        self.route("GET", r"/(?P<channel>\w+)", self.channel_page)
        self.route("GET", r"/(?P<channel>\w+)/(?P<id>\d+)", self.message_embed)

    def preview(self, request: ReplayRequest) -> Reply:
        assert request.match is not None
        name = request.match["channel"]
        channel = self.data.channels.get(name)
        if channel is None:
            reply = Reply.text("", HTML, status=302, Location=f"{request.base_url}/{name}")
            reply.etag = False
            return reply
        shown = [m for m in channel["messages"] if parse_time(m["datetime"]) <= request.now]
        before = request.query.get("before")
        if before and before.isdigit():
            shown = [m for m in shown if m["id"] < int(before)]
        chunk = sorted(shown, key=lambda m: m["id"])[-PAGE_SIZE:]
        body = "\n".join(_message(name, channel["title"], m) for m in chunk)
        return Reply.text(_PAGE.format(title=escape(channel["title"]), messages=body), HTML)

    def message_embed(self, request: ReplayRequest) -> Reply:
        """One message's widget (`?embed=1`); a deleted one shows Telegram's "Post not found"."""
        assert request.match is not None
        name = request.match["channel"]
        channel = self.data.channels.get(name) or {"title": name, "messages": []}
        for message in channel["messages"]:
            if (
                str(message["id"]) == request.match["id"]
                and parse_time(message["datetime"]) <= request.now
            ):
                return Reply.text(_PAGE.format(title=escape(channel["title"]), messages=_message(name, channel["title"], message)), HTML)  # fmt: skip
        error = '<div class="tgme_widget_message_error">Post not found</div>'
        return Reply.text(_PAGE.format(title=escape(channel["title"]), messages=error), HTML)

    def channel_page(self, request: ReplayRequest) -> Reply:
        assert request.match is not None
        name = escape(request.match["channel"])
        return Reply.text(f'<html><body><div class="tgme_page"><div class="tgme_page_title">{name}</div></div></body></html>', HTML)  # fmt: skip


def _message(channel: str, title: str, message: dict[str, Any]) -> str:
    post = f"{channel}/{message['id']}"
    forwarded = ""
    if message.get("forwarded_from"):
        source = message["forwarded_from"]
        forwarded = (f'<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from '
                     f'<a class="tgme_widget_message_forwarded_from_name" href="{escape(source["href"])}">'
                     f'<span dir="auto">{escape(source["name"])}</span></a></div>')  # fmt: skip
    reply = ""
    if message.get("reply_to"):
        reply = (f'<a class="tgme_widget_message_reply" href="https://t.me/{channel}/{message["reply_to"]}">'
                 f'<div class="tgme_widget_message_text js-message_text">…</div></a>')  # fmt: skip
    return _MESSAGE.format(
        post=post, channel=channel, title=escape(title), forwarded=forwarded, reply=reply,
        html=message["html"], views=escape(str(message.get("views", ""))),
        datetime=escape(message.get("time_attr", message["datetime"])), clock=message["datetime"][11:16],
    )  # fmt: skip


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title} – Telegram</title></head>
<body class="widget_frame_base tgme_widget body_widget_post emoji_image nodark">
<section class="tgme_channel_history js-message_history">
{messages}
</section></body></html>"""

_MESSAGE = """<div class="tgme_widget_message_wrap js-widget_message_wrap">
 <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{post}">
  <div class="tgme_widget_message_bubble">
   {forwarded}{reply}
   <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="https://t.me/{channel}"><span dir="auto">{title}</span></a></div>
   <div class="tgme_widget_message_text js-message_text" dir="auto">{html}</div>
   <div class="tgme_widget_message_footer compact js-message_footer">
    <div class="tgme_widget_message_info short js-message_info">
     <span class="tgme_widget_message_views">{views}</span><span class="copyonly"> views</span>
     <span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/{post}"><time datetime="{datetime}" class="time">{clock}</time></a></span>
    </div>
   </div>
  </div>
 </div>
</div>"""
