"""The re-check job's hand-over: the posts of interest, written where the crawl reads them.

Spiders never talk to Elasticsearch, so the job (scheduler or `spreadwatch evidence recheck`)
queries the posts index first and writes the targets to
`<data_dir>/evidence/<incident>/recheck-targets.json`; the `recheck` spider reads that file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from evidence.warcstore import incident_folder
from indexer.connection import IndexNames
from indexer.evidence_queries import recheck_targets


def targets_path(data_dir: Path, incident_id: str) -> Path:
    return incident_folder(data_dir, incident_id) / "recheck-targets.json"


def prepare(
    client: Elasticsearch, names: IndexNames, data_dir: Path, incident_id: str, min_reach: int
) -> int:
    """Query the posts to re-check and write them for the spider; returns how many."""
    targets = recheck_targets(client, names, incident_id, min_reach)
    write_targets(targets_path(data_dir, incident_id), targets)
    return len(targets)


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
