"""Web pages and news articles: gone when the server says so (404, 410, 451).

Their edits are seen by the crawl that reads them (a statement page is read on every run), not
here: a news article's page is not the feed item's text, so comparing them would cry wolf.
"""

from __future__ import annotations

from crawlers.recheck.model import CheckContext, Fetch, Reply, Target, Verdict, http_verdict
from crawlers.spiders.base import rebase


def fetch(target: Target, ctx: CheckContext) -> Fetch | None:
    if not target.url or not target.url.startswith(("http://", "https://")):
        return None
    source = "feeds" if target.platform == "news" else "pages"
    return Fetch(rebase(target.url, ctx.settings.base_url(source)))


def judge(target: Target, reply: Reply) -> Verdict:
    return http_verdict("web", reply) or Verdict()
