"""A GitHub world modelled on a real sabotage of one's own packages (colors.js / faker.js,
January 2022), in GitHub's own shapes, with the truth about it computed from the data alone.

The story: on 4 January 2022 the maintainer pushes an "endgame" commit that wipes faker.js
(its README asks about Aaron Swartz); on 7 January (evening, New York time) he adds an
"american flag module" to colors.js that loops forever printing LIBERTY LIBERTY LIBERTY. Issues
pile up, pull requests try to fix it, people star and fork both repos, a community fork of
faker appears on 14 January. Around it: an unrelated project whose name holds one word of the
slogan (Open Liberty, found by the slogan search), and a logger project with one issue about the
loop. Names are mixed-case as on GitHub; the incident file spells some of them otherwise.

Every record carries what a test needs to judge it without the spider's code: `WorldItem`s
(kind, document id, time, repo, whether it matches the incident by construction). `truth(world,
at)` lists what a correct crawl at `at` must have indexed. Two moments: `FIRST` (the first and
the immediate repeat crawl) and `LATER` (after new stars, forks, issues, comments, commits).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from spreadwatch.replay.github import GithubData

WINDOW_START = datetime(2022, 1, 4, tzinfo=UTC)
FIRST = datetime(2022, 1, 15, 12, tzinfo=UTC)
LATER = datetime(2022, 1, 17, 12, tzinfo=UTC)
PER_PAGE = 30
#: GitHub keeps events for 90 days: the world has none older than this.
EVENTS_FROM = datetime(2021, 12, 1, tzinfo=UTC)

COLORS, FAKER = "Marak/colors.js", "Marak/faker.js"
FORK, NOTES = "faker-js/faker", "Marak/Notes"
LIBERTY, WINSTON = "OpenLiberty/open-liberty", "winstonjs/winston"
REPO_IDS = {COLORS: 1001, FAKER: 1002, FORK: 1003, LIBERTY: 1004, WINSTON: 1005, NOTES: 1006}

NEW_YORK = timezone(timedelta(hours=-5))
BERLIN = timezone(timedelta(hours=1))
KOLKATA = timezone(timedelta(hours=5, minutes=30))
PACIFIC = timezone(timedelta(hours=-8))

INCIDENT = {
    "id": "colors-faker-2022",
    "title": "colors.js and faker.js sabotaged by their maintainer (Jan 2022)",
    "window": {"start": "2022-01-04T00:00:00Z"},
    "queries": [
        {"name": "colors", "any": ["colors.js liberty", "colors infinite loop"]},
        {"name": "slogan", "any": ['"LIBERTY LIBERTY LIBERTY"']},
        {"name": "faker", "any": ["faker.js endgame", "faker.js deleted"]},
    ],
    "claims": [
        {"name": "endgame", "patterns": ["endgame"]},
        {"name": "flag", "patterns": ["american flag module"]},
        {"name": "swartz", "patterns": ["Aaron Swartz"]},
    ],
    "sources": {
        "github": {
            "repos": ["marak/colors.js", "MARAK/faker.js"],
            "users": ["marak"],
            "terms": ["colors.js liberty", "faker.js endgame", "LIBERTY LIBERTY LIBERTY"],
            "max_pages": 20,
            "refresh": "1h",
        }
    },
}

MATCHING_ISSUES = [
    "colors.js liberty: infinite loop after upgrading",
    "Infinite loop printing LIBERTY LIBERTY LIBERTY",
    "colors infinite loop in production since 1.4.44-liberty-2",
    "faker.js deleted? npm install gives an empty package",
    "What is the faker.js endgame commit about?",
]
OTHER_ISSUES = [
    "Add support for 256 colours",
    "Typo in README",
    "TypeScript definitions are outdated",
    "Bright colours on Windows terminals",
    "Question about the theme API",
    "Support NO_COLOR",
]
MATCHING_COMMENTS = [
    "Pinned to 1.4.0, the colors infinite loop is gone.",
    "The american flag module is the culprit, see lib/custom/american.js",
    "It prints LIBERTY LIBERTY LIBERTY and then zalgo text forever.",
    "faker.js deleted its own code in the endgame commit.",
]
OTHER_COMMENTS = ["+1", "Same here on node 16.", "Thanks!", "Any update?", "Closing as duplicate."]


@dataclass
class WorldItem:
    """One thing a crawl may index: `doc` is `posts` or `activity`, `kind` the post kind or the
    activity event, `visible` when it appears on GitHub, `at` its document time."""

    doc: str
    kind: str
    id: str
    at: datetime
    visible: datetime
    repo: str | None
    matches: bool
    followers: int | None = None
    files: list[str] | None = None
    pull: int | None = None  # a pull request's commit (not on the default branch)


@dataclass
class World:
    data: GithubData
    items: list[WorldItem] = field(default_factory=list)
    #: Repos a correct crawl follows (canonical name → the time it becomes followed).
    followed: dict[str, datetime] = field(default_factory=dict)
    keep_all: set[str] = field(default_factory=set)
    #: The 300 newest events per repo are all GitHub shows; set by `events_shown`.
    users: dict[str, int] = field(default_factory=dict)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local(moment: datetime, zone: timezone) -> str:
    """A git date as the author's machine wrote it (with its UTC offset)."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


