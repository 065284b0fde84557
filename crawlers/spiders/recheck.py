"""Re-checks the incident's posts of interest: deleted since we saw them, or edited?

The targets are the file the re-check job wrote (`evidence.recheck.prepare`; spiders never talk to
Elasticsearch). For each, the platform's checker (`crawlers.recheck`) fetches the post as it is
now and judges the reply. A post gone is yielded as a `Post` with `deleted_how` (the ingest core
turns it into a deletion notice and archives the reply that showed it gone); a post still there is
yielded as read, so the ingest core sees a changed text as an edit; an unverifiable reply (login
wall, refusal) is counted, never taken for a deletion.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.items import Post
from crawlers.parsers.common import flag_official
from crawlers.recheck import CheckContext, Reply, Target, checker
from crawlers.social import API_SETTINGS
from crawlers.spiders.base import IncidentSpider
from evidence.recheck import read_targets, targets_path

logger = logging.getLogger(__name__)


class RecheckSpider(IncidentSpider):
    name = "recheck"
    source = ""  # no section of its own: it re-reads what the other sources found
    # One request per post to the platforms' APIs: paced by their rate-limit headers (the
    # middleware), like the other API spiders; robots.txt governs crawling pages, not re-reading
    # single known URLs.
    custom_settings = API_SETTINGS

    async def start(self) -> AsyncIterator[Any]:
        path = targets_path(self.settings_obj.data_dir, self.incident.id)
        targets = [t for t in map(_target, read_targets(path)) if t is not None]
        if not targets:
            self.count("recheck/no_targets")
            logger.warning("recheck: no posts to re-check for %s (run `spreadwatch evidence recheck`)", self.incident.id)  # fmt: skip
            return
        self.count("recheck/targets", len(targets))
        ctx = CheckContext(self.settings_obj)
        reddit = [t for t in targets if t.platform == "reddit"]
        token_request = self._reddit_token(reddit, ctx) if reddit else None
        for target in targets:
            if target.platform == "reddit" and token_request is not None:
                continue
            request = self._request(target, ctx)
            if request is not None:
                yield request
        if token_request is not None:
            yield token_request

    def _request(self, target: Target, ctx: CheckContext) -> scrapy.Request | None:
        fetch = checker(target.platform).fetch(target, ctx)
        if fetch is None:
            self.count(f"recheck/unsupported/{target.platform}")
            return None
        return scrapy.Request(
            fetch.url,
            callback=self.parse_reply,
            headers={"User-Agent": self.settings_obj.user_agent, **fetch.headers},
            meta={"target": target, "handle_httpstatus_all": True},
            dont_filter=True,
        )

    def _reddit_token(self, targets: list[Target], ctx: CheckContext) -> scrapy.Request | None:
        """Reddit's API needs an application token when credentials are configured."""
        client_id = self.settings_obj.reddit_client_id
        secret = self.settings_obj.secret("reddit_client_secret")
        if not (client_id and secret):
            return None
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return scrapy.FormRequest(
            f"{self.settings_obj.base_url('reddit_auth')}/api/v1/access_token",
            formdata={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}", "User-Agent": self.settings_obj.user_agent},
            callback=self.parse_token,
            cb_kwargs={"targets": targets, "ctx": ctx},
            meta={"handle_httpstatus_list": [400, 401, 403, 429]},
            dont_filter=True,
        )

    def parse_token(self, response: Response, targets: list[Target], ctx: CheckContext) -> Iterator[Any]:  # fmt: skip
        payload = self.json_body(response) if response.status == 200 else None
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if isinstance(token, str):
            ctx.secrets["reddit_token"] = token
        else:
            self.count("recheck/unverifiable/reddit_token_refused")
        for target in targets:
            request = self._request(target, ctx)
            if request is not None:
                yield request

    def parse_reply(self, response: Response) -> Iterator[Any]:
        target: Target = response.meta["target"]
        headers = {k.decode("latin-1"): v[0].decode("latin-1") for k, v in response.headers.items() if v}  # fmt: skip
        reply = Reply(response.status, response.body, headers, received_at=self.clock())
        verdict = checker(target.platform).judge(target, reply)
        self.count("recheck/checked")
        if verdict.unverifiable:
            self.count(f"recheck/unverifiable/{verdict.unverifiable}")
            logger.warning("recheck: %s unverifiable (%s)", target.doc_id, verdict.unverifiable)
        elif verdict.gone:
            self.count("recheck/gone")
            logger.info("recheck: %s is gone (%s)", target.doc_id, verdict.gone)
            yield Post(
                platform=target.platform,
                native_id=target.native_id,
                timestamp=self.clock(),
                kind=target.kind,
                url=target.url,
                deleted_how=verdict.gone,
            )
        elif verdict.post is not None and verdict.post.doc_id == target.doc_id:
            self.count("recheck/present")
            post = verdict.post
            post.always_keep = True  # a post of interest stays, whatever the queries say now
            if post.timestamp is None:
                post.timestamp = target.timestamp
            yield flag_official(post, self.incident.official)
        else:
            self.count("recheck/present")


def _target(data: dict[str, Any]) -> Target | None:
    try:
        return Target(
            platform=str(data["platform"]),
            native_id=str(data["native_id"]),
            kind=str(data.get("kind") or "post"),
            url=data.get("url"),
            repo=data.get("repo"),
            timestamp=data.get("timestamp"),
        )
    except KeyError:
        return None
