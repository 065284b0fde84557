"""A small GitHub world in GitHub's own shapes, after the founding case (names invented)."""

from __future__ import annotations

from datetime import datetime, timedelta

from spreadwatch.replay.github import GithubData

CONFESSION = "JusticeFighter110/confession"
FAKE_CALL = "truthseeker/bytedance-intern-fake"
T0 = datetime.fromisoformat("2024-10-18T08:00:00+00:00")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def user(login: str, uid: int) -> dict:
    return {"login": login, "id": uid, "html_url": f"https://github.com/{login}", "type": "User"}


def repo(uid: int, full_name: str, description: str, created: datetime) -> dict:
    owner = full_name.split("/", maxsplit=1)[0]
    return {
        "id": uid,
        "full_name": full_name,
        "name": full_name.split("/")[1],
        "html_url": f"https://github.com/{full_name}",
        "owner": user(owner, uid * 10),
        "description": description,
        "stargazers_count": 0,
        "forks_count": 0,
        "open_issues_count": 1,
        "created_at": iso(created),
        "pushed_at": iso(created),
    }


def issue(  # noqa: PLR0917 (one argument per field of the record)
    number: int, repo_name: str, title: str, body: str, created: datetime, login: str
) -> dict:
    return {
        "id": 9000 + number,
        "number": number,
        "html_url": f"https://github.com/{repo_name}/issues/{number}",
        "title": title,
        "body": body,
        "user": user(login, 500 + number),
        "comments": 1,
        "reactions": {"total_count": 4},
        "created_at": iso(created),
        "updated_at": iso(created),
    }


def comment(cid: int, repo_name: str, number: int, body: str, created: datetime) -> dict:
    return {
        "id": cid,
        "html_url": f"https://github.com/{repo_name}/issues/{number}#issuecomment-{cid}",
        "issue_url": f"https://api.github.com/repos/{repo_name}/issues/{number}",
        "body": body,
        "user": user(f"commenter{cid}", cid),
        "created_at": iso(created),
        "updated_at": iso(created),
    }


def star(login: str, uid: int, at: datetime) -> dict:
    return {"starred_at": iso(at), "user": user(login, uid)}


def event(  # noqa: PLR0917 (one argument per field of the record)
    eid: str, kind: str, actor: str, repo_name: str, at: datetime, payload: dict | None = None
) -> dict:
    return {
        "id": eid,
        "type": kind,
        "actor": {"login": actor, "id": 1},
        "repo": {"name": repo_name, "url": f"https://api.github.com/repos/{repo_name}"},
        "payload": payload or {},
        "public": True,
        "created_at": iso(at),
    }


def commit(sha: str, repo_name: str, message: str, at: datetime) -> dict:
    return {
        "sha": sha,
        "html_url": f"https://github.com/{repo_name}/commit/{sha}",
        "commit": {"message": message, "author": {"name": "x", "date": iso(at)}},
        "author": user("JusticeFighter110", 1),
        "repository": {"full_name": repo_name, "id": 1},
    }


def founding_world(stars: int = 150, mirrors: int = 3) -> GithubData:
    """The confession repo (recording, README), the repo calling it fake, a few mirrors."""
    repos = [
        repo(1, CONFESSION, "ByteDance intern recording", T0),
        repo(2, FAKE_CALL, "The ByteDance intern confession is fake", T0 + timedelta(hours=6)),
    ] + [
        repo(
            10 + i,
            f"mirror{i}/bytedance-intern-{i}",
            "ByteDance intern mirror",
            T0 + timedelta(hours=i),
        )
        for i in range(mirrors)
    ]
    return GithubData(
        repos=repos,
        readmes={CONFESSION: "# 录音\n字节跳动 实习生 ByteDance intern: the recording."},
        stargazers={
            CONFESSION: [
                star(f"fan{i}", 2000 + i, T0 + timedelta(minutes=5 * i)) for i in range(stars)
            ]
        },
        forks={
            CONFESSION: [
                {
                    **repo(300 + i, f"forker{i}/confession", "fork", T0 + timedelta(hours=1 + i)),
                    "fork": True,
                }
                for i in range(4)
            ]
        },
        issues={
            CONFESSION: [
                issue(
                    1,
                    CONFESSION,
                    "Is this real? ByteDance intern",
                    "8000 H100?",
                    T0 + timedelta(hours=2),
                    "asker",
                )
            ]
        },
        comments={
            CONFESSION: [
                comment(
                    77, CONFESSION, 1, "It is fake, see the other repo", T0 + timedelta(hours=7)
                )
            ]
        },
        repo_events={
            CONFESSION: [
                event("r1", "WatchEvent", "fan0", CONFESSION, T0, {"action": "started"}),
                event(
                    "r2",
                    "IssuesEvent",
                    "asker",
                    CONFESSION,
                    T0 + timedelta(hours=2),
                    {"action": "opened"},
                ),
            ]
        },
        users={
            "JusticeFighter110": {
                **user("JusticeFighter110", 1),
                "followers": 321,
                "name": "Justice Fighter",
            }
        },
        user_events={
            "JusticeFighter110": [
                event(
                    "u1",
                    "CreateEvent",
                    "JusticeFighter110",
                    CONFESSION,
                    T0,
                    {"ref_type": "repository"},
                ),
                event(
                    "u2",
                    "PushEvent",
                    "JusticeFighter110",
                    CONFESSION,
                    T0 + timedelta(minutes=3),
                    {"ref": "refs/heads/main"},
                ),
            ]
        },
        commits=[commit("abc123", CONFESSION, "add ByteDance intern recording", T0)],
    )
