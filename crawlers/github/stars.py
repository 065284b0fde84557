"""Stars past the ones GitHub's REST stargazers list serves.

`GET /repos/{owner}/{repo}/stargazers` (oldest first) serves a repository's first 40,000 stars
(400 pages of 100); the page past them answers 422 "In order to keep the API fast for everyone,
pagination is limited for this resource" (PyGithub/PyGithub#1876: a 40k+ repo's stargazers count
as 40,000; jgehrcke/github-repo-stats#76: 40,000 fetched in 400 requests of ~150k;
star-history/star-history#194 and MeltanoLabs/tap-github#120: that 422 body, and its `rel=last`
link leads to the same error). The list takes no `since` or `sort`, so an evidence repository
that goes viral would have every star after the 40,000th unread.

The REST walk marks its last served page as its end (`paging.Walk.served_end`), counts
`github/stars_capped` once per repo and run and names the stars past it (the repo document's
`stargazers_count` minus those served). With a token the rest is read newest first through
GraphQL, `stargazers(orderBy: {field: STARRED_AT, direction: DESC})` (the way tap-github#120
proposes), down to the newest star an earlier complete walk read (the since-value of
`stargazers-graphql:<repo>`, first set to the newest star REST served) or the window's start,
whichever is later. At most `max_pages` pages a run: a capped walk is saved as the social
spiders save theirs (`crawlers.social.SavedWalk`: its floor, the newest star it read, the
`endCursor` to go on from) and the next run finishes it before anything newer is read. GraphQL
answers its errors with HTTP 200 and an `errors` list (github/docs#22607: a rate limit is a 200
whose error has type `RATE_LIMITED`), or with 401/403/5xx: each is counted as
`github/graphql_error/<type or status>` and logged; what was read stays read, the since-value does
not move, and the pages read before it are kept as a saved walk. Its rate limit (`x-ratelimit-*`,
resource `graphql`) is waited out by `crawlers.middlewares.RateLimitMiddleware`, as REST's is.
Each star becomes the same activity as its REST record and its `WatchEvent`
(`crawlers.parsers.github.star_activity`), so a star seen twice is one document.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from crawlers.github.paging import Walk, page_number
from crawlers.github.records import dig, time_or_none
from crawlers.items import Activity, Post
from crawlers.normalise import plausible
from crawlers.parsers import github as gh
from crawlers.social import WALK_PREFIX, SavedWalk
from crawlers.spiders.base import HANDLED_STATUSES

if TYPE_CHECKING:
    from crawlers.spiders.github import GithubSpider

logger = logging.getLogger(__name__)

#: The state key (since-value, saved walk) of a repo's GraphQL walk, by its canonical name.
GRAPHQL_KEY = "stargazers-graphql:"
#: Statuses the GraphQL callback counts itself (after Scrapy's retries of a 5xx gave up).
GRAPHQL_STATUSES = [*HANDLED_STATUSES, 500, 502, 503, 504]
#: A floor for a walk with none (`history`, no star time served): before GitHub's first star.
BEFORE_GITHUB = datetime(2008, 1, 1, tzinfo=UTC)

STARS_QUERY = """\
query($owner: String!, $name: String!, $first: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    stargazers(first: $first, after: $cursor, orderBy: {field: STARRED_AT, direction: DESC}) {
      totalCount
      pageInfo { endCursor hasNextPage }
      edges { starredAt node { login databaseId } }
    }
  }
}"""


def pagination_limited(response: Response) -> bool:
    """GitHub's 422 for a page past what a list serves."""
    return response.status == 422 and b"pagination is limited" in response.body[:2000].lower()


def graphql_url(base: str) -> str:
    """The GraphQL endpoint for a REST base URL: `https://api.github.com/graphql`, and
    `https://host/api/graphql` for GitHub Enterprise's `https://host/api/v3`."""
    base = base.rstrip("/")
    path = urlsplit(base).path
    if path.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return base + "/graphql"


@dataclass
class StarWalk:
    """One repo's GraphQL walk in this run: newest first, down to `floor`."""

    repo: str  # as GitHub spells it
    key: str
    floor: datetime
    saved: SavedWalk | None
    cursor: Any = None  # the endCursor to go on from (the saved walk's, then each page's)
    newest: datetime | None = None
    read: int = 0


