"""What `spreadwatch status` shows: jobs and next runs, last run per source, spool, open alerts.

Read from where the monitor keeps its state (the job store, the runs and alerts indices, the
spool folder), so it works whether or not a monitor is running right now.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from elasticsearch import Elasticsearch
from elasticsearch.dsl import Search
from sqlalchemy.engine import make_url

from alerts.store import AlertStore
from indexer.connection import IndexNames
from indexer.spool import spool_summary
from scheduler.plan import JOB_PREFIXES
from scheduler.service import job_store_url
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)

RUN_FIELDS = (
    "status", "items_scraped", "items_indexed", "items_dropped", "items_spooled", "error_count",
    "duration_s",
)  # fmt: skip


def list_jobs(url: str) -> list[dict[str, Any]]:
    """Jobs in the store, soonest first; an absent SQLite file means no jobs yet."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and not Path(parsed.database or "").exists():
        return []
    store = SQLAlchemyJobStore(url=url)
    store.start(None, "default")  # reading only: no scheduler attached
    try:
        jobs = store.get_all_jobs()
    finally:
        store.shutdown()
    return [
        {
            "id": job.id,
            "schedule": job.name,
            "next_run": job.next_run_time.isoformat() if job.next_run_time else None,
        }
        for job in jobs
        if job.id.startswith(JOB_PREFIXES)
    ]


def last_runs(client: Elasticsearch, names: IndexNames) -> list[dict[str, Any]]:
    """The latest crawl run of every (incident, source)."""
    search = Search(using=client, index=names.runs).filter("term", job="crawl").extra(size=0)
    search.aggs.bucket("incidents", "terms", field="incident", size=200).bucket(
        "sources", "terms", field="source", size=50
    ).metric("last", "top_hits", size=1, sort=[{"@timestamp": "desc"}])
    rows = []
    for incident in search.execute().aggregations.incidents.buckets:
        for source in incident.sources.buckets:
            run = source.last.hits.hits[0]["_source"].to_dict()
            row = {"incident": incident.key, "source": source.key, "runs": source.doc_count}
            row["started"] = run.get("@timestamp")
            row.update({field: run.get(field) for field in RUN_FIELDS})
            row["error"] = (run.get("errors") or "").split("\n")[0] or None
            rows.append(row)
    return rows


def spool_size(folder: Path) -> dict[str, Any]:
    """Documents waiting in the spool, per index prefix and reason (collected data, not logs)."""
    per_prefix = {prefix: s for prefix, s in spool_summary(folder).items() if s["documents"]}
    return {
        "documents": sum(s["documents"] for s in per_prefix.values()),
        "by_prefix": per_prefix,
    }


def open_alerts(client: Elasticsearch, names: IndexNames) -> list[dict[str, Any]]:
    return [
        {
            "id": alert["_id"],
            "incident": alert.get("incident"),
            "rule": alert.get("rule"),
            "state": alert.get("state"),
            "subject": alert.get("subject"),
            "attempts": alert.get("attempts"),
            "last_error": alert.get("last_error"),
            "raised": alert.get("@timestamp"),
        }
        for alert in AlertStore(client, names).open_alerts()
    ]


def collect(settings: Settings, client: Elasticsearch, now: datetime) -> dict[str, Any]:
    names = IndexNames(settings.index_prefix)
    return {
        "at": now.isoformat(),
        "job_store": make_url(job_store_url(settings)).render_as_string(hide_password=True),
        "jobs": list_jobs(job_store_url(settings)),
        "last_runs": last_runs(client, names),
        "spool": spool_size(settings.data_dir / "spool"),
        "open_alerts": open_alerts(client, names),
    }
