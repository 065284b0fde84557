"""Hacker News through Algolia: stories and comments by date, and the comment trees of stories.

`search_by_date` returns at most ~1,000 hits per query, so a time range whose `nbHits` exceed
that (or what `max_pages` pages hold, if fewer) is split in two by `created_at_i` until each
half fits. A term's since-value moves only when every slice was read to its end. Each matched
story's whole tree (`/api/v1/items/:id`) is fetched so the discussion comes along as replies,
even the comments that do not repeat the search words. Algolia needs no key and sends no
rate-limit headers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from crawlers.parsers import ParseError
from crawlers.parsers.hackernews import parse_hit, parse_item_tree
from crawlers.social import SocialSpider

logger = logging.getLogger(__name__)

HIT_CAP = 1000
HITS_PER_PAGE = 100
SMALLEST_WINDOW = timedelta(minutes=10)


class HackerNewsSpider(SocialSpider):
    name = "hackernews"
    source = "hackernews"

    def initial_requests(self) -> list[scrapy.Request]:
        end = self.window_end()
        requests = []
        for term in self.terms():
            self.walk_started(term)
            requests.append(self._search(term, self.window_start(term), end, 0))
        return requests

    def _search(self, term: str, start: datetime, end: datetime, page: int) -> scrapy.Request:
        query = {
            "query": term,
            "tags": "(story,comment)",
            "numericFilters": f"created_at_i>={int(start.timestamp())},created_at_i<{int(end.timestamp())}",
            "hitsPerPage": HITS_PER_PAGE,
            "page": page,
        }
        url = f"{self.base_url}/api/v1/search_by_date?{urlencode(query)}"
        meta = {"term": term, "start": start, "end": end, "page": page}
        return self.request(url, self.parse_search, meta=meta)

    def parse_search(self, response: Response) -> Iterator[Any]:
        if self.unchanged(response):
            return
        payload = self.json_body(response)
        if payload is None:
            return
        meta = response.meta
        term, start, end = meta["term"], meta["start"], meta["end"]
        hits = payload.get("hits") if isinstance(payload, dict) else None
        if not isinstance(hits, list):
            self.drop("bad_shape", response.url, "no hits list")
            return
        nb_hits = payload.get("nbHits") if isinstance(payload.get("nbHits"), int) else 0
        max_pages = self.section.max_pages if self.section else 1
        if meta["page"] == 0 and nb_hits > min(HIT_CAP, max_pages * HITS_PER_PAGE) and end - start > SMALLEST_WINDOW:  # fmt: skip
            middle = start + (end - start) / 2
            self.count("hackernews/window_split")
            for _half in range(2):
                self.walk_started(term)
            yield self._search(term, start, middle, 0)
            yield self._search(term, middle, end, 0)
            self.walk_ended(term, complete=True)  # handed to its two halves
            return
        yield from self._hits(hits, term, response.url)
        pages = payload.get("nbPages") if isinstance(payload.get("nbPages"), int) else 0
        read = (meta["page"] + 1) * HITS_PER_PAGE
        if not hits or meta["page"] + 1 >= pages:
            self.walk_ended(term, complete=nb_hits <= read or not hits)  # Algolia serves ~1,000
        elif meta["page"] + 1 >= max_pages:
            self.walk_ended(term, complete=False)
        else:
            yield self._search(term, start, end, meta["page"] + 1)

    def _hits(self, hits: list[Any], term: str, url: str) -> Iterator[Any]:
        posts = []
        for hit in hits:
            try:
                post = parse_hit(hit)
            except ParseError as error:
                self.drop("bad_record", url, error)
                continue
            posts.append(post)
            yield self.finish(post, term)
            if post.kind == "post" and getattr(self.section, "comment_trees", False):
                yield self.request(
                    f"{self.base_url}/api/v1/items/{post.native_id}",
                    self.parse_tree,
                    meta={"term": term},
                )
        self.walk_page(term, posts)

    def parse_tree(self, response: Response) -> Iterator[Any]:
        if self.unchanged(response):
            return
        payload = self.json_body(response)
        if payload is None:
            return
        try:
            comments, errors = parse_item_tree(payload)
        except ParseError as error:
            self.drop("bad_record", response.url, error)
            return
        for problem in errors:
            self.drop("bad_record", response.url, problem)
        for comment in comments:
            comment.always_keep = True  # the discussion of a matched story belongs to the spread
            yield self.finish(comment, response.meta["term"])
