"""The data a GitHub replay serves, in GitHub's own shapes, and the shapes derived from it.

Records are stored the way the API returns them, so a fixture can be pasted from a real response.
Commits are stored once, as the commit detail (`GET /repos/{o}/{r}/commits/{sha}`: with `stats`
and `files`; author/committer dates as git recorded them, with the author's UTC offset); the
replay derives the other shapes from it as api.github.com does: the commit list drops `stats`
and `files` and gives dates in UTC (`...Z`), the commit search keeps the offset (`...000-05:00`)
and adds `repository` and `score`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spreadwatch.replay.server import parse_time

Record = dict[str, Any]


@dataclass
class GithubData:
    """Fixtures keyed by `owner/name` (as GitHub spells it) or login, where per repo or user.

    `issues` holds issues and pull requests alike (a pull request has a `pull_request` object,
    as in GitHub's issue listing); `pull_commits` maps `owner/name#number` to the commits of
    that pull request; `review_comments` are pull request review comments per repo.
    """

    repos: list[Record] = field(default_factory=list)
    readmes: dict[str, str] = field(default_factory=dict)
    stargazers: dict[str, list[Record]] = field(default_factory=dict)
    forks: dict[str, list[Record]] = field(default_factory=dict)
    issues: dict[str, list[Record]] = field(default_factory=dict)
    comments: dict[str, list[Record]] = field(default_factory=dict)
    review_comments: dict[str, list[Record]] = field(default_factory=dict)
    repo_events: dict[str, list[Record]] = field(default_factory=dict)
    users: dict[str, Record] = field(default_factory=dict)
    user_events: dict[str, list[Record]] = field(default_factory=dict)
    #: Search-only commits (the search shape, with `repository`), e.g. from other repos.
    commits: list[Record] = field(default_factory=list)
    #: Each repo's default-branch history, as commit details.
    repo_commits: dict[str, list[Record]] = field(default_factory=dict)
    pull_commits: dict[str, list[Record]] = field(default_factory=dict)
    #: Repos blocked for legal reasons (451, e.g. a DMCA takedown): full name → `block` object.
    blocked: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Issues deleted by their repo's admin (410 `This issue was deleted`): `owner/name#N`.
    deleted_issues: list[str] = field(default_factory=list)
    #: Repos deleted by their owner (404 from then on, gone from search): full name → ISO time.
    deleted_repos: dict[str, str] = field(default_factory=dict)
    #: Later versions of a README: full name → [{at: ISO time, text}], oldest first.
    readme_edits: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> GithubData:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def repo(self, full_name: str) -> Record | None:
        lowered = full_name.lower()
        return next((r for r in self.repos if r["full_name"].lower() == lowered), None)

    def deleted(self, full_name: str, now: datetime) -> bool:
        """Whether the repo's owner had deleted it by `now`."""
        lowered = full_name.lower()
        at = next((t for k, t in self.deleted_repos.items() if k.lower() == lowered), None)
        return at is not None and parse_time(at) <= now

    def readme(self, full_name: str, now: datetime) -> str | None:
        """The README as it read at `now` (its latest edit by then)."""
        text = self.readmes.get(full_name)
        for edit in self.readme_edits.get(full_name, []):
            if parse_time(edit["at"]) <= now:
                text = edit["text"]
        return text

    def repo_by_id(self, repo_id: int) -> Record | None:
        return next((r for r in self.repos if r.get("id") == repo_id), None)

    def user(self, login: str) -> Record | None:
        lowered = login.lower()
        return next((u for k, u in self.users.items() if k.lower() == lowered), None)

    def commit(self, repo: str, sha: str) -> Record | None:
        history = self.repo_commits.get(repo, [])
        pulls = [
            c for key, cs in self.pull_commits.items() if key.startswith(f"{repo}#") for c in cs
        ]
        found = [c for c in self.commits if c.get("repository", {}).get("full_name") == repo]
        return next((c for c in [*history, *pulls, *found] if c["sha"].startswith(sha)), None)


def committed_at(commit: Record) -> datetime:
    """When a commit landed (its committer date, else its author date), as an aware UTC time."""
    inner = commit["commit"]
    who = inner.get("committer") if isinstance(inner.get("committer"), dict) else inner["author"]
    return parse_time(who["date"])


def authored_at(commit: Record) -> datetime:
    return parse_time(commit["commit"]["author"]["date"])


def _utc(value: str) -> str:
    return parse_time(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _search_time(value: str) -> str:
    """`2022-01-07T19:52:13-05:00` → `2022-01-07T19:52:13.000-05:00` (the search API's form)."""
    moment = parse_time(value)
    offset = moment.strftime("%z")
    zone = "Z" if offset in ("", "+0000") else f"{offset[:3]}:{offset[3:]}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000") + zone


def _with_dates(commit: Record, convert: Any) -> Record:
    inner = dict(commit["commit"])
    for who in ("author", "committer"):
        if isinstance(inner.get(who), dict) and "date" in inner[who]:
            inner[who] = dict(inner[who], date=convert(inner[who]["date"]))
    return dict(commit, commit=inner)


def commit_detail(commit: Record) -> Record:
    """`GET /repos/{o}/{r}/commits/{sha}`: everything, dates in UTC."""
    return _with_dates(commit, _utc)


def commit_list_item(commit: Record) -> Record:
    """An entry of `GET /repos/{o}/{r}/commits` or `.../pulls/{n}/commits`: no stats or files."""
    shown = _with_dates(commit, _utc)
    return {k: v for k, v in shown.items() if k not in ("stats", "files")}


def commit_search_item(commit: Record, repo: Record) -> Record:
    """An item of `GET /search/commits`: offsets kept, the repository attached, a score."""
    shown = _with_dates(commit, _search_time)
    item = {k: v for k, v in shown.items() if k not in ("stats", "files")}
    brief = {k: repo.get(k) for k in ("id", "name", "full_name", "html_url", "owner", "private")}
    return dict(item, repository=brief, score=1.0)
