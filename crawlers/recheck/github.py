"""GitHub: repos, issues, comments, commits and READMEs, one REST call each.

404 = the repo or account is gone or was made private (GitHub does not tell them apart without
access); 410 = an issue deleted by the repo's admin; 451 = blocked for legal reasons (DMCA);
422 "No commit found" = the commit was force-pushed away.
"""

from __future__ import annotations

import re

from crawlers.items import Author, Post
from crawlers.parsers import ParseError
from crawlers.parsers.github import comment_post, issue_post, readme_post, repo_post
from crawlers.recheck.model import CheckContext, Fetch, Reply, Target, Verdict, http_verdict

_ISSUE = re.compile(r"^(?P<repo>[^#]+)#(?P<number>\d+)$")
_COMMENT = re.compile(r"^(?P<repo>[^#]+)#\d+/comment-(?P<id>\d+)$")
_COMMIT = re.compile(r"^(?P<repo>[^@]+)@(?P<sha>[0-9a-fA-F]+)$")


def fetch(target: Target, ctx: CheckContext) -> Fetch | None:
    path = _path(target.native_id)
    if path is None:
        return None
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    token = ctx.settings.secret("github_token")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Fetch(ctx.settings.base_url("github") + path, headers)


def _path(native_id: str) -> str | None:
    if native_id.endswith(":readme"):
        return f"/repos/{native_id.removesuffix(':readme')}/readme"
    for pattern, template in (
        (_COMMENT, "/repos/{repo}/issues/comments/{id}"),
        (_ISSUE, "/repos/{repo}/issues/{number}"),
        (_COMMIT, "/repos/{repo}/commits/{sha}"),
    ):
        match = pattern.match(native_id)
        if match:
            return template.format(**match.groupdict())
    return f"/repos/{native_id}" if native_id.count("/") == 1 else None


def judge(target: Target, reply: Reply) -> Verdict:
    if reply.status == 404:
        what = "repo_gone_or_private" if target.kind == "repo" else "not_found"
        return Verdict(gone=f"github:{what}")
    if reply.status == 410:
        return Verdict(gone="github:deleted")
    if reply.status == 451:
        return Verdict(gone="github:blocked")
    if reply.status == 422 and _COMMIT.match(target.native_id):
        return Verdict(gone="github:commit_force_pushed_away")
    refused = http_verdict("github", reply)
    if refused is not None:
        return refused
    return Verdict(post=_post(target, reply))


def _post(target: Target, reply: Reply) -> Post | None:
    payload = reply.json()
    if not isinstance(payload, dict):
        return None
    repo = target.repo or target.native_id.split("#")[0].split("@")[0].split(":")[0]
    try:
        if target.native_id.endswith(":readme"):
            post = readme_post(payload, repo, Author())
        elif _COMMENT.match(target.native_id):
            post = comment_post(payload, repo)
        elif _ISSUE.match(target.native_id):
            post = issue_post(payload, repo)
        elif _COMMIT.match(target.native_id):
            return None  # a commit's message cannot change; only its removal matters
        else:
            post = repo_post(payload)
    except ParseError:
        return None
    return post
