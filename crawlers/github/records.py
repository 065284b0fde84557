"""What the GitHub spider does with each record of each list: the window rule, the keep rule,
following, and the chains that complete a commit (its detail, its author's followers).

Used by `crawlers.spiders.github.GithubSpider`; every handler yields items, requests, or
`Waiting` posts (posts that wait for their author's follower count, asked once per login and
page by the walk engine).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import Response

from crawlers.github.paging import ListSpec
from crawlers.items import Activity, Author, Post
from crawlers.parsers import github as gh
from crawlers.parsers.common import ParseError, from_iso

if TYPE_CHECKING:
    from crawlers.spiders.github import GithubSpider

Item = Post | Activity | scrapy.Request


@dataclass
class Waiting:
    """A post to deliver once its author's follower count is known."""

    post: Post
    login: str


Handled = Iterator["Item | Waiting"]


def time_or_none(value: Any) -> datetime | None:
    """An ISO time, or None when it is missing or unreadable (a record is timed by it)."""
    try:
        return from_iso(value, "time")
    except ParseError:
        return None


def dig(record: Any, *path: str) -> Any:
    """The value at `path` in nested objects, or None where a step is missing or not one."""
    for key in path:
        record = record.get(key) if isinstance(record, dict) else None
    return record


@dataclass(frozen=True)
class RecordKind:
    """How one list's records are timed (its sort order) and handled, and where they sit."""

    time_of: Callable[[Any], datetime | None]
    handle: str  # name of the GithubRecords method
    list_key: str | None = None  # search results sit under "items"


KINDS: dict[str, RecordKind] = {
    "search-repositories": RecordKind(
        lambda r: time_or_none(dig(r, "updated_at")), "on_search_repo", "items"
    ),
    "search-issues": RecordKind(
        lambda r: time_or_none(dig(r, "created_at")), "on_search_issue", "items"
    ),
    "search-commits": RecordKind(
        lambda r: time_or_none(dig(r, "commit", "committer", "date")), "on_search_commit", "items"
    ),
    "events": RecordKind(lambda r: time_or_none(dig(r, "created_at")), "on_event"),
    "user-events": RecordKind(lambda r: time_or_none(dig(r, "created_at")), "on_user_event"),
    "forks": RecordKind(lambda r: time_or_none(dig(r, "created_at")), "on_fork"),
    "stars": RecordKind(lambda r: time_or_none(dig(r, "starred_at")), "on_star"),
    "issues": RecordKind(lambda r: time_or_none(dig(r, "updated_at")), "on_issue"),
    "comments": RecordKind(lambda r: time_or_none(dig(r, "updated_at")), "on_comment"),
    "review-comments": RecordKind(
        lambda r: time_or_none(dig(r, "updated_at")), "on_review_comment"
    ),
    "commits": RecordKind(
        lambda r: time_or_none(dig(r, "commit", "committer", "date")), "on_commit"
    ),
}


