"""The re-check job's hand-over: the posts of interest, written where the crawl reads them.

Spiders never talk to Elasticsearch, so the job (scheduler or `spreadwatch evidence recheck`)
queries the posts index first and writes the targets to
`<data_dir>/evidence/<incident>/recheck-targets.json`; the `recheck` spider reads that file.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from elasticsearch import Elasticsearch

from evidence.render import RenderError, archive_rendering, find_chromium, render
from evidence.warcstore import WarcStore, incident_folder
from indexer.connection import IndexNames
from indexer.evidence_queries import recheck_targets, render_targets
from indexer.writer import BulkWriter
from spreadwatch.netpolicy import DROP_REASON, AddressPolicy, PrivateAddressError
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)


def targets_path(data_dir: Path, incident_id: str) -> Path:
    return incident_folder(data_dir, incident_id) / "recheck-targets.json"


def prepare(
    client: Elasticsearch, names: IndexNames, data_dir: Path, incident_id: str, min_reach: int
) -> int:
    """Query the posts to re-check and write them for the spider; returns how many."""
    targets = recheck_targets(client, names, incident_id, min_reach)
    write_targets(targets_path(data_dir, incident_id), targets)
    return len(targets)


def render_pages(
    client: Elasticsearch,
    names: IndexNames,
    settings: Settings,
    incident_id: str,
    sources: list[str],
) -> dict[str, int]:
    """Rendered captures of the incident's official and evidence pages that changed since
    their last rendering; each post gets `rendered`. Counts what happened."""
    counts = {"rendered": 0, "unchanged": 0, "failed": 0, "refused": 0}
    targets = render_targets(client, names, incident_id, sources)
    if not targets:
        return counts
    chromium = find_chromium(settings.chromium_command)
    if chromium is None:
        logger.error(
            "rendered captures of %s skipped: %r not found (install Debian's chromium package: "
            "scripts/bootstrap does when an incident asks for evidence.render)",
            incident_id,
            settings.chromium_command,
        )
        counts["failed"] = len(targets)
        return counts
    policy = AddressPolicy.from_settings(settings)
    store = WarcStore(settings.data_dir, incident_id)
    writer = BulkWriter(client, names, settings.data_dir / "spool")
    try:
        for post in targets:
            evidence = post.get("evidence") or {}
            if (post.get("rendered") or {}).get("of") == evidence.get("record_id") and post.get("rendered"):  # fmt: skip
                counts["unchanged"] += 1
                continue
            url = _fetchable(post["url"], post.get("platform", ""), settings)
            try:
                policy.check_url(url)  # the browser connects on its own: refuse before it runs
            except PrivateAddressError as error:
                logger.warning("dropped (%s): rendered capture of %s: %s", DROP_REASON, post["_id"], error)  # fmt: skip
                counts["refused"] += 1
                continue
            try:
                rendered = render(url, chromium, settings.render_timeout)
            except RenderError as error:
                logger.warning("rendered capture of %s failed: %s", post["_id"], error)
                counts["failed"] += 1
                continue
            field = archive_rendering(store, post["url"], rendered, evidence.get("record_id"))
            field["fetched"] = url
            writer.add_post({"platform": post["platform"], "native_id": post["native_id"], "rendered": field})  # fmt: skip
            counts["rendered"] += 1
    finally:
        writer.close()
    return counts


def _fetchable(url: str, platform: str, settings: Settings) -> str:
    """The URL the browser loads: a page's base-URL override (tests, the demo, a proxy)."""
    base = settings.base_url("pages")
    if platform == "github" or not base:
        return url
    parts = urlsplit(url)
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


def write_targets(path: Path, targets: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".targets-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(targets, file, ensure_ascii=False)
    os.replace(temp, path)


def read_targets(path: Path) -> list[dict[str, Any]]:
    """The targets written by `prepare`; none when the file is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []
