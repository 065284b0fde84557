"""GitHub REST JSON → `Post` / `Activity`.

Document ids: a repo is `github:owner/name`, its README `github:owner/name:readme`, an issue
`github:owner/name#12`, an issue comment `github:owner/name#12/comment-<id>`, a commit
`github:owner/name@<sha>`. Stars and forks from the stargazers/forks listings and from
`WatchEvent`/`ForkEvent` share ids (`star`: `owner/name:login`, `fork`: the fork's full name),
so the same star seen both ways is one activity document.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from crawlers.items import Activity, Author, Engagement, Post
from crawlers.parsers.common import ParseError, from_iso, need, opt_int

PLATFORM = "github"


def _object(record: Any, key: str) -> dict[str, Any]:
    """`record[key]` when it is an object, else an empty one (optional nested parts)."""
    value = record.get(key) if isinstance(record, dict) else None
    return value if isinstance(value, dict) else {}


def _author(user: Any, followers: dict[str, int] | None = None) -> Author:
    if not isinstance(user, dict) or not isinstance(user.get("login"), str):
        return Author()
    login = user["login"]
    return Author(
        id=str(user["id"]) if user.get("id") is not None else None,
        handle=login,
        name=user.get("name") if isinstance(user.get("name"), str) else None,
        url=user.get("html_url") or f"https://github.com/{login}",
        followers=(followers or {}).get(login.lower(), opt_int(user.get("followers"))),
    )


def repo_post(repo: Any, followers: dict[str, int] | None = None) -> Post:
    full_name = need(repo, "full_name", str, "repository")
    return Post(
        platform=PLATFORM,
        native_id=full_name,
        timestamp=from_iso(need(repo, "created_at", str, full_name), full_name),
        kind="repo",
        url=repo.get("html_url"),
        author=_author(repo.get("owner"), followers),
        title=full_name,
        text=repo.get("description") or "",
        repo=full_name,
        domain="github.com",
        engagement=Engagement(
            stars=opt_int(repo.get("stargazers_count")),
            forks=opt_int(repo.get("forks_count")),
            replies=opt_int(repo.get("open_issues_count")),
        ),
    )


def readme_post(readme: Any, repo: str, owner: Author) -> Post:
    """The README as its own document: for a confession repo it is the text that matters."""
    content = need(readme, "content", str, f"{repo} README")
    if readme.get("encoding") != "base64":
        raise ParseError(f"{repo} README: unexpected encoding {readme.get('encoding')!r}")
    try:
        text = base64.b64decode(content).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError) as error:
        raise ParseError(f"{repo} README: bad base64 ({error})") from None
    return Post(
        platform=PLATFORM,
        native_id=f"{repo}:readme",
        timestamp=None,  # filled by the spider from the repo's push time
        kind="article",
        url=readme.get("html_url"),
        author=owner,
        title=f"README of {repo}",
        text=text,
        repo=repo,
        domain="github.com",
        reply_to=f"{PLATFORM}:{repo}",
    )


def issue_post(issue: Any, repo: str, followers: dict[str, int] | None = None) -> Post:
    number = need(issue, "number", int, f"{repo} issue")
    where = f"{repo}#{number}"
    reactions = issue.get("reactions") if isinstance(issue.get("reactions"), dict) else {}
    return Post(
        platform=PLATFORM,
        native_id=where,
        timestamp=from_iso(need(issue, "created_at", str, where), where),
        kind="issue",
        url=issue.get("html_url"),
        author=_author(issue.get("user"), followers),
        title=issue.get("title") if isinstance(issue.get("title"), str) else None,
        text=issue.get("body") if isinstance(issue.get("body"), str) else "",
        repo=repo,
        domain="github.com",
        reply_to=f"{PLATFORM}:{repo}",
        engagement=Engagement(
            replies=opt_int(issue.get("comments")), likes=opt_int(reactions.get("total_count"))
        ),
    )


def repo_of_api_url(url: Any) -> str:
    """`https://api.github.com/repos/o/r[/...]` → `o/r`."""
    if not isinstance(url, str) or "/repos/" not in url:
        raise ParseError(f"not a repository API URL: {url!r:.80}")
    parts = url.split("/repos/", 1)[1].split("/")
    if len(parts) < 2:
        raise ParseError(f"not a repository API URL: {url!r:.80}")
    return f"{parts[0]}/{parts[1]}"


def comment_post(comment: Any, repo: str, followers: dict[str, int] | None = None) -> Post:
    comment_id = need(comment, "id", int, f"{repo} comment")
    issue_url = need(comment, "issue_url", str, f"{repo} comment {comment_id}")
    number = issue_url.rstrip("/").rsplit("/", 1)[-1]
    where = f"{repo}#{number}/comment-{comment_id}"
    return Post(
        platform=PLATFORM,
        native_id=where,
        timestamp=from_iso(need(comment, "created_at", str, where), where),
        kind="comment",
        url=comment.get("html_url"),
        author=_author(comment.get("user"), followers),
        text=comment.get("body") if isinstance(comment.get("body"), str) else "",
        repo=repo,
        domain="github.com",
        reply_to=f"{PLATFORM}:{repo}#{number}",
        thread=f"{PLATFORM}:{repo}#{number}",
    )


def commit_post(item: Any) -> Post:
    sha = need(item, "sha", str, "commit")
    commit = need(item, "commit", dict, f"commit {sha}")
    repository = need(item, "repository", dict, f"commit {sha}")
    repo = need(repository, "full_name", str, f"commit {sha} repository")
    date = need(need(commit, "author", dict, f"commit {sha}"), "date", str, f"commit {sha}")
    message = commit.get("message") if isinstance(commit.get("message"), str) else ""
    return Post(
        platform=PLATFORM,
        native_id=f"{repo}@{sha}",
        timestamp=from_iso(date, f"commit {sha}"),
        kind="commit",
        url=item.get("html_url"),
        author=_author(item.get("author")),
        title=message.splitlines()[0][:200] if message else None,
        text=message,
        repo=repo,
        domain="github.com",
        reply_to=f"{PLATFORM}:{repo}",
    )


def star_activity(star: Any, repo: str) -> Activity:
    user = need(star, "user", dict, f"{repo} stargazer")
    login = need(user, "login", str, f"{repo} stargazer")
    when = from_iso(need(star, "starred_at", str, f"{repo} star by {login}"), f"{repo} star")
    return Activity(
        PLATFORM,
        "star",
        when,
        f"{repo}:{login}",
        repo=repo,
        actor=login,
        post_id=f"{PLATFORM}:{repo}",
    )


def fork_activity(fork: Any, repo: str) -> Activity:
    name = need(fork, "full_name", str, f"{repo} fork")
    when = from_iso(need(fork, "created_at", str, name), name)
    owner = fork.get("owner") if isinstance(fork.get("owner"), dict) else {}
    return Activity(
        PLATFORM,
        "fork",
        when,
        name,
        repo=repo,
        actor=owner.get("login"),
        post_id=f"{PLATFORM}:{repo}",
    )


def event_activity(event: Any) -> Activity:
    """A repo or user event; stars and forks get the ids their listings give them."""
    event_id = need(event, "id", str, "event")
    kind = need(event, "type", str, f"event {event_id}")
    actor = need(event, "actor", dict, f"event {event_id}").get("login")
    repo = need(event, "repo", dict, f"event {event_id}").get("name")
    when = from_iso(need(event, "created_at", str, f"event {event_id}"), f"event {event_id}")
    payload = _object(event, "payload")
    post_id = f"{PLATFORM}:{repo}" if repo else None
    if kind == "WatchEvent" and repo and actor:
        return Activity(
            PLATFORM, "star", when, f"{repo}:{actor}", repo=repo, actor=actor, post_id=post_id
        )
    forkee = _object(payload, "forkee")
    if kind == "ForkEvent" and isinstance(forkee.get("full_name"), str):
        return Activity(
            PLATFORM, "fork", when, forkee["full_name"], repo=repo, actor=actor, post_id=post_id
        )
    name = kind.removesuffix("Event").lower() or "event"
    return Activity(PLATFORM, name, when, event_id, repo=repo, actor=actor, post_id=post_id)


def created_repo(event: Any) -> str | None:
    """The repository a `CreateEvent` (ref_type repository) made, to follow it."""
    if not isinstance(event, dict) or event.get("type") != "CreateEvent":
        return None
    name = _object(event, "repo").get("name")
    payload = _object(event, "payload")
    return name if payload.get("ref_type") == "repository" and isinstance(name, str) else None
