"""Re-checking posts of interest: is each still there, and does it still say the same?

One module per platform builds the request that fetches one post (`fetch(target, ctx)`) and
reads the reply (`judge(target, reply) -> Verdict`): gone (how the platform says so: a 404/410/451,
Weibo's error codes, Bluesky's `NotFound`, Reddit's `[removed]`, a GitHub commit force-pushed
away), its current version (parsed by the platform's own parser, so the ingest core sees an edit
as a changed text), or unverifiable (a login wall, a rate limit: never taken for a deletion).
`crawlers.spiders.recheck.RecheckSpider` runs them; the targets come from the posts index
(`indexer.evidence_queries.recheck_targets`), written to a file by `evidence.recheck`.
"""

from __future__ import annotations

from types import ModuleType

from crawlers.recheck import bluesky, github, hackernews, mastodon, reddit, telegram, web, weibo
from crawlers.recheck.model import CheckContext, Fetch, Reply, Target, Verdict

CHECKERS: dict[str, ModuleType] = {
    "github": github,
    "mastodon": mastodon,
    "bluesky": bluesky,
    "reddit": reddit,
    "weibo": weibo,
    "hackernews": hackernews,
    "telegram": telegram,
}


def checker(platform: str) -> ModuleType:
    """The module that checks `platform`'s posts; plain web pages (news, pages) for the rest."""
    return CHECKERS.get(platform, web)


__all__ = ["CheckContext", "Fetch", "Reply", "Target", "Verdict", "checker"]