class GithubRecords:
    """The record handlers of one crawl of `spider`."""

    def __init__(self, spider: GithubSpider) -> None:
        self.spider = spider

    # The window rule.

    def in_window(self, item: Post | Activity) -> bool:
        """Inside the incident's window; before it only with `history` (then marked)."""
        when = item.timestamp
        window = self.spider.incident.window
        if not isinstance(when, datetime):
            return True  # the pipeline rejects unreadable times with its own count
        if window.end is not None and when > window.end:
            self.spider.count("dropped/outside_window")
            return False
        if when < window.start:
            if not self.spider.section.history:
                self.spider.count("dropped/outside_window")
                return False
            item.before_window = True
        return True

    # The keep rule (the pipeline's matcher decides for everything not kept outright).

    def matches(self, post: Post) -> bool:
        return self.spider.matcher.match(post.title, post.text).matched

    def mark(self, post: Post) -> Post:
        """Official authors are flagged; items of `keep_all` repos are kept without a match; a
        matching item of a followed repo renews that repo's follow."""
        gh_official = self.spider.incident.official
        if gh_official and gh_official.is_official("github", post.author.handle, post.author.id):
            post.author.official = post.official = True
        if self.spider.registry.keeps_all(post.repo):
            post.always_keep = True
        elif post.repo and self.spider.registry.get(post.repo) and self.matches(post):
            self.spider.registry.matched(post.repo)
        return post

    def convert(self, response: Response, parse: Any, *args: Any) -> Any | None:
        try:
            return parse(*args)
        except ParseError as error:
            self.spider.drop("bad_record", response.url, error)
            return None

    def emit(self, item: Post | Activity | None) -> Iterator[Post | Activity]:
        if item is not None and self.in_window(item):
            yield self.mark(item) if isinstance(item, Post) else item

    # Activity.

    def on_event(self, response: Response, record: Any, **_: Any) -> Handled:
        yield from self.emit(self.convert(response, gh.event_activity, record))

    def on_user_event(self, response: Response, record: Any, **_: Any) -> Handled:
        """A watched user's event; a repo the user owns is followed (`owner`)."""
        yield from self.on_event(response, record)
        name = gh.event_repo(record)
        owner = gh.canonical(name.split("/")[0]) if name else None
        if (
            name
            and owner in self.spider.watched_users
            and self.spider.section.follow_found_repos
            and self.spider.registry.follow(name, "owner") is not None
        ):
            yield from self.spider.follow(name)

    def on_star(self, response: Response, record: Any, repo: str) -> Handled:
        yield from self.emit(self.convert(response, gh.star_activity, record, repo))

    def on_fork(self, response: Response, record: Any, repo: str) -> Handled:
        yield from self.emit(self.convert(response, gh.fork_activity, record, repo))

    # Issues, pull requests, comments.

    def on_issue(self, response: Response, record: Any, repo: str) -> Handled:
        post = self.convert(response, gh.issue_post, record, repo, self.spider.followers)
        for item in self.emit(post):
            yield item
            if isinstance(item, Post) and item.kind == "pull_request" and self.matches(item):
                yield from self.pull_commits(repo, record)

    def pull_commits(self, repo: str, record: Any) -> Iterator[scrapy.Request]:
        """The commits of a matching pull request (oldest first, at most 250)."""
        number = record.get("number")
        spec = ListSpec(
            f"pull-commits:{gh.canonical(repo)}#{number}",
            f"/repos/{repo}/pulls/{number}/commits?per_page={self.spider.per_page}",
            newest_first=False,
        )
        yield from self.spider.start_walk(spec, "commits", repo=repo)

    def on_comment(self, response: Response, record: Any, repo: str) -> Handled:
        yield from self.emit(
            self.convert(response, gh.comment_post, record, repo, self.spider.followers)
        )

    def on_review_comment(self, response: Response, record: Any, repo: str) -> Handled:
        post = self.convert(response, gh.review_comment_post, record, repo, self.spider.followers)
        yield from self.emit(post)

    # Commits: the evidence. Matching ones get their detail (files touched); every kept one its
    # author's follower count.

    def on_commit(self, response: Response, record: Any, repo: str) -> Handled:
        post = self.convert(response, gh.commit_post, record, repo, self.spider.followers)
        for item in self.emit(post):
            yield from self.complete_commit(item, repo)

    def complete_commit(self, post: Any, repo: str) -> Handled:
        matching = self.matches(post)
        if not (matching or post.always_keep):
            yield post  # the pipeline counts it as no_match
        elif matching and not (post.commit or {}).get("files"):
            sha = post.native_id.rsplit("@", 1)[1]
            yield self.spider.api(
                f"/repos/{repo}/commits/{sha}", self.parse_commit_detail, post=post
            )
        else:
            yield from self.with_followers(post)

    def parse_commit_detail(self, response: Response, post: Post) -> Iterator[Item]:
        """A matching commit's detail: the files it touched. A 304 means the commit (which never
        changes) was indexed with its files by the run that stored the ETag."""
        if response.status == 304:
            self.spider.count("not_modified")
            return
        if not self.spider.unchanged(response):  # a refused detail: the commit goes without
            data = self.spider.json_body(response)
            if isinstance(data, dict):
                post.commit = gh.commit_facts(data)
                self.spider.remember_rel(response)
        yield from self.spider.deliver(self.with_followers(post))

    def with_followers(self, post: Post) -> Handled:
        login = post.author.handle
        if login is None or post.author.followers is not None:
            yield post
        else:
            yield Waiting(post, login)

    # Search hits: kept when they match (the pipeline decides); their repos are checked.

    def on_search_repo(self, response: Response, record: Any, query: str) -> Handled:
        post = self.convert(response, gh.repo_post, record, self.spider.followers)
        if post is None:
            return
        post.source_query = query
        yield from self.emit(post)
        yield from self.consider(post.title or post.repo or "", post)

    def on_search_issue(self, response: Response, record: Any, query: str) -> Handled:
        repo = self.convert(response, gh.repo_of_api_url, gh.search_issue_repo_url(record))
        post = (
            self.convert(response, gh.issue_post, record, repo, self.spider.followers)
            if repo
            else None
        )
        if post is None or repo is None:
            return
        post.source_query = query
        yield from self.emit(post)
        if self.matches(post):
            yield from self.consider(repo)

    def on_search_commit(self, response: Response, record: Any, query: str) -> Handled:
        post = self.convert(response, gh.commit_post, record, None, self.spider.followers)
        if post is None:
            return
        post.source_query = query
        repo = str(dig(record, "repository", "full_name"))  # commit_post required it
        for item in self.emit(post):
            yield from self.complete_commit(item, repo)
        if self.matches(post):
            yield from self.consider(repo)

    # Repos behind search hits.

    def consider(self, name: str, found: Post | None = None) -> Iterator[scrapy.Request]:
        """A repo behind a search hit: followed when it matches the incident itself (name and
        description, else its README), checked at most once a run."""
        key = gh.canonical(name)
        if (
            not self.spider.section.follow_found_repos
            or self.spider.registry.get(name)
            or key in self.spider.checked
        ):
            return
        self.spider.checked.add(key)
        if found is not None and self.matches(found):
            if self.spider.registry.follow(name, "matched") is not None:
                yield from self.spider.follow(name)
            return
        yield self.spider.api(f"/repos/{name}", self.parse_candidate, repo=name)

    def parse_candidate(self, response: Response, repo: str) -> Iterator[Item]:
        if self.spider.unchanged(response):
            return  # unchanged since it was last checked (and found not to match)
        data = self.spider.json_body(response)
        post = self.convert(response, gh.repo_post, data) if data is not None else None
        if post is None:
            return
        self.spider.remember_rel(response)
        if self.matches(post):
            if self.spider.registry.follow(repo, "matched") is not None:
                yield from self.emit(post)
                yield from self.spider.follow(repo)
            return
        yield self.spider.api(f"/repos/{repo}/readme", self.parse_candidate_readme, repo=repo)

    def parse_candidate_readme(self, response: Response, repo: str) -> Iterator[Item]:
        if response.status == 404 or self.spider.unchanged(response):
            return
        data = self.spider.json_body(response)
        post = self.convert(response, gh.readme_post, data, repo, Author())
        if post is None:
            return
        self.spider.remember_rel(response)
        if self.matches(post) and self.spider.registry.follow(repo, "matched") is not None:
            yield from self.spider.follow(repo)
