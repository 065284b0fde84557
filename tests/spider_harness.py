"""Run one real spider in a subprocess against replay servers; return its items and stats.

A subprocess per crawl because the Twisted reactor cannot restart inside the pytest process.
The spider runs unchanged: its base URL points at a `ReplayServer`, its state lives in the
test's data folder, and its items are written by Scrapy's own feed exporter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_SCRIPT = """
import json, sys
from scrapy.crawler import CrawlerProcess
name, incident, out, stats_file, extra = sys.argv[1:6]
settings = {
    "SPIDER_MODULES": ["crawlers.spiders"],
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "INFO",
    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    "FEEDS": {out: {"format": "jsonlines", "encoding": "utf8"}},
    "RETRY_TIMES": 2,
    **json.loads(extra),
}
process = CrawlerProcess(settings)
crawler = process.create_crawler(name)
process.crawl(crawler, incident=incident)
process.start()
with open(stats_file, "w") as f:
    json.dump({k: v for k, v in crawler.stats.get_stats().items()}, f, default=str)
"""


@dataclass
class CrawlResult:
    items: list[dict[str, Any]]
    stats: dict[str, Any]
    log: str

    def posts(self) -> list[dict[str, Any]]:
        return [i for i in self.items if "native_id" in i and "kind" in i]

    def activities(self) -> list[dict[str, Any]]:
        return [i for i in self.items if "event" in i]

    def ids(self) -> list[str]:
        return [f"{i['platform']}:{i['native_id']}" for i in self.posts()]

    def stat(self, key: str) -> int:
        return int(self.stats.get(key, 0))


def run_spider(
    name: str,
    incident: Path,
    workdir: Path,
    env: dict[str, str],
    *,
    scrapy_settings: dict[str, Any] | None = None,
    timeout: float = 120,
) -> CrawlResult:
    """Crawl once; `env` holds the SPREADWATCH_* variables (base URLs, data dir)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"items-{len(list(workdir.glob('items-*')))}.jsonl"
    stats_file = out.with_suffix(".stats.json")
    full_env = {
        **os.environ,
        "SPREADWATCH_DATA_DIR": str(workdir / "data"),
        "SPREADWATCH_STATE_STORE": "file",  # no cluster here: the state stays in the data dir
        **env,
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _SCRIPT,
            name,
            str(incident),
            str(out),
            str(stats_file),
            json.dumps(scrapy_settings or {}),
        ],
        cwd=PROJECT_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0 or not stats_file.exists():
        raise AssertionError(f"crawl failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    items = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return CrawlResult(items, json.loads(stats_file.read_text()), proc.stderr)
