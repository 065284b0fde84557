"""GitHub REST JSON → `Post` / `Activity`.

Names are case-insensitive on GitHub (`Marak/colors.js` and `marak/colors.js` are one repo), so
ids and the `repo` field use the case-folded name (`canonical`); titles, URLs and author handles
keep GitHub's own spelling for display. Bodies, messages and READMEs are markdown: their links
are the web addresses written in them.

Document ids: a repo is `github:owner/name`, its README `github:owner/name:readme`, an issue or
pull request `github:owner/name#12`, an issue comment `github:owner/name#12/comment-<id>`, a
review comment `github:owner/name#12/review-comment-<id>`, a commit `github:owner/name@<sha>`.
Stars and forks from the stargazers/forks listings and from `WatchEvent`/`ForkEvent` share ids
(`star`: `owner/name:login`, `fork`: the fork's full name), so the same star seen both ways is
one activity document; a star read through GraphQL (past the 40,000 the REST list serves) too.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from crawlers.items import Activity, Author, Engagement, Post
from crawlers.parsers.common import ParseError, from_iso, need, opt_int, record_parser
from spreadwatch.urls import links_in_text

PLATFORM = "github"


def canonical(name: str) -> str:
    """A repository or user name as GitHub compares it (case-insensitively)."""
    return name.strip().lower()


def _object(record: Any, key: str) -> dict[str, Any]:
    """`record[key]` when it is an object, else an empty one (optional nested parts)."""
    value = record.get(key) if isinstance(record, dict) else None
    return value if isinstance(value, dict) else {}


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return value if isinstance(value, str) else ""


def author_of(user: Any, followers: dict[str, int] | None = None) -> Author:
    """The author from a GitHub user object; `followers` (by canonical login) fills the count."""
    if not isinstance(user, dict) or not isinstance(user.get("login"), str):
        return Author()
    login = user["login"]
    return Author(
        id=str(user["id"]) if user.get("id") is not None else None,
        handle=login,
        name=user.get("name") if isinstance(user.get("name"), str) else None,
        url=user.get("html_url") or f"https://github.com/{login}",
        followers=(followers or {}).get(canonical(login), opt_int(user.get("followers"))),
    )


@record_parser
def repo_post(repo: Any, followers: dict[str, int] | None = None) -> Post:
    full_name = need(repo, "full_name", str, "repository")
    return Post(
        platform=PLATFORM,
        native_id=canonical(full_name),
        timestamp=from_iso(need(repo, "created_at", str, full_name), full_name),
        kind="repo",
        url=repo.get("html_url"),
        author=author_of(repo.get("owner"), followers),
        title=full_name,
        text=_text(repo, "description"),
        repo=canonical(full_name),
        domain="github.com",
        engagement=Engagement(
            stars=opt_int(repo.get("stargazers_count")),
            forks=opt_int(repo.get("forks_count")),
            replies=opt_int(repo.get("open_issues_count")),
        ),
    )


@record_parser
def readme_post(readme: Any, repo: str, owner: Author) -> Post:
    """The README as its own document: for a confession repo it is the text that matters."""
    content = need(readme, "content", str, f"{repo} README")
    if readme.get("encoding") != "base64":
        raise ParseError(f"{repo} README: unexpected encoding {readme.get('encoding')!r}")
    try:
        text = base64.b64decode(content).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError) as error:
        raise ParseError(f"{repo} README: bad base64 ({error})") from None
    # The title spells the repo as GitHub does, from the reply itself: a caller may only know
    # the case-folded name (the re-check), and a title in other letters would read as an edit.
    spelled = _repo_in(readme.get("html_url"), repo)
    return Post(
        platform=PLATFORM,
        native_id=f"{canonical(repo)}:readme",
        timestamp=None,  # filled by the spider from the repo's push time
        kind="article",
        url=readme.get("html_url"),
        author=owner,
        title=f"README of {spelled}",
        text=text,
        links=links_in_text(text),
        repo=canonical(repo),
        domain="github.com",
        reply_to=f"{PLATFORM}:{canonical(repo)}",
    )


def _repo_in(html_url: Any, repo: str) -> str:
    """`owner/name` as spelled in a `https://github.com/owner/name/...` URL naming `repo`."""
    if isinstance(html_url, str):
        parts = urlsplit(html_url).path.split("/")
        if len(parts) > 2 and canonical(f"{parts[1]}/{parts[2]}") == canonical(repo):
            return f"{parts[1]}/{parts[2]}"
    return repo


@record_parser
def issue_post(issue: Any, repo: str, followers: dict[str, int] | None = None) -> Post:
    """An issue, or a pull request (GitHub lists both as issues; a PR has `pull_request`)."""
    number = need(issue, "number", int, f"{repo} issue")
    key = canonical(repo)
    where = f"{key}#{number}"
    reactions = _object(issue, "reactions")
    return Post(
        platform=PLATFORM,
        native_id=where,
        timestamp=from_iso(need(issue, "created_at", str, where), where),
        kind="pull_request" if _is_pull_request(issue) else "issue",
        url=issue.get("html_url"),
        author=author_of(issue.get("user"), followers),
        title=issue.get("title") if isinstance(issue.get("title"), str) else None,
        text=_text(issue, "body"),
        links=links_in_text(_text(issue, "body")),
        repo=key,
        domain="github.com",
        reply_to=f"{PLATFORM}:{key}",
        engagement=Engagement(
            replies=opt_int(issue.get("comments")), likes=opt_int(reactions.get("total_count"))
        ),
    )


def _is_pull_request(issue: dict[str, Any]) -> bool:
    """GitHub lists pull requests as issues with a `pull_request` object; 2012-era issues carry
    one whose links are all null, and are issues."""
    pull = _object(issue, "pull_request")
    return bool(pull.get("html_url") or pull.get("url"))


def repo_of_api_url(url: Any) -> str:
    """`https://api.github.com/repos/o/r[/...]` → `o/r`."""
    if not isinstance(url, str) or "/repos/" not in url:
        raise ParseError(f"not a repository API URL: {url!r:.80}")
    parts = url.split("/repos/", 1)[1].split("/")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ParseError(f"not a repository API URL: {url!r:.80}")
    return f"{parts[0]}/{parts[1]}"


def search_issue_repo_url(record: Any) -> Any:
    """Where a search result names its repository: `repository_url`, or (answers without it)
    the issue's own API `url`, `…/repos/o/r/issues/12`."""
    if not isinstance(record, dict):
        return None
    return record.get("repository_url") or record.get("url")


