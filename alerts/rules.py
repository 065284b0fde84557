"""What each rule type means: one small evaluator per type, all reading Elasticsearch.

An evaluator returns every `Finding` its rule sees now; whether a finding becomes an alert
(realert windows, silences, "first" rules firing once) is decided by `alerts.store`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from elasticsearch.dsl import Q
from elasticsearch.dsl.query import Query

from alerts.context import Context
from alerts.evidence import edited_finding, removed_finding
from alerts.model import Finding, human_number, human_window, platform_name
from alerts.wording import stance_phrase
from indexer.alert_queries import DENIAL
from indexer.scope import OFFICIAL_DENIAL
from spreadwatch.alert_rules import Rule


def _platform_keys(rule: Rule, ctx: Context, start: datetime) -> list[str | None]:
    if not rule.per_platform:
        return [None]
    seen = ctx.queries.counts_by_platform(start, ctx.now)
    return [p for p in sorted(seen) if rule.platforms is None or p in rule.platforms]


def spike(rule: Rule, ctx: Context) -> list[Finding]:
    """Volume in the last window against the baseline window before it, scaled to one window."""
    start = ctx.now - rule.window
    base_start = start - rule.baseline
    found = []
    for platform in _platform_keys(rule, ctx, base_start):
        current = ctx.queries.count(start, ctx.now, platform=platform)
        before = ctx.queries.count(base_start, start, platform=platform)
        expected = before * (rule.window / rule.baseline)
        finding = _spike_finding(rule, ctx, platform, current, expected)
        if finding is not None:
            found.append(finding)
    return found


def _spike_finding(
    rule: Rule, ctx: Context, platform: str | None, current: int, expected: float
) -> Finding | None:
    if rule.direction == "up":
        ratio = current / expected if expected else float("inf")
        if current < rule.min_count or ratio < rule.ratio:
            return None
        label, factor = "Spike", ("new" if expected == 0 else f"×{ratio:.1f}")
    else:
        ratio = expected / current if current else float("inf")
        if expected < rule.min_count or ratio < rule.ratio:
            return None
        label, factor = "Drop", f"÷{ratio:.1f}" if current else "to zero"
    where = f" on {platform_name(platform)}" if platform else ""
    window = human_window(rule.window)
    return Finding(
        rule=rule.name,
        rule_type=rule.type,
        key=platform or "all",
        headline=f"{label}: {factor}{where} in {window}",
        summary=(
            f"{current} posts{where} in {window}, against {expected:.1f} expected from the "
            f"{human_window(rule.baseline).removeprefix('the last ')} before."
        ),
        window_start=ctx.now - rule.window,
        window_end=ctx.now,
        value=None if ratio == float("inf") else round(ratio, 2),
        platform=platform,
        numbers=[("posts in window", str(current)), ("expected", f"{expected:.1f}")],
        posts=ctx.queries.top(ctx.now - rule.window, ctx.now, platform=platform),
    )


def threshold(rule: Rule, ctx: Context) -> list[Finding]:
    """N matching posts within the window."""
    start = ctx.now - rule.window
    found = []
    for platform in _platform_keys(rule, ctx, start):
        current = ctx.queries.count(start, ctx.now, platform=platform)
        if current < rule.count:
            continue
        where = f" on {platform_name(platform)}" if platform else ""
        found.append(
            Finding(
                rule=rule.name,
                rule_type=rule.type,
                key=platform or "all",
                headline=f"Threshold: {current} posts{where} in {human_window(rule.window)}",
                summary=f"{current} posts{where}; the rule fires at {rule.count}.",
                window_start=start,
                window_end=ctx.now,
                value=current,
                platform=platform,
                numbers=[("posts in window", str(current)), ("threshold", str(rule.count))],
                posts=ctx.queries.top(start, ctx.now, platform=platform),
            )
        )
    return found


def _who(post: dict[str, Any]) -> str:
    author = post.get("author") or {}
    handle = author.get("handle")
    return f"@{handle}" if handle else author.get("name") or author.get("id") or "unknown author"


def _post_finding(rule: Rule, ctx: Context, post: dict[str, Any], key: str, head: str) -> Finding:
    when = datetime.fromisoformat(str(post["@timestamp"]).replace("Z", "+00:00"))
    platform = post.get("platform")
    return Finding(
        rule=rule.name,
        rule_type=rule.type,
        key=key,
        headline=head,
        summary=f"{_who(post)} on {platform_name(platform)} at {when:%Y-%m-%d %H:%M} UTC.",
        window_start=when,
        window_end=ctx.now,
        platform=platform,
        numbers=[("published", f"{when:%Y-%m-%d %H:%M} UTC")],
        posts=[post],
        basis=[post["_id"]],
    )


def first_platform(rule: Rule, ctx: Context) -> list[Finding]:
    """The first post on each platform (how the rumour travelled)."""
    firsts = ctx.queries.first_per_platform(ctx.now)
    return [
        _post_finding(rule, ctx, post, platform, f"First post on {platform_name(platform)}")
        for platform, post in sorted(firsts.items())
        if rule.platforms is None or platform in rule.platforms
    ]


def influential_author(rule: Rule, ctx: Context) -> list[Finding]:
    """The first post of each author above the follower count."""
    query = Q("range", **{"author.followers": {"gte": rule.followers}})
    found: dict[str, Finding] = {}
    for post in ctx.queries.find(query, ctx.now, start=ctx.since, size=200):
        author = post.get("author") or {}
        key = f"{post.get('platform')}:{author.get('id') or author.get('handle')}"
        if key in found:
            continue
        followers = human_number(float(author.get("followers") or 0))
        head = (
            f"Influential author: {_who(post)} ({followers} followers) "
            f"{stance_phrase(post.get('stance'))} on {platform_name(post.get('platform'))}"
        )
        found[key] = _post_finding(rule, ctx, post, key, head)
    return list(found.values())


def new_repo(rule: Rule, ctx: Context) -> list[Finding]:
    """A GitHub repository matching the incident (the 'evidence' phase often starts there)."""
    query = Q("term", platform="github") & Q("term", kind="repo")
    found = []
    for post in ctx.queries.find(query, ctx.now, start=ctx.since, size=200):
        name = post.get("repo") or post.get("title") or post["_id"]
        found.append(_post_finding(rule, ctx, post, str(name), f"New GitHub repo: {name}"))
    return found


def official_denial(rule: Rule, ctx: Context) -> list[Finding]:
    """The first official denial (`indexer.scope`), keyed on that post: an earlier alert whose
    post no longer qualifies does not stand in the way of the real one."""
    post = ctx.queries.first_denial(ctx.now)
    if post is None:
        return []
    head = f"Official denial: {_who(post)} on {platform_name(post.get('platform'))}"
    return [_post_finding(rule, ctx, post, post["_id"], head)]


def denial_not_landing(rule: Rule, ctx: Context) -> list[Finding]:
    """A window after the denial, rumour posts still rise from one window to the next."""
    denial = ctx.queries.first_denial(ctx.now)
    if denial is None:
        return []
    denied = datetime.fromisoformat(str(denial["@timestamp"]).replace("Z", "+00:00"))
    if ctx.now - denied < rule.window:
        return []
    start, before = ctx.now - rule.window, ctx.now - 2 * rule.window
    current = ctx.queries.count(start, ctx.now, stance="rumour")
    previous = ctx.queries.count(before, start, stance="rumour")
    if current <= previous or current < rule.min_count:
        return []
    hours = (ctx.now - denied) / timedelta(hours=1)
    return [
        Finding(
            rule=rule.name,
            rule_type=rule.type,
            key="rising",
            headline=f"Denial not landing: rumour posts still rising {hours:.0f}h after the denial",
            summary=f"{current} rumour posts in {human_window(rule.window)}, up from {previous}.",
            window_start=start,
            window_end=ctx.now,
            value=current,
            numbers=[("rumour posts now", str(current)), ("window before", str(previous))],
            posts=ctx.queries.top(start, ctx.now, query=Q("term", stance="rumour")),
        )
    ]


def denial_overtakes(rule: Rule, ctx: Context) -> list[Finding]:
    """The denial's summed reach passes the rumour's (the same measure as the timeline's and the
    report's `denial reach ÷ rumour reach`, so an alert never contradicts them)."""
    reach = ctx.queries.reach_by_stance(ctx.now)
    denial = reach.get("denial", 0.0)
    rumour = reach.get("rumour", 0.0)
    if rumour <= 0 or denial <= rumour:
        return []
    widest = ctx.queries.top(ctx.since, ctx.now, query=DENIAL, size=MAX_BASIS)
    return [
        Finding(
            rule=rule.name,
            rule_type=rule.type,
            key="overtaken",
            headline=f"Denial overtakes rumour: reach {human_number(denial)} vs {human_number(rumour)}",
            summary="The denial has now reached more people than the rumour.",
            window_start=ctx.since,
            window_end=ctx.now,
            value=round(denial / rumour, 2),
            numbers=[
                ("denial reach", human_number(denial)),
                ("rumour reach", human_number(rumour)),
            ],
            posts=widest[:5],
            basis=_overtaking(widest, rumour),
        )
    ]


#: At most this many posts are recorded as what a denial_overtakes alert stands on.
MAX_BASIS = 50


def _overtaking(widest: list[dict[str, Any]], rumour: float) -> list[str]:
    """The fewest widest-reaching denial posts whose reach passes the rumour's."""
    basis, total = [], 0.0
    for post in widest:
        basis.append(post["_id"])
        total += float(post.get("reach") or 0)
        if total > rumour:
            break
    return basis


def resolved(rule: Rule, ctx: Context) -> list[Finding]:
    """An open spike whose volume fell back under a threshold is closed with a notice."""
    spikes = [
        r
        for r in ctx.incident.alerts.rules
        if r.type == "spike" and r.direction == "up" and rule.closes in (None, r.name)
    ]
    found = []
    for spike_rule in spikes:
        limit = rule.below if rule.below is not None else spike_rule.min_count
        for alert in ctx.open_spikes(spike_rule.name):
            platform = None if alert["key"] == "all" else alert["key"]
            start = ctx.now - spike_rule.window
            current = ctx.queries.count(start, ctx.now, platform=platform)
            if current >= limit:
                continue
            where = f"on {platform_name(platform)}" if platform else "overall"
            found.append(
                Finding(
                    rule=rule.name,
                    rule_type=rule.type,
                    key=f"{spike_rule.name}:{alert['key']}:{alert['_id']}",
                    headline=f"Resolved: {where} back to {current} posts in {human_window(spike_rule.window)}",
                    summary=f"Closes “{alert.get('subject', spike_rule.name)}”.",
                    window_start=start,
                    window_end=ctx.now,
                    value=current,
                    platform=platform,
                    numbers=[("posts in window", str(current)), ("resolved under", str(limit))],
                    closes=alert["_id"],
                )
            )
    return found


def _bad(run: dict[str, Any]) -> bool:
    """A run that brought nothing: it failed, or fetched no item (a 304 counts as alive)."""
    if run.get("status") in ("failed", "timeout", "refused"):
        return True
    return not (run.get("items_scraped") or run.get("not_modified"))


def silent_source(rule: Rule, ctx: Context) -> list[Finding]:
    """A source that returned data before returns nothing, or only errors, for N runs."""
    by_source: dict[str, list[dict[str, Any]]] = {}
    for run in ctx.queries.recent_runs(ctx.now):
        by_source.setdefault(str(run.get("source")), []).append(run)
    found = []
    for source, runs in sorted(by_source.items()):
        if rule.sources is not None and source not in rule.sources:
            continue
        latest, earlier = runs[: rule.runs], runs[rule.runs :]
        if len(latest) < rule.runs or not all(_bad(r) for r in latest):
            continue
        if all(_bad(r) for r in earlier):
            continue
        errors = sum(int(r.get("error_count") or 0) for r in latest)
        problem = _last_problem(latest)
        found.append(
            Finding(
                rule=rule.name,
                rule_type=rule.type,
                key=source,
                headline=f"Silent source: {platform_name(source)} returned nothing for {rule.runs} runs",
                summary=(
                    f"Statuses: {', '.join(str(r.get('status')) for r in latest)}; {errors} errors"
                    + (f"; last: {problem}." if problem else ".")
                ),
                window_start=datetime.fromisoformat(
                    str(latest[-1]["@timestamp"]).replace("Z", "+00:00")
                ),
                window_end=ctx.now,
                value=errors,
                platform=source,
                numbers=[
                    ("runs without data", str(rule.runs)),
                    ("errors", str(errors)),
                    *([("last error", problem)] if problem else []),
                ],
            )
        )
    return found


def _last_problem(runs: list[dict[str, Any]]) -> str:
    """What went wrong in the latest run that says so: its error text, else its HTTP statuses
    other than 200/304 (e.g. `HTTP 503 ×3`), else how it finished."""
    for run in runs:
        errors = run.get("errors")
        text = errors[-1] if isinstance(errors, list) and errors else errors
        if text:
            return " ".join(str(text).split())[:300]
        statuses = [
            f"HTTP {c.get('key')} ×{c.get('count')}"
            for c in run.get("http_status") or []
            if isinstance(c, dict) and str(c.get("key")) not in ("200", "304")
        ]
        if statuses:
            return ", ".join(statuses)
    reason = runs[0].get("finish_reason") if runs else None
    return f"finished: {reason}" if reason and reason != "finished" else ""


#: What a lifecycle finding's basis posts must still be for an earlier alert to stand (besides
#: being posts of the incident, inside its window).
BASIS_QUERIES: dict[str, Query] = {
    "official_denial": OFFICIAL_DENIAL,
    "denial_overtakes": DENIAL,
    "first_platform": Q("match_all"),
    "influential_author": Q("match_all"),
    "new_repo": Q("term", platform="github") & Q("term", kind="repo"),
    "evidence_removed": Q("exists", field="deleted_at"),
    "statement_edited": Q("exists", field="edited_at") & Q("term", **{"author.official": True}),
}


def evidence_removed(rule: Rule, ctx: Context) -> list[Finding]:
    """A post of the incident found deleted (`deleted_at`), with where its archived copy is."""
    found = []
    for post in ctx.queries.find(BASIS_QUERIES["evidence_removed"], ctx.now, size=200):
        if rule.platforms is not None and post.get("platform") not in rule.platforms:
            continue
        found.append(removed_finding(rule, ctx, post))
    return found


def statement_edited(rule: Rule, ctx: Context) -> list[Finding]:
    """An official post whose text changed since it was first archived, with a diff."""
    query = BASIS_QUERIES["statement_edited"]
    return [edited_finding(rule, ctx, post) for post in ctx.queries.find(query, ctx.now, size=200)]


EVALUATORS: dict[str, Callable[[Rule, Context], list[Finding]]] = {
    "spike": spike,
    "threshold": threshold,
    "first_platform": first_platform,
    "influential_author": influential_author,
    "new_repo": new_repo,
    "official_denial": official_denial,
    "denial_not_landing": denial_not_landing,
    "denial_overtakes": denial_overtakes,
    "resolved": resolved,
    "silent_source": silent_source,
    "evidence_removed": evidence_removed,
    "statement_edited": statement_edited,
}