def user(login: str, uid: int) -> dict[str, Any]:
    return {
        "login": login,
        "id": uid,
        "html_url": f"https://github.com/{login}",
        "type": "User",
        "site_admin": False,
    }


class _Builder:
    """Builds the world deterministically (one seeded random source)."""

    def __init__(self) -> None:
        self.rng = random.Random(2022)
        self.world = World(GithubData())
        self.data = self.world.data
        self.next_id = 10_000
        self.authors = {
            "Marak": (2500, NEW_YORK),
            "DABH": (310, PACIFIC),
            "lena-k": (45, BERLIN),
            "arjun-dev": (12, KOLKATA),
        }
        for login, (followers, _zone) in self.authors.items():
            self.data.users[login] = {**user(login, self.uid()), "followers": followers}
            self.world.users[login.lower()] = followers

    def uid(self) -> int:
        self.next_id += 1
        return self.next_id

    def when(self, start: datetime, end: datetime) -> datetime:
        seconds = int((end - start).total_seconds())
        return start + timedelta(seconds=self.rng.randrange(max(seconds, 1)))

    def add(self, item: WorldItem) -> None:
        self.world.items.append(item)

    # Repositories.

    def repo(self, name: str, description: str, created: datetime, readme: str) -> None:
        owner = name.split("/", maxsplit=1)[0]
        self.data.repos.append(
            {
                "id": REPO_IDS[name],
                "name": name.split("/")[1],
                "full_name": name,
                "html_url": f"https://github.com/{name}",
                "owner": user(owner, REPO_IDS[name] * 7),
                "description": description,
                "fork": False,
                "created_at": iso(created),
                "updated_at": iso(created),
                "pushed_at": iso(created),
                "stargazers_count": 0,
                "forks_count": 0,
                "open_issues_count": 0,
                "private": False,
            }
        )
        self.data.readmes[name] = readme
        self.add(
            WorldItem("posts", "repo", f"github:{name.lower()}", created, created, name, False)
        )

    def readme_commit(
        self, name: str, at: datetime, login: str, message: str = "Update README", **kw: Any
    ) -> None:
        """A commit that changes the README: the README document takes its time."""
        self.commit(name, at, login, message, ["README.md", *kw.pop("files", [])], **kw)

    # Activity.

    def stars(self, name: str, count: int, start: datetime, end: datetime) -> None:
        for _ in range(count):
            n = self.uid()
            login = f"Star{n}" if n % 3 else f"star-gazer-{n}"
            at = self.when(start, end)
            self.data.stargazers.setdefault(name, []).append(
                {"starred_at": iso(at), "user": user(login, n)}
            )
            if at >= EVENTS_FROM:
                self.event(name, "WatchEvent", login, at, {"action": "started"}, listed=True)
            self.add(
                WorldItem(
                    "activity", "star", f"{name.lower()}:{login.lower()}", at, at, name, False
                )
            )

    def forks(self, name: str, count: int, start: datetime, end: datetime) -> None:
        for _ in range(count):
            n = self.uid()
            owner = f"Forker{n}"
            fork_name = f"{owner}/{name.split('/')[1].replace('colors', 'Colors')}"
            at = self.when(start, end)
            fork = {
                "id": n,
                "full_name": fork_name,
                "html_url": f"https://github.com/{fork_name}",
                "owner": user(owner, n),
                "fork": True,
                "created_at": iso(at),
            }
            self.data.forks.setdefault(name, []).append(fork)
            if at >= EVENTS_FROM:
                self.event(name, "ForkEvent", owner, at, {"forkee": fork}, listed=True)
            self.add(WorldItem("activity", "fork", fork_name.lower(), at, at, name, False))

    def event(
        self,
        name: str,
        kind: str,
        actor: str,
        at: datetime,
        payload: dict[str, Any],
        *,
        listed: bool = False,
        user_event: bool = False,
    ) -> None:
        """A repo event (and a user event for the maintainer's own). `listed` events are the
        same star or fork as a listing record: one activity document, already in the truth."""
        event_id = str(20_000_000_000 + self.uid())
        record = {
            "id": event_id,
            "type": kind,
            "actor": {"login": actor, "id": 1},
            "repo": {"name": name, "url": f"https://api.github.com/repos/{name}"},
            "payload": payload,
            "public": True,
            "created_at": iso(at),
        }
        self.data.repo_events.setdefault(name, []).append(record)
        if user_event:
            self.data.user_events.setdefault(actor, []).append(record)
        if not listed:
            event = kind.removesuffix("Event").lower()
            self.add(WorldItem("activity", event, event_id, at, at, name, False))

    # Issues, pull requests, comments.

    def issue(
        self, name: str, number: int, title: str, at: datetime, matches: bool, **extra: Any
    ) -> dict[str, Any]:
        login = self.rng.choice(["lena-k", "arjun-dev", f"User{self.uid()}"])
        record = {
            "id": self.uid(),
            "number": number,
            "html_url": f"https://github.com/{name}/{'pull' if extra.get('pr') else 'issues'}/{number}",
            "title": title,
            "body": f"{title}\n\nSeen on {at:%d %b}.",
            "user": user(login, self.uid()),
            "state": "open",
            "comments": 0,
            "reactions": {"total_count": self.rng.randrange(40)},
            "created_at": iso(at),
            "updated_at": iso(extra.get("updated", at)),
        }
        if extra.get("pr"):
            record["pull_request"] = {
                "url": f"https://api.github.com/repos/{name}/pulls/{number}",
                "html_url": record["html_url"],
            }
        self.data.issues.setdefault(name, []).append(record)
        kind = "pull_request" if extra.get("pr") else "issue"
        self.add(WorldItem("posts", kind, f"github:{name.lower()}#{number}", at, at, name, matches))
        if at >= WINDOW_START:
            self.event(name, "IssuesEvent", login, at, {"action": "opened"})
        return record

    def comment(self, name: str, issue: dict[str, Any], at: datetime, matches: bool) -> None:
        texts = MATCHING_COMMENTS if matches else OTHER_COMMENTS
        cid = self.uid()
        number = issue["number"]
        self.data.comments.setdefault(name, []).append(
            {
                "id": cid,
                "html_url": f"{issue['html_url']}#issuecomment-{cid}",
                "issue_url": f"https://api.github.com/repos/{name}/issues/{number}",
                "body": self.rng.choice(texts),
                "user": user(f"Commenter{cid}", cid),
                "created_at": iso(at),
                "updated_at": iso(at),
            }
        )
        issue["comments"] += 1
        issue["updated_at"] = max(issue["updated_at"], iso(at))
        doc = f"github:{name.lower()}#{number}/comment-{cid}"
        self.add(WorldItem("posts", "comment", doc, at, at, name, matches))
        self.event(name, "IssueCommentEvent", f"Commenter{cid}", at, {"action": "created"})

    def review_comment(
        self, name: str, number: int, at: datetime, body: str, reply_to: int | None = None
    ) -> int:
        cid = self.uid()
        record = {
            "id": cid,
            "pull_request_review_id": cid + 1,
            "html_url": f"https://github.com/{name}/pull/{number}#discussion_r{cid}",
            "pull_request_url": f"https://api.github.com/repos/{name}/pulls/{number}",
            "path": "lib/index.js",
            "body": body,
            "user": user(f"Reviewer{cid}", cid),
            "created_at": iso(at),
            "updated_at": iso(at),
        }
        if reply_to:
            record["in_reply_to_id"] = reply_to
        self.data.review_comments.setdefault(name, []).append(record)
        doc = f"github:{name.lower()}#{number}/review-comment-{cid}"
        matches = "infinite loop" in body.lower() and "colors" in body.lower()
        self.add(WorldItem("posts", "comment", doc, at, at, name, matches))
        return cid

    # Commits.

    def commit(
        self,
        name: str,
        at: datetime,
        login: str,
        message: str,
        files: list[str],
        *,
        matches: bool = False,
        pull: int | None = None,
        committed: datetime | None = None,
    ) -> None:
        followers, zone = self.authors.get(login, (None, UTC))
        sha = f"{self.rng.getrandbits(160):040x}"
        changes = [(f, self.rng.randrange(1, 40), self.rng.randrange(0, 20)) for f in files]
        record = {
            "sha": sha,
            "node_id": f"C_{sha[:12]}",
            "html_url": f"https://github.com/{name}/commit/{sha}",
            "url": f"https://api.github.com/repos/{name}/commits/{sha}",
            "commit": {
                "author": {"name": login, "email": f"{login}@example.org", "date": local(at, zone)},
                "committer": {
                    "name": login,
                    "email": f"{login}@example.org",
                    "date": local(committed or at, zone),
                },
                "message": message,
                "comment_count": 0,
            },
            "author": user(login, 500 + len(login)),
            "committer": user(login, 500 + len(login)),
            "parents": [{"sha": "0" * 40}],
            "stats": {
                "additions": sum(c[1] for c in changes),
                "deletions": sum(c[2] for c in changes),
                "total": sum(c[1] + c[2] for c in changes),
            },
            "files": [
                {
                    "filename": f,
                    "status": "modified",
                    "additions": a,
                    "deletions": d,
                    "changes": a + d,
                }
                for f, a, d in changes
            ],
        }
        if pull is None:
            self.data.repo_commits.setdefault(name, []).append(record)
        else:
            self.data.pull_commits.setdefault(f"{name}#{pull}", []).append(record)
        item = WorldItem(
            "posts",
            "commit",
            f"github:{name.lower()}@{sha}",
            at,
            committed or at,
            name,
            matches,
            followers=followers,
            files=files if matches else None,
        )
        item.pull = pull
        self.add(item)
        if pull is None and at >= WINDOW_START:
            pushed = committed or at
            self.event(name, "PushEvent", login, pushed, {"size": 1}, user_event=login == "Marak")


def _day(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2022, 1, day, hour, minute, tzinfo=UTC)


def build_world() -> World:  # noqa: PLR0915 (one story, told in order)
    """The whole world, every record with its time; a replay shows what has happened by then."""
    b = _Builder()
    w = b.world
    past = datetime(2011, 3, 1, tzinfo=UTC)
    b.repo(
        COLORS,
        "get colors in your node.js console",
        datetime(2010, 9, 28, tzinfo=UTC),
        "# colors.js\n\nget color and style in your node.js console",
    )
    b.repo(
        FAKER,
        "generate massive amounts of realistic fake data in Node.js and the browser",
        datetime(2010, 5, 1, tzinfo=UTC),
        "# What really happened with Aaron Swartz?",
    )
    b.repo(
        FORK,
        "Generate massive amounts of fake data - the community fork after the faker.js endgame",
        _day(14, 9),
        "# Faker\n\nCommunity fork after the faker.js endgame wiped the original.",
    )
    b.repo(
        LIBERTY,
        "Open Liberty is a highly composable, fast to start, dynamic application server runtime environment",
        datetime(2017, 9, 1, tzinfo=UTC),
        "# Open Liberty\n\nA lightweight Java runtime.",
    )
    b.repo(
        WINSTON,
        "A logger for just about everything.",
        datetime(2010, 1, 18, tzinfo=UTC),
        "# winston\n\nA logger for just about everything.",
    )
    b.repo(NOTES, "misc notes", datetime(2015, 2, 2, tzinfo=UTC), "# notes")
    w.keep_all = {COLORS.lower(), FAKER.lower()}

    # Histories before the window: commits, issues, stars, forks (2011 onwards).
    for name in (COLORS, FAKER, NOTES, LIBERTY, WINSTON):
        for n in range(12):
            b.commit(name, b.when(past, _day(1)), "DABH", f"Maintenance {n}", [f"lib/m{n}.js"])
    b.readme_commit(COLORS, datetime(2019, 6, 2, tzinfo=UTC), "DABH")
    b.readme_commit(NOTES, datetime(2016, 3, 3, tzinfo=UTC), "Marak")
    old_issues = {
        name: [
            b.issue(name, n, b.rng.choice(OTHER_ISSUES), b.when(past, _day(1)), False)
            for n in range(1, 31)
        ]
        for name in (COLORS, FAKER)
    }
    b.stars(COLORS, 45, past, WINDOW_START)
    b.forks(COLORS, 25, past, WINDOW_START)
    b.stars(FAKER, 30, past, WINDOW_START)
    b.forks(FAKER, 10, past, WINDOW_START)

    # 4 January: faker.js "endgame" (New York evening). 7 January: the flag module in colors.js.
    b.readme_commit(
        FAKER,
        _day(4, 21, 49),
        "Marak",
        "endgame",
        files=["lib/index.js", "package.json"],
        matches=True,
    )
    b.commit(
        COLORS,
        _day(8, 0, 52),
        "Marak",
        "Adds new american flag module\n\nLIBERTY LIBERTY LIBERTY",
        ["lib/custom/american.js", "lib/index.js"],
        matches=True,
    )
    b.commit(COLORS, _day(8, 1, 10), "Marak", "Bump version to 1.4.44-liberty-2", ["package.json"])
    b.commit(
        COLORS,
        _day(9, 7, 15),
        "lena-k",
        "Docs: mention the theme API",
        ["docs/themes.md"],
        committed=_day(10, 8, 0),
    )
    b.commit(NOTES, _day(9, 3, 0), "Marak", "notes on open source and unpaid work", ["2022.md"])

    # The crowd: stars, forks, issues, comments, pull requests and their reviews.
    b.stars(COLORS, 45, _day(4), FIRST - timedelta(hours=1))
    b.forks(COLORS, 65, _day(4), FIRST - timedelta(hours=1))
    b.stars(FAKER, 20, _day(4), FIRST - timedelta(hours=1))
    b.forks(FAKER, 15, _day(4), FIRST - timedelta(hours=1))
    b.stars(FORK, 25, _day(14, 10), FIRST - timedelta(hours=1))
    b.forks(FORK, 8, _day(14, 10), FIRST - timedelta(hours=1))
    b.stars(NOTES, 5, _day(9), FIRST - timedelta(hours=1))
    b.stars(LIBERTY, 40, past, FIRST)
    b.forks(LIBERTY, 20, past, FIRST)
    issues: dict[str, list[dict[str, Any]]] = {}
    plan = {COLORS: (230, 70), FAKER: (1020, 25), FORK: (1, 12), NOTES: (3, 6)}
    for name, (first_number, count) in plan.items():
        for n in range(count):
            matches = n % 3 == 0 or (name in (COLORS, FAKER) and n % 2 == 0)
            title = b.rng.choice(MATCHING_ISSUES if matches else OTHER_ISSUES)
            start = _day(14, 10) if name == FORK else _day(8, 2)
            at = b.when(start, FIRST - timedelta(hours=2))
            issues.setdefault(name, []).append(b.issue(name, first_number + n, title, at, matches))
    pr_fix = b.issue(
        COLORS,
        317,
        "Fix colors infinite loop from the american flag module",
        _day(9, 11),
        True,
        pr=True,
    )
    pr_joke = b.issue(COLORS, 320, "o", _day(12, 9, 30), False, pr=True)
    issues[COLORS] += [pr_fix, pr_joke]
    b.commit(
        COLORS,
        _day(9, 10, 30),
        "DABH",
        "Remove the american flag module",
        ["lib/custom/american.js", "lib/index.js"],
        matches=True,
        pull=317,
    )
    b.commit(
        COLORS,
        _day(9, 10, 45),
        "DABH",
        "Add a test for the colors infinite loop",
        ["tests/loop.js"],
        matches=True,
        pull=317,
    )
    b.commit(COLORS, _day(12, 9, 20), "arjun-dev", "o", ["README.md"], pull=320)
    first = b.review_comment(
        COLORS, 320, _day(12, 10), "You should use ++i to reach Infinity faster"
    )
    b.review_comment(
        COLORS, 320, _day(12, 10, 20), "Thanks, you can also start at 667", reply_to=first
    )
    b.review_comment(COLORS, 317, _day(9, 12), "This removes the colors infinite loop, LGTM")
    for name, listed in issues.items():
        for _ in range(len(listed) + 5):
            issue = b.rng.choice(listed)
            matches = b.rng.random() < 0.35
            at = b.when(
                max(_day(8, 3), datetime.fromisoformat(issue["created_at"].replace("Z", "+00:00"))),
                FIRST - timedelta(minutes=30),
            )
            b.comment(name, issue, at, matches)
    for name in (COLORS, FAKER):  # old issues brought back to life: their new comments count
        for issue in old_issues[name][:3]:
            b.comment(name, issue, b.when(_day(8, 3), FIRST - timedelta(minutes=30)), True)
    b.readme_commit(
        FORK,
        _day(14, 9, 5),
        "lena-k",
        "Initial community fork after the faker.js endgame",
        matches=True,
    )
    b.commit(FORK, _day(14, 15), "lena-k", "Set up CI", [".github/workflows/ci.yml"])

    # Elsewhere: the slogan search finds Open Liberty (a project, issues mentioning Liberty);
    # one winston issue and one commit are about the loop.
    for n in range(1, 61):
        title = f"Liberty server fails to start ({n})" if n % 4 == 0 else b.rng.choice(OTHER_ISSUES)
        b.issue(LIBERTY, 19000 + n, title, b.when(_day(4), FIRST - timedelta(hours=3)), False)
    b.issue(WINSTON, 2010, "colors.js liberty release breaks all console output", _day(9, 14), True)
    b.issue(WINSTON, 2011, "Support for log rotation", _day(9, 15), False)
    b.commit(
        WINSTON,
        _day(9, 16),
        "DABH",
        "Pin colors to 1.4.0 (colors.js liberty loop)",
        ["package.json"],
        matches=True,
    )

    # Between the first crawls and the last: more of everything.
    after = (FIRST + timedelta(minutes=5), LATER - timedelta(hours=1))
    b.stars(COLORS, 7, *after)
    b.forks(COLORS, 6, *after)
    b.stars(FAKER, 3, *after)
    b.stars(FORK, 5, *after)
    for n, (name, matches) in enumerate(
        [(COLORS, True), (COLORS, False), (FAKER, True), (FORK, True), (FORK, False), (NOTES, True)]
    ):
        title = b.rng.choice(MATCHING_ISSUES if matches else OTHER_ISSUES)
        new = b.issue(name, 5000 + n, title, b.when(*after), matches)
        b.comment(name, new, LATER - timedelta(minutes=50 - n), matches)
    b.commit(
        COLORS,
        _day(16, 18),
        "DABH",
        "Release 1.4.1 without the american flag module",
        ["package.json", "lib/index.js"],
        matches=True,
    )
    b.commit(
        FORK, _day(16, 9), "lena-k", "Drop the endgame leftovers", ["lib/old.js"], matches=True
    )
    for name in (COLORS, FAKER, FORK, NOTES):
        shown = [e for e in b.data.repo_events.get(name, []) if e["created_at"] <= iso(LATER)]
        assert len(shown) <= 300, f"{name}: {len(shown)} events; the API shows only 300"
    next(i for i in w.items if i.id == f"github:{FORK.lower()}").matches = True
    return w


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def followed(world: World, at: datetime) -> dict[str, bool]:
    """Repos a correct crawl at `at` follows (canonical name → keep_all): the incident's own;
    the community fork, once it exists (its description matches, the repo search finds it);
    the maintainer's notes, once his own in-window push there shows in his events."""
    repos = {name: True for name in world.keep_all}
    if _time(next(r for r in world.data.repos if r["full_name"] == FORK)["created_at"]) <= at:
        repos[FORK.lower()] = False
    pushes = [
        e
        for e in world.data.user_events.get("Marak", [])
        if e["repo"]["name"] == NOTES and WINDOW_START <= _time(e["created_at"]) <= at
    ]
    if pushes:
        repos[NOTES.lower()] = False
    return repos