def _number_of(url: str, where: str) -> str:
    number = url.rstrip("/").rsplit("/", 1)[-1]
    if not number.isdigit():
        raise ParseError(f"{where}: no issue number in {url!r:.80}")
    return number


@record_parser
def comment_post(comment: Any, repo: str, followers: dict[str, int] | None = None) -> Post:
    """An issue (or pull request conversation) comment; its URL keeps `#issuecomment-<id>`."""
    comment_id = need(comment, "id", int, f"{repo} comment")
    where = f"{repo} comment {comment_id}"
    number = _number_of(need(comment, "issue_url", str, where), where)
    return _comment(comment, repo, number, f"comment-{comment_id}", followers)


@record_parser
def review_comment_post(comment: Any, repo: str, followers: dict[str, int] | None = None) -> Post:
    """A pull request review comment (on a line of the diff): `#discussion_r<id>` in its URL."""
    comment_id = need(comment, "id", int, f"{repo} review comment")
    where = f"{repo} review comment {comment_id}"
    number = _number_of(need(comment, "pull_request_url", str, where), where)
    post = _comment(comment, repo, number, f"review-comment-{comment_id}", followers)
    parent = comment.get("in_reply_to_id")
    if isinstance(parent, int):
        post.reply_to = f"{PLATFORM}:{canonical(repo)}#{number}/review-comment-{parent}"
    return post


def _comment(
    comment: dict[str, Any],
    repo: str,
    number: str,
    suffix: str,
    followers: dict[str, int] | None,
) -> Post:
    key = canonical(repo)
    where = f"{key}#{number}/{suffix}"
    thread = f"{PLATFORM}:{key}#{number}"
    return Post(
        platform=PLATFORM,
        native_id=where,
        timestamp=from_iso(need(comment, "created_at", str, where), where),
        kind="comment",
        url=comment.get("html_url"),
        author=author_of(comment.get("user"), followers),
        text=_text(comment, "body"),
        links=links_in_text(_text(comment, "body")),
        repo=key,
        domain="github.com",
        reply_to=thread,
        thread=thread,
        engagement=Engagement(likes=opt_int(_object(comment, "reactions").get("total_count"))),
    )


@record_parser
def commit_post(
    item: Any, repo: str | None = None, followers: dict[str, int] | None = None
) -> Post:
    """A commit from a commit list, a commit detail or a commit search (which names its repo).

    The time is the author date, converted from the author's offset to UTC; the committer, the
    parents and (from a detail) the stats and files touched go into `commit`.
    """
    sha = need(item, "sha", str, "commit")
    inner = need(item, "commit", dict, f"commit {sha}")
    if repo is None:
        repo = need(need(item, "repository", dict, f"commit {sha}"), "full_name", str, sha)
    written = need(inner, "author", dict, f"commit {sha}")
    message = _text(inner, "message")
    author = author_of(item.get("author"), followers)
    if author.handle is None and isinstance(written.get("name"), str):
        author = Author(name=written["name"])  # an author without a GitHub account
    key = canonical(repo)
    return Post(
        platform=PLATFORM,
        native_id=f"{key}@{sha}",
        timestamp=from_iso(need(written, "date", str, f"commit {sha}"), f"commit {sha}"),
        kind="commit",
        url=item.get("html_url"),
        author=author,
        title=message.splitlines()[0][:200] if message else None,
        text=message,
        links=links_in_text(message),
        repo=key,
        domain="github.com",
        reply_to=f"{PLATFORM}:{key}",
        engagement=Engagement(replies=opt_int(inner.get("comment_count"))),
        commit=commit_facts(item),
    )


