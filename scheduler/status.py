"""What `spreadwatch status` shows: is the monitor alive, jobs and next runs (overdue marked),
last run per source, spool, broken incident files, open alerts and why each is still pending.

Read from where the monitor keeps its state (its heartbeat, the job store, the runs and alerts
indices, the spool folder), so it works whether or not a monitor is running right now. `health`
sums it up the way cron and Nagios checks expect: 0 ok, 1 warning (overdue jobs, broken
incident files, undeliverable alerts, posts waiting minutes for the stance head), 2 critical
(no monitor running).
"""

from __future__ import annotations

import logging
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.dsl import Search
from sqlalchemy import Column, MetaData, Table, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from alerts.store import AlertStore, parse_time
from evidence.warcstore import archive_sizes
from indexer.connection import IndexNames, cluster_health
from indexer.monitors import heartbeats, liveness
from indexer.spool import spool_summary
from indexer.stance_pending import backlog
from scheduler.lease import lease_document
from scheduler.plan import JOB_PREFIXES
from scheduler.service import job_store_label, job_store_url
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)

RUN_FIELDS = (
    "status", "items_scraped", "items_indexed", "items_dropped", "items_spooled", "error_count",
    "duration_s",
)  # fmt: skip


def list_jobs(url: str) -> list[dict[str, Any]]:
    """Jobs in the store, soonest first; an absent SQLite file means no jobs yet.

    Plain read-only SQL, never APScheduler's store: its `get_all_jobs` deletes the rows it
    cannot restore (a job whose module moved), and `status` must never change what it reads.
    A row whose state cannot be read is listed with an unreadable schedule.
    """
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        database = Path(parsed.database or "")
        if not database.exists():
            return []
        engine = create_engine(f"sqlite:///file:{database}?mode=ro&uri=true")
    else:
        engine = create_engine(url)
    table = Table(
        "apscheduler_jobs", MetaData(), Column("id"), Column("next_run_time"), Column("job_state")
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(table.c.id, table.c.next_run_time, table.c.job_state)
            ).all()
    except OperationalError as error:
        if "no such table" in str(error):
            return []
        raise
    finally:
        engine.dispose()
    jobs = [_job_row(job_id, next_run, state) for job_id, next_run, state in rows]
    jobs = [j for j in jobs if j["id"].startswith(JOB_PREFIXES)]
    return sorted(jobs, key=lambda j: (j["next_run"] is None, j["next_run"] or ""))


def _job_row(job_id: str, next_run: float | None, state: bytes) -> dict[str, Any]:
    try:
        schedule = str(pickle.loads(state).get("name") or "")
    except Exception:  # a job this version cannot read: shown, never touched
        schedule = "(unreadable job state)"
    when = datetime.fromtimestamp(next_run, UTC).isoformat() if next_run is not None else None
    return {"id": job_id, "schedule": schedule, "next_run": when}


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
    per_prefix = {
        prefix: s
        for prefix, s in spool_summary(folder).items()
        if s["documents"] or s["dead_letters"]
    }
    return {
        "documents": sum(s["documents"] for s in per_prefix.values()),
        "dead_letters": sum(s["dead_letters"] for s in per_prefix.values()),
        "by_prefix": per_prefix,
    }


def open_alerts(
    client: Elasticsearch,
    names: IndexNames,
    now: datetime,
    jobs: list[dict[str, Any]] | None = None,
    running: bool = True,
) -> list[dict[str, Any]]:
    next_runs = {job["id"]: job["next_run"] for job in jobs or []}
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
            "why": pending_reason(alert, now, next_runs, running),
        }
        for alert in AlertStore(client, names).open_alerts()
    ]


def pending_reason(
    alert: dict[str, Any], now: datetime, next_runs: dict[str, str | None], running: bool
) -> str:
    """Why an alert has not gone out (yet), in words an analyst can act on."""
    if alert.get("state") == "failed":
        return f"gave up: {alert.get('last_error') or 'unknown error'}; spreadwatch alerts resend {alert['_id']}"
    if alert.get("state") == "sent":  # sent, but not to everyone
        missing = ", ".join(alert.get("failed_recipients") or [])
        return f"not delivered to {missing} ({alert.get('last_error') or 'refused'}); spreadwatch alerts resend {alert['_id']}"
    details = alert.get("details") or {}
    incident = alert.get("incident")
    down = "" if running else " — but no monitor is running"
    attempts = int(alert.get("attempts") or 0)
    if attempts:
        retry = parse_time(details.get("next_attempt") or alert["@timestamp"])
        return (
            f"{attempts} delivery attempt(s) failed ({alert.get('last_error') or 'no reason'}); "
            f"next attempt {_at_or_due(retry, now)}{down}"
        )
    if details.get("digest"):
        nxt = next_runs.get(f"digest:{incident}")
        return f"held for the digest, sent {'at ' + nxt if nxt else 'when it runs'}{down}"
    nxt = next_runs.get(f"alerts:{incident}")
    return f"due; goes out with the next alert run{' at ' + nxt if nxt else ''}{down}"


