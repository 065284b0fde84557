"""GitHub: the JusticeFighter110 page, the repository calling it fake, mirrors, issues, stars, forks.

Repository counts (`stargazers_count`, `forks_count`, `open_issues_count`, issue `comments`) hold
their values at the end of the window; a replay recomputes them at its clock from the star, fork,
issue and comment records it has revealed.
"""

# Builders take the platform's fields positionally, in the order the platform lists them.
# ruff: noqa: PLR0917

from __future__ import annotations

from datetime import datetime

from spreadwatch.demo import shapes, texts
from spreadwatch.demo import timeline as tl
from spreadwatch.demo.context import Context, Record, shift

JF_LOGIN = "JusticeFighter110"
JF_REPO_NAME = "ByteDance-Intern-Truth"
FAKE_OWNER = "audio-forensics-cn"
FAKE_REPO_NAME = "justicefighter110-recording-is-fake"
MIRRORS = 6
NOISE_REPOS = (
    ("bytedance-sdk-sample", "Sample app for a ByteDance advertising SDK"),
    ("h100-benchmarks", "Throughput benchmarks on H100 clusters"),
    ("intern-onboarding", "Onboarding checklist for engineering interns"),
)
ISSUE_TITLES = {
    "en": [
        "Is this real?",
        "Mirror of the recording",
        "Source of the 8,000 H100 figure?",
        "The recording is fake",
        "ByteDance statement is out",
    ],
    "zh": ["这是真的吗", "录音备份", "8000张H100的出处？", "录音是假的", "字节跳动官方回应了"],
}


def _user(ctx: Context) -> tuple[str, int]:
    who = ctx.author("github", 300, "en")
    return who.handle, int(who.id)


def _repo_record(
    ctx: Context,
    owner: tuple[str, int],
    name: str,
    desc: str,
    at: datetime,
    stance: str | None,
    readme: str | None,
) -> list[Record]:
    rid = ctx.new_id() * 1000 + 873_000_000
    repo = shapes.github_repo(rid, owner, name, desc, at)
    out = [
        Record(
            "github",
            "repo",
            repo["full_name"],
            at,
            repo,
            stance=stance or "other",
            lang="en",
            matches=stance is not None,
            url=repo["html_url"],
            followers=0,
        )
    ]
    if readme is not None:
        # The README is a document of its own (for the confession repo it is the text that
        # matters), saying what its repository says.
        content = shapes.github_readme(repo["full_name"], readme)
        out.append(
            Record(
                "github",
                "readme",
                repo["full_name"],
                at,
                content,
                stance=stance or "other",
                lang="en",
                matches=stance is not None,
                url=content["html_url"],
                followers=0,
            )
        )
    return out