def truth(world: World, at: datetime) -> dict[str, dict[str, WorldItem]]:
    """What a correct crawl at `at` has indexed, per kind (`posts:<kind>` or `activity:<event>`),
    by document id: visible by then, inside the window, and either in a followed repo (all of a
    keep_all repo; matching posts and all activity of another) or a matching search hit."""
    repos = followed(world, at)
    pulls = {i.id.rsplit("#", 1)[1]: i.matches for i in world.items if i.kind == "pull_request"}
    found: dict[str, dict[str, WorldItem]] = {}
    for item in [*world.items, *readmes(world, at)]:
        if item.visible > at or item.at < WINDOW_START:
            continue
        repo = (item.repo or "").lower()
        if item.pull is not None and not (repo == COLORS.lower() and pulls.get(str(item.pull))):
            continue  # commits of a pull request are read when the pull request matches
        if repo in repos:
            keep = item.doc == "activity" or repos[repo] or item.matches
        else:
            keep = item.doc == "posts" and item.matches and repo == WINSTON.lower()
        if keep:
            found.setdefault(f"{item.doc}:{item.kind}", {})[item.id] = item
    return found


def readmes(world: World, at: datetime) -> list[WorldItem]:
    """A README document per repo, as new as the last default-branch commit that changed it."""
    found = []
    for name, readme in world.data.readmes.items():
        changes = [
            _time(c["commit"]["committer"]["date"])
            for c in world.data.repo_commits.get(name, [])
            if "README.md" in {f["filename"] for f in c["files"]}
            and _time(c["commit"]["committer"]["date"]) <= at
        ]
        if changes:
            when = max(changes)
            matches = any(word in readme for word in ("Aaron Swartz", "faker.js endgame"))
            doc = f"github:{name.lower()}:readme"
            found.append(WorldItem("posts", "article", doc, when, when, name, matches))
    return found
