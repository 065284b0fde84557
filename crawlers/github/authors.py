"""Authors' follower counts: asked once a run per login, cached in the crawl state.

A commit post carries its author's follower count (its reach). Profiles are asked conditionally
(`GET /users/{login}`, a 304 costs nothing), at most once per login and page of records: the
posts that wait for a count travel with the profile request that yields them, so the checkpoint
of the page that found them covers them too. Counts are kept in the state's `extra` under
`github:followers:<login>`, so a 304 still gives the count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import Response

from crawlers.github.records import Waiting
from crawlers.items import Activity, Post
from crawlers.parsers import github as gh

if TYPE_CHECKING:
    from crawlers.spiders.github import GithubSpider

PREFIX = "github:followers:"

Item = Post | Activity | scrapy.Request


class Authors:
    """The follower counts one crawl knows (from the state) and has asked this run (`fresh`)."""

    def __init__(self, spider: GithubSpider) -> None:
        self.spider = spider
        self.followers: dict[str, int] = {
            key.removeprefix(PREFIX): value
            for key, value in spider.state.extra.items()
            if key.startswith(PREFIX) and isinstance(value, int)
        }
        self.fresh: set[str] = set()

    def deliver(self, handled: Iterable[Item | Waiting]) -> Iterator[Item]:
        """Items as they come; posts waiting for a follower count go with one profile request
        per login, unless this run already asked that profile."""
        waiting: dict[str, list[Post]] = {}
        for item in handled:
            if not isinstance(item, Waiting):
                yield item
                continue
            login = gh.canonical(item.login)
            if login in self.followers and login in self.fresh:
                item.post.author.followers = self.followers[login]
                yield item.post
            else:
                waiting.setdefault(item.login, []).append(item.post)
        for login, posts in waiting.items():
            yield self.spider.api(f"/users/{login}", self.parse_author, login=login, posts=posts)

    def parse_author(self, response: Response, login: str, posts: list[Post]) -> Iterator[Item]:
        """A commit author's profile: the follower count reaches the waiting posts."""
        retry = self.profile(response, login, self.parse_author)
        if retry is not None:
            yield retry.replace(cb_kwargs={"login": login, "posts": posts})
            return
        for post in posts:
            post.author.followers = self.followers.get(gh.canonical(login))
            yield post

    def profile(
        self, response: Response, login: str, callback: Callable[..., Any]
    ) -> scrapy.Request | None:
        """Read a profile's follower count into the cache (and the state); a request for the
        profile itself (to `callback`) when a 304 finds nothing cached."""
        spider, key = self.spider, gh.canonical(login)
        if response.status == 304:
            spider.count("not_modified")
            if key not in self.followers:
                return spider.api(f"/users/{login}", callback, conditional=False, login=login)
            self.fresh.add(key)
            return None
        if spider.unchanged(response):
            return None
        data = spider.json_body(response)
        followers = data.get("followers") if isinstance(data, dict) else None
        if isinstance(followers, int):
            self.fresh.add(key)
            if self.followers.get(key) != followers:
                spider.state.set_extra(PREFIX + key, followers)
            self.followers[key] = followers
            spider.remember_rel(response)
        elif data is not None:
            spider.drop("bad_record", response.url, "user without a followers count")
        return None