def _issues(ctx: Context, repo: str, first: datetime, count: int, comments: int) -> list[Record]:
    rng = ctx.rng
    out: list[Record] = []
    for number in range(1, count + 1):
        at = first if number == 1 else ctx.post_time(first)
        stance = tl.stance_at(rng, at)
        lang = rng.choice(("en", "zh", "zh"))
        title = rng.choice(ISSUE_TITLES[lang])
        body = ctx.text(stance, lang)
        iid = 2_590_000_000 + ctx.new_id()
        issue = shapes.github_issue(iid, number, repo, _user(ctx), title, body, at)
        out.append(
            Record(
                "github",
                "issue",
                f"{repo}#{number}",
                at,
                issue,
                stance=stance,
                lang=lang,
                matches=True,
                url=issue["html_url"],
            )
        )
        for _ in range(comments // count):
            c_at = shift(at, rng.expovariate(1 / 300) + 2)
            if c_at >= tl.WINDOW_END:
                continue
            c_stance = tl.stance_at(rng, c_at)
            c_lang = rng.choice(("en", "zh"))
            cid = 2_420_000_000 + ctx.new_id()
            comment = shapes.github_comment(
                cid, repo, number, _user(ctx), ctx.text(c_stance, c_lang), c_at
            )
            out.append(
                Record(
                    "github",
                    "comment",
                    str(cid),
                    c_at,
                    comment,
                    stance=c_stance,
                    lang=c_lang,
                    matches=True,
                    url=comment["html_url"],
                )
            )
    return out


def _stars_and_forks(
    ctx: Context, repo: str, first: datetime, stars: int, forks: int
) -> list[Record]:
    out: list[Record] = []
    for _ in range(stars):
        at = ctx.post_time(shift(first, 3))
        user = _user(ctx)
        out.append(
            Record(
                "github",
                "star",
                f"{repo}:{user[0]}",
                at,
                shapes.github_stargazer(user, at),
                extra={"repo": repo},
            )
        )
    for index in range(forks):
        at = ctx.post_time(shift(first, 10))
        owner = _user(ctx)
        rid = ctx.new_id() * 1000 + 874_000_000
        fork = shapes.github_repo(rid, owner, repo.split("/")[1], "", at, fork_of=repo)
        out.append(
            Record(
                "github", "fork", fork["full_name"] + f"~{index}", at, fork, extra={"repo": repo}
            )
        )
    return out


def _finalise_counts(records: list[Record]) -> None:
    repos = {r.id: r.data for r in records if r.kind == "repo"}
    for record in records:
        target = repos.get(record.extra.get("repo", ""))
        if target is not None and record.kind == "star":
            target["stargazers_count"] += 1
            target["watchers_count"] += 1
        elif target is not None and record.kind == "fork":
            target["forks_count"] += 1


#: After the statement, one mirror is deleted by its owner and the confession's README edited.
DELETED_MIRROR = "bytedance-intern-recording-3"
DELETED_AFTER_DENIAL_MIN = 30 * 60
EDITED_AFTER_DENIAL_MIN = 20 * 60


def _changes_after_the_denial(records: list[Record]) -> None:
    """What the evidence side must find: a deletion and an edit, with their times."""
    mirror = next(r for r in records if r.kind == "repo" and r.id.endswith("/" + DELETED_MIRROR))
    mirror.extra["deleted_at"] = shapes.iso_z(shift(tl.DENIAL, DELETED_AFTER_DENIAL_MIN))
    readme = next(r for r in records if r.kind == "readme" and r.id.startswith(JF_LOGIN + "/"))
    at = shapes.iso_z(shift(tl.DENIAL, EDITED_AFTER_DENIAL_MIN))
    readme.extra["edits"] = [{"at": at, "text": texts.JF_README_EDITED}]


def build_github(ctx: Context) -> list[Record]:
    rng = ctx.rng
    jf_owner = (JF_LOGIN, 184_000_110)
    jf_full = f"{JF_LOGIN}/{JF_REPO_NAME}"
    fake_full = f"{FAKE_OWNER}/{FAKE_REPO_NAME}"
    user = shapes.github_user(JF_LOGIN, jf_owner[1], 0, tl.JF_REPO)
    records = [Record("github", "user", JF_LOGIN, tl.JF_REPO, user)]
    jf = _repo_record(
        ctx,
        jf_owner,
        JF_REPO_NAME,
        texts.JF_REPO_DESCRIPTION,
        tl.JF_REPO,
        "rumour",
        texts.JF_README,
    )
    jf[0].extra["role"] = "evidence"
    fake = _repo_record(
        ctx,
        (FAKE_OWNER, 92_000_001),
        FAKE_REPO_NAME,
        texts.FAKE_REPO_DESCRIPTION,
        tl.FAKE_REPO,
        "debunk",
        texts.FAKE_README,
    )
    fake[0].extra["role"] = "debunk"
    records += jf + fake
    for index in range(MIRRORS):
        at = ctx.post_time(shift(tl.JF_REPO, 90))
        records += _repo_record(
            ctx,
            _user(ctx),
            f"bytedance-intern-recording-{index + 1}",
            "Backup of the JusticeFighter110 ByteDance intern recording",
            at,
            "rumour",
            None,
        )
    for name, desc in NOISE_REPOS:
        records += _repo_record(ctx, _user(ctx), name, desc, tl.noise_time(rng), None, None)
    _changes_after_the_denial(records)
    records += _issues(ctx, jf_full, shift(tl.JF_REPO, 41), 30, 120)
    records += _issues(ctx, fake_full, shift(tl.FAKE_REPO, 25), 10, 40)
    records += _stars_and_forks(ctx, jf_full, tl.JF_REPO, 520, 48)
    records += _stars_and_forks(ctx, fake_full, tl.FAKE_REPO, 130, 9)
    _finalise_counts(records)
    return records
