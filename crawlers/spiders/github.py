"""GitHub: searches, watched and found repositories, watched users.

Searches (repositories, issues, commits) run for the incident's terms and the configured
searches. Every watched repo, and every repo a search or a watched user's `CreateEvent` finds,
is followed: metadata (stars, forks: refreshed every run), README (fetched when the metadata
changed, i.e. after a push), events, stargazers with `starred_at`, forks, issues and comments.
Watched users: profile (followers) and public events. Every request is conditional on the ETag
the last run stored (a 304 is free against the rate limit); lists are paged by `Link rel=next`
and stop at what the last run already saw: `since` for issues and comments, the newest time seen
for newest-first lists (events, forks, search), the last page for oldest-first stargazers.
The `refresh` window of the source section reaches back from the newest update seen: issues,
comments and search hits within it are fetched again so their counts stay current.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from crawlers.items import Activity, Author, Post
from crawlers.parsers import github as gh
from crawlers.parsers.common import ParseError, from_iso
from crawlers.spiders.base import HANDLED_STATUSES, IncidentSpider
from spreadwatch.sources import GithubSource

API_VERSION = "2022-11-28"
JSON_MEDIA = "application/vnd.github+json"
STAR_MEDIA = "application/vnd.github.star+json"
#: At most this many repositories are followed per crawl (each costs ~7 requests).
MAX_FOLLOWED = 50
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_SEARCH_SORT = {"repositories": "updated", "issues": "created", "commits": "committer-date"}

Item = Post | Activity | scrapy.Request


class GithubSpider(IncidentSpider):
    name = "github"
    source = "github"
    section: GithubSource
    #: An API, not a website: GitHub's own limits (x-ratelimit-*, obeyed by the middleware) pace
    #: it, not the HTML politeness delay; 4 at a time stays far below the secondary limit (100).
    custom_settings = {  # noqa: RUF012 (Scrapy's own class attribute)
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
        # api.github.com/robots.txt disallows everything: it is meant for web crawlers, while
        # the REST API is governed by its terms and the rate limits obeyed above.
        "ROBOTSTXT_OBEY": False,
    }

    def configure(self, crawler: Any) -> None:
        super().configure(crawler)
        self.followed: set[str] = set()
        self.watched = {r.lower() for r in getattr(self.section, "repos", [])}
        self.watched_users = {u.lower() for u in getattr(self.section, "users", [])}
        self.followers: dict[str, int] = {
            k.split(":", 1)[1]: v
            for k, v in self.state.cursors.items()
            if k.startswith("followers:")
        }

    # Requests.

    def token(self) -> str | None:
        """The settings' token, else the incident's `token_env` variable; none is fine (60/h)."""
        token = self.settings_obj.secret("github_token")
        if not token and self.section is not None:
            token = os.environ.get(self.section.token_env) or None
        return token

    def api(
        self, path: str, callback: Any, accept: str = JSON_MEDIA, **cb_kwargs: Any
    ) -> scrapy.Request:
        url = path if path.startswith("http") else self.base_url + path
        headers = {
            "Accept": accept,
            "User-Agent": self.settings_obj.user_agent,
            "X-GitHub-Api-Version": API_VERSION,
            **self.state.conditional_headers(url),
        }
        token = self.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return scrapy.Request(
            url,
            callback=callback,
            headers=headers,
            cb_kwargs=cb_kwargs,
            meta={"handle_httpstatus_list": HANDLED_STATUSES},
        )

    def initial_requests(self) -> list[scrapy.Request]:
        """Watched users' profiles first: their follower counts then reach every post of theirs
        found in this run; the rest starts once each profile has answered (or failed)."""
        if not self.section.users:
            return self.main_requests()
        self.profiles_pending = len(self.section.users)
        return [
            self.api(f"/users/{login}", self.parse_user, login=login).replace(
                errback=self.profile_failed, cb_kwargs={"login": login}
            )
            for login in self.section.users
        ]

    def main_requests(self) -> list[scrapy.Request]:
        requests = [
            self.api(
                f"/search/{kind}?{urlencode(params)}", self.parse_search, kind=kind, query=query
            )
            for kind, query in self.searches()
            for params in [
                {"q": query, "sort": _SEARCH_SORT[kind], "order": "desc", "per_page": 100}
            ]
        ]
        for login in self.section.users:
            requests.append(
                self.api(
                    f"/users/{login}/events/public?per_page=100",
                    self.parse_events,
                    key=f"user-events:{login.lower()}",
                )
            )
        for repo in self.section.repos:
            requests.extend(self.follow(repo))
        # Repos found by earlier runs are refreshed even when their search now answers 304.
        for repo in self.state.cursors.get("found_repos", []):
            requests.extend(self.follow(repo))
        return requests

    def profile_done(self) -> list[scrapy.Request]:
        self.profiles_pending -= 1
        return self.main_requests() if self.profiles_pending == 0 else []

    def profile_failed(self, failure: Any) -> list[scrapy.Request]:
        """A profile that could not be fetched (network error) must not stall the crawl."""
        self.drop("request_failed", getattr(failure.request, "url", "?"), failure.value)
        return self.profile_done()

    def follow_found(self, repo: str) -> list[scrapy.Request]:
        """Follow a repo a search or a CreateEvent found, and remember it for later runs."""
        found = list(self.state.cursors.get("found_repos", []))
        if repo not in found and len(found) < MAX_FOLLOWED:
            self.state.set_cursor("found_repos", [*found, repo])
        return self.follow(repo)

    def searches(self) -> list[tuple[str, str]]:
        """(kind, query) pairs: the configured searches, then the incident's terms (deduplicated)."""
        pairs: dict[tuple[str, str], None] = {}
        for search in self.section.searches:
            for kind in search.types:
                pairs[(kind, search.query)] = None
        for term in self.section.terms or self.incident.search_terms():
            for kind in ("repositories", "issues", "commits"):
                pairs[(kind, term)] = None
        return list(pairs)

    def follow(self, repo: str) -> list[scrapy.Request]:
        """The requests that watch one repository, once per crawl and at most MAX_FOLLOWED."""
        key = repo.lower()
        if key in self.followed or len(self.followed) >= MAX_FOLLOWED:
            return []
        self.followed.add(key)
        issues_since = self.refresh_since(f"issues:{key}")
        comments_since = self.refresh_since(f"comments:{key}")
        stars = (
            self.state.cursors.get(f"stargazers:{key}") or f"/repos/{repo}/stargazers?per_page=100"
        )
        return [
            self.api(f"/repos/{repo}", self.parse_repo, repo=repo),
            self.api(
                f"/repos/{repo}/events?per_page=100", self.parse_events, key=f"repo-events:{key}"
            ),
            self.api(stars, self.parse_stargazers, accept=STAR_MEDIA, repo=repo),
            self.api(f"/repos/{repo}/forks?sort=newest&per_page=100", self.parse_forks, repo=repo),
            self.api(
                _since_path(f"/repos/{repo}/issues?state=all&per_page=100", issues_since),
                self.parse_issues,
                repo=repo,
            ),
            self.api(
                _since_path(f"/repos/{repo}/issues/comments?per_page=100", comments_since),
                self.parse_comments,
                repo=repo,
            ),
        ]

    def next_page(
        self, response: Response, callback: Any, **cb_kwargs: Any
    ) -> Iterator[scrapy.Request]:
        """The `Link rel=next` page, within `max_pages` of the first."""
        page = int(response.meta.get("page", 1))
        link = response.headers.get("Link")
        match = _NEXT.search(link.decode("latin-1")) if link else None
        if match and page < self.section.max_pages:
            request = self.api(
                match.group(1),
                callback,
                accept=_accept_of(response),
                **cb_kwargs,
            )
            request.meta["page"] = page + 1
            yield request

    # Helpers shared by callbacks.

    def records(self, response: Response, list_key: str | None = None) -> list[Any] | None:
        """The response's list of records (top level or under `list_key`), or None if unusable."""
        if self.unchanged(response):
            return None
        data = self.json_body(response)
        if data is None:
            return None
        records = data.get(list_key) if list_key and isinstance(data, dict) else data
        if not isinstance(records, list):
            self.drop(
                "bad_shape", response.url, f"expected a list{' in ' + list_key if list_key else ''}"
            )
            return None
        if list_key and isinstance(data, dict) and data.get("incomplete_results"):
            self.count("github/incomplete_results")
        return records

    def convert(self, response: Response, record: Any, parse: Any, *args: Any) -> Any | None:
        try:
            return parse(record, *args)
        except ParseError as error:
            self.drop("bad_record", response.url, error)
            return None

    def mark(self, post: Post, repo: str | None = None) -> Post:
        """Official authors and watched sources are kept even without a query match."""
        official = self.incident.official
        if official and official.is_official("github", post.author.handle, post.author.id):
            post.author.official = post.official = True
        watched = (repo or "").lower() in self.watched or (
            post.author.handle or ""
        ).lower() in self.watched_users
        post.always_keep = (
            post.always_keep or post.official or watched or (repo or "").lower() in self.followed
        )
        return post

    def refresh_since(self, key: str) -> str | None:
        """`since` for a list: the last run's newest update minus the refresh window, so recent
        issues and comments come again with fresh counts (and the URL, hence its ETag, stays
        the same while nothing new arrives)."""
        cutoff = self.cutoff(key)
        return cutoff.isoformat() if cutoff else None

    def cutoff(self, key: str) -> datetime | None:
        """Stop paging at records older than the last run's newest, minus the refresh window."""
        since = self.state.since_time(key)
        return since - self.section.refresh if since else None

    def advance(self, key: str, times: list[datetime]) -> None:
        if times:
            self.state.advance_since(key, max(times))

    # Callbacks.

    def parse_search(self, response: Response, kind: str, query: str) -> Iterator[Item]:
        records = self.records(response, "items")
        if records is None:
            return
        key = f"search:{kind}:{query}"
        cutoff, times, older = self.cutoff(key), [], False
        parse = {
            "repositories": gh.repo_post,
            "issues": self._search_issue,
            "commits": gh.commit_post,
        }[kind]
        for record in records:
            post = self.convert(response, record, parse)
            if post is None:
                continue
            post.source_query = query
            times.append(post.timestamp)
            older = older or (cutoff is not None and post.timestamp < cutoff)
            yield self.mark(post, post.repo)
            if post.repo and self.section.follow_found_repos:
                yield from self.follow_found(post.repo)
        self.remember(response)
        self.advance(key, times)
        if not older:
            yield from self.next_page(response, self.parse_search, kind=kind, query=query)

    def _search_issue(self, record: Any) -> Post:
        return gh.issue_post(
            record,
            gh.repo_of_api_url(record.get("repository_url") if isinstance(record, dict) else None),
            self.followers,
        )

    def parse_repo(self, response: Response, repo: str) -> Iterator[Item]:
        if self.unchanged(response):
            return
        data = self.json_body(response)
        post = (
            self.convert(response, data, gh.repo_post, self.followers) if data is not None else None
        )
        if post is None:
            return
        yield self.mark(post, repo)
        self.remember(response)
        pushed = _updated_at({"updated_at": (data or {}).get("pushed_at")}, post.timestamp)
        yield self.api(
            f"/repos/{repo}/readme", self.parse_readme, repo=repo, owner=post.author, pushed=pushed
        )

    def parse_readme(
        self, response: Response, repo: str, owner: Author, pushed: datetime
    ) -> Iterator[Item]:
        if response.status == 404:  # a repository without a README
            self.count("github/no_readme")
            return
        if self.unchanged(response):
            return
        data = self.json_body(response)
        post = (
            self.convert(response, data, gh.readme_post, repo, owner) if data is not None else None
        )
        if post is None:
            return
        post.timestamp = pushed  # a README is as new as the repo's last push
        yield self.mark(post, repo)
        self.remember(response)

    def parse_events(self, response: Response, key: str) -> Iterator[Item]:
        records = self.records(response)
        if records is None:
            return
        since, times, older = self.state.since_time(key), [], False
        for record in records:
            activity = self.convert(response, record, gh.event_activity)
            if activity is None:
                continue
            if since is not None and activity.timestamp <= since:
                older = True
                continue
            times.append(activity.timestamp)
            yield activity
            created = gh.created_repo(record)
            if created and self.section.follow_found_repos:
                yield from self.follow_found(created)
        self.remember(response)
        self.advance(key, times)
        if not older:
            yield from self.next_page(response, self.parse_events, key=key)

    def parse_stargazers(self, response: Response, repo: str) -> Iterator[Item]:
        records = self.records(response)
        if records is None:
            return
        for record in records:
            activity = self.convert(response, record, gh.star_activity, repo)
            if activity is not None:
                yield activity
        self.remember(response)
        self.state.set_cursor(f"stargazers:{repo.lower()}", response.url)
        yield from self.next_page(response, self.parse_stargazers, repo=repo)

    def parse_forks(self, response: Response, repo: str) -> Iterator[Item]:
        records = self.records(response)
        if records is None:
            return
        key = f"forks:{repo.lower()}"
        since, times, older = self.state.since_time(key), [], False
        for record in records:
            activity = self.convert(response, record, gh.fork_activity, repo)
            if activity is None:
                continue
            if since is not None and activity.timestamp <= since:
                older = True
                continue
            times.append(activity.timestamp)
            yield activity
        self.remember(response)
        self.advance(key, times)
        if not older:
            yield from self.next_page(response, self.parse_forks, repo=repo)

    def parse_issues(self, response: Response, repo: str) -> Iterator[Item]:
        yield from self._since_list(response, repo, "issues", gh.issue_post, self.parse_issues)

    def parse_comments(self, response: Response, repo: str) -> Iterator[Item]:
        yield from self._since_list(
            response, repo, "comments", gh.comment_post, self.parse_comments
        )

    def _since_list(
        self, response: Response, repo: str, what: str, parse: Any, callback: Any
    ) -> Iterator[Item]:
        """Issues or comments updated since the last run (GitHub filters by `since` itself)."""
        records = self.records(response)
        if records is None:
            return
        updated = []
        for record in records:
            post = self.convert(response, record, parse, repo, self.followers)
            if post is None:
                continue
            updated.append(_updated_at(record, post.timestamp))
            yield self.mark(post, repo)
        self.remember(response)
        # The next run asks from one second past the newest update, so nothing repeats.
        self.advance(f"{what}:{repo.lower()}", [t + timedelta(seconds=1) for t in updated])
        yield from self.next_page(response, callback, repo=repo)

    def parse_user(self, response: Response, login: str) -> Iterator[Item]:
        if not self.unchanged(response):
            data = self.json_body(response)
            followers = data.get("followers") if isinstance(data, dict) else None
            if isinstance(followers, int):
                self.followers[login.lower()] = followers
                self.state.set_cursor(f"followers:{login.lower()}", followers)
                self.remember(response)
            elif data is not None:
                self.drop("bad_record", response.url, "user without a followers count")
        yield from self.profile_done()


def _accept_of(response: Response) -> str:
    """The media type the request for this page asked for (stargazers keep their star+json)."""
    accept = response.request.headers.get("Accept") if response.request else None
    return accept.decode("latin-1") if isinstance(accept, bytes) else JSON_MEDIA


def _since_path(path: str, since: str | None) -> str:
    return f"{path}&{urlencode({'since': since})}" if since else path


def _updated_at(record: Any, fallback: datetime) -> datetime:
    try:
        return from_iso(record.get("updated_at"), "updated_at")
    except ParseError:
        return fallback
