"""Run one social spider for real, in a subprocess: what it yielded, counted and logged.

Scrapy's reactor cannot restart inside the pytest process, so each crawl runs as
`python tests/social_crawl.py SPIDER INCIDENT OUT [SETTINGS]`; the child writes the items (as
dicts) and the crawl stats to OUT as JSON. Settings come from the environment the test gives
(`SPREADWATCH_<SOURCE>_BASE_URL` at a replay server, `SPREADWATCH_DATA_DIR` for the state);
SETTINGS, JSON, replaces Scrapy settings of `_main` (a longer `SPREADWATCH_RATELIMIT_MAX_WAIT`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from spreadwatch.replay import REPLAY_NETWORKS

ROOT = Path(__file__).resolve().parent.parent
SPIDERS = {
    "hackernews": "crawlers.spiders.hackernews:HackerNewsSpider",
    "reddit": "crawlers.spiders.reddit:RedditSpider",
    "mastodon": "crawlers.spiders.mastodon:MastodonSpider",
    "bluesky": "crawlers.spiders.bluesky:BlueskySpider",
    "weibo": "crawlers.spiders.weibo:WeiboSpider",
    "telegram": "crawlers.spiders.telegram:TelegramSpider",
    "pages": "crawlers.spiders.pages:PagesSpider",
    "feeds": "crawlers.spiders.feeds:FeedsSpider",
    "recheck": "crawlers.spiders.recheck:RecheckSpider",
}


@dataclass
class Crawl:
    items: list[dict[str, Any]]
    stats: dict[str, Any]
    log: str = ""  # what the crawl logged (Scrapy's log, INFO and up)

    def ids(self) -> list[str]:
        return sorted(f"{i['platform']}:{i['native_id']}" for i in self.items if "native_id" in i)

    def by_id(self) -> dict[str, dict[str, Any]]:
        return {f"{i['platform']}:{i['native_id']}": i for i in self.items if "native_id" in i}

    def stat(self, key: str) -> int:
        return int(self.stats.get(f"spreadwatch/{key}", 0))


def write_incident(folder: Path, sources: dict[str, Any], **extra: Any) -> Path:
    """A small incident file for the founding case with the given `sources:` section.

    `extra` adds or replaces top-level keys (e.g. a unique `id`, so state files never collide).
    """
    incident = {
        "id": "bytedance-test",
        "title": "ByteDance intern GPU sabotage rumour",
        "window": {"start": "2024-10-17T00:00:00Z"},
        "languages": ["zh", "en", "de"],
        "queries": [
            {"name": "bytedance-en", "lang": "en", "any": ["bytedance intern"]},
            {"name": "bytedance-zh", "lang": "zh", "any": ["字节跳动 实习生"]},
        ],
        "official": {
            "organisation": "ByteDance",
            "accounts": [
                {"platform": "weibo", "id": "1400854834"},
                {"platform": "bluesky", "handle": "bytedance.com"},
                {"platform": "telegram", "handle": "bytedance_official"},
            ],
        },
        "sources": sources,
        **extra,
    }
    path = folder / "incident.yml"
    path.write_text(yaml.safe_dump(incident, allow_unicode=True), encoding="utf-8")
    return path


def crawl(
    spider: str,
    incident: Path,
    tmp_path: Path,
    scrapy_settings: dict[str, Any] | None = None,
    **env: str,
) -> Crawl:
    """Run `spider` on `incident`; `env` adds SPREADWATCH_* variables (base URLs, secrets),
    `scrapy_settings` replace the crawl's Scrapy settings."""
    out = tmp_path / f"crawl-{spider}.json"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SPREADWATCH_")},
        "SPREADWATCH_DATA_DIR": str(tmp_path / "data"),
        "SPREADWATCH_STATE_STORE": "file",  # no cluster here: the state stays in the data dir
        "SPREADWATCH_ALLOW_PRIVATE_NETWORKS": REPLAY_NETWORKS,
        "PYTHONPATH": str(ROOT),
        **env,
    }
    done = subprocess.run(
        [sys.executable, __file__, SPIDERS[spider], str(incident), str(out), json.dumps(scrapy_settings or {})],
        env=environment, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0 or not out.exists():
        raise AssertionError(f"crawl failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result = json.loads(out.read_text(encoding="utf-8"))
    return Crawl(items=result["items"], stats=result["stats"], log=done.stderr)


def _to_dict(item: Any) -> dict[str, Any]:
    return dataclasses.asdict(item) if dataclasses.is_dataclass(item) else dict(item)


def _main(target: str, incident: str, out: str, settings: str = "{}") -> None:
    import importlib

    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    module, _, name = target.partition(":")
    spider_class = getattr(importlib.import_module(module), name)
    collected: list[dict[str, Any]] = []

    def keep(item: Any, response: Any, spider: Any) -> None:
        collected.append(_to_dict(item))

    process = CrawlerProcess(
        {
            "LOG_LEVEL": "INFO",
            "TELNETCONSOLE_ENABLED": False,
            "COOKIES_ENABLED": False,  # as in `crawlers.settings`: a spider sends its own Cookie
            "RETRY_TIMES": 1,
            "SPREADWATCH_RATELIMIT_BACKOFF": 0.2,
            "SPREADWATCH_RATELIMIT_MAX_WAIT": 2,
            **json.loads(settings),
        }
    )
    crawler = process.create_crawler(spider_class)
    crawler.signals.connect(keep, signal=signals.item_scraped)
    process.crawl(crawler, incident=incident)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    payload = {"items": collected, "stats": stats}
    Path(out).write_text(json.dumps(payload, default=str, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    _main(*sys.argv[1:5])