def commit_facts(item: dict[str, Any]) -> dict[str, Any]:
    """The commit's own facts: sha, author and committer (name, login, UTC date), parents, and,
    from a commit detail, `stats` and the `files` touched with their change counts."""
    inner = _object(item, "commit")
    facts: dict[str, Any] = {"sha": item.get("sha")}
    for who in ("author", "committer"):
        written = _object(inner, who)
        person = {
            "name": written.get("name") if isinstance(written.get("name"), str) else None,
            "login": _object(item, who).get("login"),
        }
        try:
            person["date"] = from_iso(written.get("date"), f"commit {who}").isoformat()
        except ParseError:
            person["date"] = None
        facts[who] = {k: v for k, v in person.items() if v is not None}
    parents = item.get("parents")
    if isinstance(parents, list):
        facts["parents"] = len(parents)
    stats = _object(item, "stats")
    if stats:
        facts["stats"] = {k: opt_int(stats.get(k)) for k in ("additions", "deletions", "total")}
    files = item.get("files")
    if isinstance(files, list):
        facts["files"] = [_file(f) for f in files if isinstance(f, dict) and f.get("filename")]
    return facts


def _file(entry: dict[str, Any]) -> dict[str, Any]:
    shown = {"filename": entry["filename"], "status": entry.get("status")}
    shown |= {k: opt_int(entry.get(k)) for k in ("additions", "deletions", "changes")}
    return {k: v for k, v in shown.items() if v is not None}


def star_id(repo: str, login: str) -> str:
    """A star's activity id, `owner/name:login` (case-folded): the one place it is made."""
    return f"{canonical(repo)}:{canonical(login)}"


def _star(repo: str, login: str, when: datetime) -> Activity:
    key = canonical(repo)
    return Activity(
        PLATFORM,
        "star",
        when,
        star_id(key, login),
        repo=key,
        actor=login,
        post_id=f"{PLATFORM}:{key}",
    )


@record_parser
def star_activity(star: Any, repo: str) -> Activity:
    """A star from the REST stargazers list (`{starred_at, user}`, read with the
    `application/vnd.github.star+json` media type) or an edge of GraphQL's `stargazers`
    connection (`{starredAt, node}`): the same activity either way, and the same as its
    `WatchEvent`'s."""
    graphql = isinstance(star, dict) and "node" in star and "user" not in star
    user = need(star, "node" if graphql else "user", dict, f"{repo} stargazer")
    login = need(user, "login", str, f"{repo} stargazer")
    moment = need(star, "starredAt" if graphql else "starred_at", str, f"{repo} star by {login}")
    return _star(repo, login, from_iso(moment, f"{repo} star"))


@record_parser
def fork_activity(fork: Any, repo: str) -> Activity:
    name = need(fork, "full_name", str, f"{repo} fork")
    when = from_iso(need(fork, "created_at", str, name), name)
    key = canonical(repo)
    return Activity(
        PLATFORM,
        "fork",
        when,
        canonical(name),
        repo=key,
        actor=_object(fork, "owner").get("login"),
        post_id=f"{PLATFORM}:{key}",
    )


@record_parser
def event_activity(event: Any) -> Activity:
    """A repo or user event; stars and forks get the ids their listings give them."""
    event_id = need(event, "id", str, "event")
    kind = need(event, "type", str, f"event {event_id}")
    actor = need(event, "actor", dict, f"event {event_id}").get("login")
    name = need(event, "repo", dict, f"event {event_id}").get("name")
    repo = canonical(name) if isinstance(name, str) else None
    when = from_iso(need(event, "created_at", str, f"event {event_id}"), f"event {event_id}")
    payload = _object(event, "payload")
    post_id = f"{PLATFORM}:{repo}" if repo else None
    if kind == "WatchEvent" and repo and isinstance(actor, str):
        return _star(repo, actor, when)
    forkee = _object(payload, "forkee")
    if kind == "ForkEvent" and isinstance(forkee.get("full_name"), str):
        fork_id = canonical(forkee["full_name"])
        return Activity(PLATFORM, "fork", when, fork_id, repo=repo, actor=actor, post_id=post_id)
    event = kind.removesuffix("Event").lower() or "event"
    return Activity(PLATFORM, event, when, event_id, repo=repo, actor=actor, post_id=post_id)


def event_repo(event: Any) -> str | None:
    """The repository an event happened in, as GitHub spells it."""
    name = _object(event, "repo").get("name")
    return name if isinstance(name, str) and "/" in name else None
