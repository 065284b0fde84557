"""A replayed news world for the scale tests and benchmark: many incidents, each with its feeds.

Every incident `inc-NN` has its own feeds on one replay host, each item a distinct article that
matches the incident's query, so the truth — which posts a complete crawl must index — is known
before any crawl runs: `news:<sha1 of guid>` for every item (the feeds spider's id rule, restated
here from the RSS guid rather than taken from the code under test).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import yaml

from spreadwatch.replay.feeds import FeedsData

T0 = datetime(2024, 10, 18, 0, 0, tzinfo=UTC)


def incident_id(number: int) -> str:
    return f"inc-{number:02d}"


def news_world(incidents: int, feeds: int, items: int) -> tuple[FeedsData, dict[str, set[str]]]:
    """Feeds for `incidents` incidents and the post ids each incident's crawl must index."""
    data = FeedsData()
    truth: dict[str, set[str]] = {}
    for number in range(incidents):
        ident = incident_id(number)
        truth[ident] = set()
        for feed in range(feeds):
            path = f"/{ident}/feed-{feed}.xml"
            entries = []
            for item in range(items):
                guid = f"{ident}/{feed}/{item}"
                when = T0 + timedelta(minutes=item * 7 + feed)
                title = f"ByteDance intern story {number}.{feed}.{item}"
                entries.append(
                    {
                        "title": f"{title} - Desk {feed}",
                        "link": f"https://news{feed}.example/{ident}/{item}",
                        "guid": {"text": guid, "isPermaLink": "false"},
                        "pubDate": format_datetime(when, usegmt=True),
                        "description": f"Report {item} of desk {feed} on the ByteDance intern.",
                    }
                )
                truth[ident].add("news:" + hashlib.sha1(guid.encode()).hexdigest())
            data.feeds[path] = {
                "title": f"Desk {feed}",
                "link": "https://news.example/",
                "items": entries,
            }
    return data, truth


def write_incidents(folder: Path, base_url: str, incidents: int, feeds: int) -> list[Path]:
    """One incident file per incident, its feeds on the replay host at `base_url`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(incidents):
        ident = incident_id(number)
        incident = {
            "id": ident,
            "title": f"Scale test incident {number}",
            "window": {"start": "2024-10-01T00:00:00Z"},
            "languages": ["en"],
            "queries": [{"name": "en", "lang": "en", "any": ["ByteDance intern"]}],
            "sources": {
                "feeds": {
                    "every": "1h",
                    "feeds": [{"url": f"{base_url}/{ident}/feed-{f}.xml"} for f in range(feeds)],
                }
            },
        }
        path = folder / f"{ident}.yml"
        path.write_text(yaml.safe_dump(incident), encoding="utf-8")
        paths.append(path)
    return paths