class StarsPastServed:
    """The stars of one crawl's repos past the REST list's served end."""

    def __init__(self, spider: GithubSpider) -> None:
        self.spider = spider
        #: `stargazers_count` of each repo document read this run, by canonical name.
        self.star_counts: dict[str, int] = {}
        self.noted: set[str] = set()

    def reached(self, walk: Walk, repo: str) -> Iterator[scrapy.Request]:
        """The REST walk of `repo`'s stargazers ended at the last page GitHub serves
        (`Walk.served_end`): counted and named once a run, and with a token the stars past it
        are read through GraphQL."""
        key = gh.canonical(repo)
        if key in self.noted:
            return
        self.noted.add(key)
        spider = self.spider
        spider.count("github/stars_capped")
        served = page_number(walk.last) * spider.per_page if walk.last is not None else 0
        total = self.star_counts.get(key)
        past = (
            f"{total - served:,}"
            if total is not None and total > served
            else "an unknown number of"
        )
        token = spider.token()
        how = (
            "read newest first through GraphQL"
            if token
            else "read with a token (SPREADWATCH_GITHUB_TOKEN or the incident's token_env) to have them"
        )
        logger.warning(
            "%s: GitHub's stargazers list serves the first %s stars; %s stars lie past it (%s)",
            repo, f"{served:,}", past, how,
        )  # fmt: skip
        state_key = GRAPHQL_KEY + key
        if walk.newest is not None and spider.state.since_time(state_key) is None:
            spider.state.advance_since(state_key, walk.newest)  # REST read every star to here
        if token:
            yield self.request(self.start(repo, state_key))

    def start(self, repo: str, key: str) -> StarWalk:
        saved = SavedWalk.from_state(self.spider.state.extra.get(WALK_PREFIX + key))
        if saved is not None:
            return StarWalk(repo, key, saved.floor, saved, saved.resume, saved.newest)
        floors = [t for t in (self.spider.state.since_time(key), self.spider.floor()) if t]
        return StarWalk(repo, key, max(floors, default=BEFORE_GITHUB), None)

    def request(self, walk: StarWalk) -> scrapy.Request:
        spider = self.spider
        owner, name = walk.repo.split("/", 1)
        variables = {"owner": owner, "name": name, "first": spider.per_page, "cursor": walk.cursor}
        return scrapy.Request(
            graphql_url(spider.base_url),
            method="POST",
            body=json.dumps({"query": STARS_QUERY, "variables": variables}),
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": spider.settings_obj.user_agent,
                "Authorization": f"Bearer {spider.token()}",
            },
            callback=self.on_page,
            errback=self.unanswered,
            cb_kwargs={"walk": walk},
            meta={"handle_httpstatus_list": GRAPHQL_STATUSES, "ratelimit_bucket": "graphql"},
            dont_filter=True,
        )

    def on_page(
        self, response: Response, walk: StarWalk
    ) -> Iterator[Post | Activity | scrapy.Request]:
        if response.status != 200:
            text = response.text[:200] if hasattr(response, "text") else ""
            self.failed(walk, str(response.status), text, response.url)
            return
        data = self.spider.json_body(response)
        errors = data.get("errors") if isinstance(data, dict) else None
        if errors:
            for error in errors if isinstance(errors, list) else [errors]:
                kind = error.get("type") if isinstance(error, dict) else None
                message = error.get("message") if isinstance(error, dict) else error
                self.failed(walk, str(kind or "unknown"), str(message)[:200], response.url)
            return
        stars = dig(data, "data", "repository", "stargazers")
        edges, info = dig(stars, "edges"), dig(stars, "pageInfo")
        if not isinstance(edges, list) or not isinstance(info, dict):
            if data is not None:
                self.spider.drop("bad_shape", response.url, "expected repository.stargazers")
            self.stopped(walk)
            return
        walk.read += 1
        reached = False
        now = self.spider.clock()
        records = self.spider.records
        for edge in edges:
            moment = time_or_none(edge.get("starredAt") if isinstance(edge, dict) else None)
            if moment is not None and moment < walk.floor:
                reached = True  # read by an earlier walk (or before the window)
                continue
            if moment is not None and plausible(moment, now):
                walk.newest = moment if walk.newest is None else max(walk.newest, moment)
            yield from records.emit(records.convert(response, gh.star_activity, edge, walk.repo))
        end = info.get("endCursor")
        if reached or info.get("hasNextPage") is not True or not isinstance(end, str):
            self.complete(walk)
            return
        walk.cursor = end
        if walk.read >= self.spider.section.max_pages:
            self.save(walk)
            self.spider.count("github/capped")
            logger.warning(
                "%s: stars past the served ones: stopped after %d GraphQL pages (max_pages); "
                "the next run goes on", walk.repo, walk.read,
            )  # fmt: skip
            return
        yield self.request(walk)

    def unanswered(self, failure: Any) -> None:
        """No answer (a dropped connection, retries spent): counted like an error reply."""
        request = failure.request
        walk = request.cb_kwargs["walk"]
        self.failed(walk, "network", str(failure.value)[:200], request.url)

    def complete(self, walk: StarWalk) -> None:
        """Down to the floor: the since-value moves to the newest star the walk read."""
        if walk.saved is not None:
            self.spider.state.delete_extra(WALK_PREFIX + walk.key)
        if walk.newest is not None:
            self.spider.state.advance_since(walk.key, walk.newest)

    def save(self, walk: StarWalk) -> None:
        """A walk stopped before its floor: the next run goes on from its `endCursor`."""
        saved = SavedWalk(walk.floor, walk.newest, walk.cursor)
        self.spider.state.set_extra(WALK_PREFIX + walk.key, saved.to_state())

    def failed(self, walk: StarWalk, kind: str, detail: str, url: str) -> None:
        self.spider.count(f"github/graphql_error/{kind}")
        logger.warning("%s: GraphQL stars page failed (%s) at %s: %s", walk.repo, kind, url, detail)
        self.stopped(walk)

    def stopped(self, walk: StarWalk) -> None:
        """A page that could not be read ends the walk; the since-value stays, and the pages
        read before it this run are kept as a saved walk, so the next run goes on below them."""
        if walk.read > 0 and walk.cursor is not None:
            self.save(walk)