def _at_or_due(when: datetime, now: datetime) -> str:
    return f"at {when.isoformat()}" if when > now else "now (due)"


#: A job whose next run is this far in the past is overdue (the monitor would have run it).
OVERDUE_AFTER = timedelta(seconds=60)
#: A post still waiting for the stance head this long after it was written: the monitor's
#: `stance:` job is not keeping up, or cannot run the head.
STANCE_LAG_WARNING = timedelta(minutes=5)


def mark_overdue(jobs: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    for job in jobs:
        nxt = job.get("next_run")
        job["overdue"] = bool(nxt) and parse_time(nxt) < now - OVERDUE_AFTER
    return jobs


def monitor_state(
    client: Elasticsearch, names: IndexNames, job_store: str, now: datetime
) -> dict[str, Any]:
    """The monitors heard from for this job store: the live ones, else the last one seen."""
    records = [liveness(doc, now) for doc in heartbeats(client, names, job_store)]
    alive = [r for r in records if r.alive]
    shown = alive or records[:1]
    return {
        "running": bool(alive),
        "monitors": [
            {
                "host": r.host,
                "pid": r.doc.get("pid"),
                "version": r.doc.get("version"),
                # A killed monitor never says goodbye: its record still says running, but it
                # stopped ticking — "gone".
                "state": "running" if r.alive else _ended(r.doc),
                "since": r.doc.get("started"),
                "last_seen": r.last_tick.isoformat(),
                "jobs_held": len(r.doc.get("jobs") or []),
                "role": r.doc.get("role"),
            }
            for r in shown
        ],
        "lease": lease_document(client, names),
        "incident_errors": list(shown[0].doc.get("incident_errors") or []) if shown else [],
    }


def _ended(doc: dict[str, Any]) -> str:
    return "stopped" if doc.get("state") == "stopped" else "gone"


def health(state: dict[str, Any]) -> dict[str, Any]:
    """0 ok, 1 warning, 2 critical, with the reasons (the exit code of `spreadwatch status`)."""
    problems, code = [], 0
    if not state["monitor"]["running"]:
        problems.append("no monitor is running")
        code = 2
    overdue = [job["id"] for job in state["jobs"] if job.get("overdue")]
    if overdue:
        problems.append(f"{len(overdue)} job(s) overdue: {', '.join(overdue)}")
    if state["monitor"]["incident_errors"]:
        problems.append(f"{len(state['monitor']['incident_errors'])} incident file(s) invalid")
    if any(a["state"] in ("failed", "sent") for a in state["open_alerts"]):
        problems.append("alerts could not be delivered")
    stance = state["stance"]
    if (
        stance["oldest"]
        and parse_time(stance["oldest"]) < parse_time(state["at"]) - STANCE_LAG_WARNING
    ):
        problems.append(
            f"{stance['posts']} posts carry the lexicon's provisional stance, the oldest since "
            f"{stance['oldest']}: the stance head has not labelled them (is the monitor's stance "
            "job running? is the head installed?)"
        )
    if state["spool"].get("dead_letters"):
        problems.append(f"{state['spool']['dead_letters']} dead letters in the spool folder")
    cluster = state["cluster"]
    if cluster["status"] != "green":
        problems.append(
            f"Elasticsearch is {cluster['status']}: {cluster['unassigned_shards']} shard "
            f"copies unassigned ({cluster['number_of_nodes']} nodes)"
        )
        code = 2 if cluster["status"] == "red" else code
    if problems and code == 0:
        code = 1
    return {"status": ("ok", "warning", "critical")[code], "exit_code": code, "problems": problems}


def collect(settings: Settings, client: Elasticsearch, now: datetime) -> dict[str, Any]:
    names = IndexNames(settings.index_prefix)
    store_url = job_store_url(settings)
    jobs = mark_overdue(list_jobs(store_url), now)
    monitor = monitor_state(client, names, job_store_label(settings), now)
    state = {
        "at": now.isoformat(),
        "cluster": cluster_health(client),
        "job_store": job_store_label(settings),
        "monitor": monitor,
        "jobs": jobs,
        "last_runs": last_runs(client, names),
        "spool": spool_size(settings.data_dir / "spool"),
        "evidence": archive_sizes(settings.data_dir),
        "open_alerts": open_alerts(client, names, now, jobs, monitor["running"]),
        "stance": backlog(client, names),
    }
    state["health"] = health(state)
    return state
