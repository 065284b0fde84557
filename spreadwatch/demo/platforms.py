"""Every platform of the reconstructed dataset and the function that builds its records.

The order is the generation order: changing it changes the random draws, hence the data.
"""

from __future__ import annotations

from collections.abc import Callable

from spreadwatch.demo.context import Context, Record
from spreadwatch.demo.platforms_cn import build_toutiao, build_v2ex, build_weibo
from spreadwatch.demo.platforms_github import build_github
from spreadwatch.demo.platforms_social import (
    build_bluesky,
    build_feeds,
    build_hackernews,
    build_mastodon,
    build_reddit,
)

PLATFORM_BUILDERS: dict[str, Callable[[Context], list[Record]]] = {
    "weibo": build_weibo,
    "v2ex": build_v2ex,
    "github": build_github,
    "toutiao": build_toutiao,
    "hackernews": build_hackernews,
    "reddit": build_reddit,
    "mastodon": build_mastodon,
    "bluesky": build_bluesky,
    "feeds": build_feeds,
}
