"""The functions the job store refers to (`scheduler.jobs:crawl`, ...).

They take only plain arguments (the incident file's path, a source name), re-read the incident
file so a job always uses the current version — or, while the file does not validate, its last
good version (`scheduler.incidents`) — and find live objects in the installed runtime.
Failures are logged and recorded, never raised into APScheduler's executor without context.
"""

from __future__ import annotations

import functools
import logging
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, TransportError

from alerts.engine import Delivery, raise_alerts
from alerts.invalid_file import raise_invalid_file
from alerts.mailer import SendError
from alerts.render import report_link
from alerts.store import AlertStore
from evidence.recheck import prepare, render_pages
from evidence.retention import prune
from indexer.evidence_queries import referenced_records
from indexer.scope import IncidentScope
from indexer.stance_model import shipped
from indexer.stance_pending import LabelRun, label_pending, pending_count
from scheduler import runtime
from scheduler.crawl import run_crawl
from spreadwatch.incident import Incident
from spreadwatch.report import collect, render_html
from spreadwatch.report.mail import report_message
from spreadwatch.report.pdf import pdf_bytes

logger = logging.getLogger(__name__)


def _guarded(kind: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A job never lets an error escape into APScheduler: it is logged with its traceback and
    recorded as a failed run of that job (when the cluster takes the record), and the next
    run comes as scheduled."""

    def wrap(job: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(job)
        def run(incident_path: str, *args: Any) -> None:
            try:
                job(incident_path, *args)
            except Exception as error:
                logger.exception("%s job for %s %s failed", kind, incident_path, " ".join(args))
                try:
                    _record_failure(kind, incident_path, args, error)
                except Exception:  # the cluster that failed the job may refuse the record too
                    logger.warning("the failed %s run of %s is not recorded", kind, incident_path)

        return run

    return wrap


def _record_failure(kind: str, incident_path: str, args: tuple[Any, ...], error: Exception) -> None:
    rt = runtime.current()
    problem = rt.incidents.problem(incident_path)
    incident = problem.incident_id if problem else Path(incident_path).stem
    loaded = rt.incidents.load(incident_path) if problem is None else problem.last_good
    incident = loaded.id if loaded is not None else incident
    started = rt.clock()
    run_id = f"{incident}:{kind}:{started:%Y%m%dT%H%M%SZ}:{uuid.uuid4().hex[:6]}"
    doc: dict[str, object] = {
        "@timestamp": started.isoformat(),
        "finished": started.isoformat(),
        "run_id": run_id,
        "job": kind,
        "incident": incident,
        "source": str(args[0]) if args else kind,
        "status": "failed",
        "finish_reason": "error",
        "errors": f"{type(error).__name__}: {error}"[:2000],
        "error_count": 1,
        "host": socket.gethostname(),
    }
    rt.client.index(index=rt.names.runs, id=run_id, document=doc)


def _incident(rt: runtime.Runtime, path: str) -> Incident | None:
    incident = rt.incidents.load(path)
    if incident is None:
        logger.error("job skipped: %s never validated and has no last good version", path)
    return incident


@_guarded("crawl")
def crawl(incident_path: str, source: str) -> None:
    """One scheduled crawl of one source."""
    rt = runtime.current()
    if not rt.may_run(f"crawl:{incident_path}:{source}"):
        return
    incident = _incident(rt, incident_path)
    if incident is None:
        return
    run_crawl(rt, str(rt.incidents.crawl_path(incident_path)), incident.id, source)


@_guarded("alerts")
def alerts(incident_path: str) -> None:
    """Evaluate the incident's rules, store new alerts, send what is due (not digests)."""
    rt = runtime.current()
    if not rt.may_run(f"alerts:{incident_path}"):
        return
    incident = _incident(rt, incident_path)
    if incident is None:
        return
    started = rt.clock()
    raised = []
    problem = rt.incidents.problem(incident_path)
    if problem is not None:  # running the last good version: say so first
        store = AlertStore(rt.client, rt.names)
        config_alert = raise_invalid_file(store, problem, started, incident.alerts.realert)
        raised += [config_alert] if config_alert else []
    provisional = label_stances(rt, incident)  # the rules read the head's labels
    raised += raise_alerts(rt.client, rt.names, incident, started, provisional)
    delivery = _delivery(rt)
    report = delivery.deliver(rt.clock(), incident.id)
    if not incident.alerts.digest_on:
        # Digest alerts still pending from before the digest was switched off: no digest job
        # will run for them any more, so they go out now, together.
        delivery.deliver(rt.clock(), incident.id, digest=True)
    _record_alert_run(
        rt, incident.id, started, len(raised), len(report.retrying) + len(report.failed)
    )


def stance(incident_path: str) -> None:
    """Label the incident's posts waiting for the learned head (every few seconds: a failure
    is logged, not recorded as a run, and the next run tries again)."""
    rt = runtime.current()
    if not rt.may_run(f"stance:{incident_path}"):
        return
    incident = _incident(rt, incident_path)
    if incident is None:
        return
    try:
        label_stances(rt, incident)
    except (ApiError, TransportError) as error:
        logger.warning("stance labels of %s not written: %s", incident.id, error)


def label_stances(rt: runtime.Runtime, incident: Incident) -> int:
    """The learned head labels what ingest wrote with the lexicon's provisional label
    (`indexer.stance_pending`); returns how many posts still carry one (no head installed, or
    it failed: the alerts go out on the lexicon's labels and say so)."""
    model = shipped() if rt.settings.stance_model else None
    if model is not None:
        try:
            run = label_pending(rt.client, rt.names, incident, model)
        except Exception:  # the head's failure must not stop the alerts
            logger.exception("the stance head did not label the pending posts of %s", incident.id)
        else:
            _log_labels(incident, run)
    return pending_count(rt.client, rt.names, incident.id)


def _log_labels(incident: Incident, run: LabelRun) -> None:
    if run.labelled or run.failed:
        logger.info(
            "stance of %s: %d posts labelled in %.2fs (%d the head cannot read, %d failed, "
            "%d changed meanwhile)", incident.id, run.labelled, run.seconds, run.unlabelled,
            run.failed, run.conflicts,
        )  # fmt: skip


@_guarded("recheck")
def recheck(incident_path: str) -> None:
    """Re-check the incident's posts of interest (deleted? edited?), then apply retention."""
    rt = runtime.current()
    if not rt.may_run(f"recheck:{incident_path}"):
        return
    incident = _incident(rt, incident_path)
    if incident is None:
        return
    settings = rt.settings
    reach = incident.evidence.min_reach
    reach = settings.evidence_recheck_min_reach if reach is None else reach
    try:
        prepare(rt.client, rt.names, settings.data_dir, incident.id, reach)
    except (ApiError, TransportError) as error:
        logger.error("recheck of %s skipped: cannot read its posts (%s)", incident.id, error)
        return
    run_crawl(rt, str(rt.incidents.crawl_path(incident_path)), incident.id, "recheck")
    try:
        if incident.evidence.render:
            render_pages(rt.client, rt.names, settings, incident.id, incident.evidence.render)
        keep = referenced_records(rt.client, rt.names, incident.id)
    except (ApiError, TransportError) as error:
        logger.error("retention of %s skipped: %s", incident.id, error)
        return
    report = prune(settings.data_dir, incident.id, keep, settings.evidence_retention_days)
    if report.removed_records:
        logger.info("evidence of %s pruned: %s", incident.id, report)


@_guarded("digest")
def digest(incident_path: str) -> None:
    """Send the incident's pending digest alerts in one message."""
    rt = runtime.current()
    if not rt.may_run(f"digest:{incident_path}"):
        return
    incident = _incident(rt, incident_path)
    if incident is not None:
        _delivery(rt).deliver(rt.clock(), incident.id, digest=True)


def report_unwatched_problems(rt: runtime.Runtime, files: list[str]) -> None:
    """Alert on broken incident files that no alert job of theirs reports (a file that never
    validated, or an incident without rules), and deliver at once; repeated per realert."""
    store = AlertStore(rt.client, rt.names)
    for file in files:
        problem = rt.incidents.problem(file)
        if problem is None:
            continue
        realert = problem.last_good.alerts.realert if problem.last_good else None
        now = rt.clock()
        try:
            raise_invalid_file(store, problem, now, realert)
            _delivery(rt).deliver(now, problem.incident_id)
        except (ApiError, TransportError):
            logger.exception("incident file problem of %s not alerted", file)


@_guarded("report")
def report(incident_path: str, number: str) -> None:
    """Write the incident's report (the latest copy under `<data_dir>/reports/`, which
    SPREADWATCH_REPORT_URL may publish) and e-mail it as `reports[number]` asks."""
    rt = runtime.current()
    if not rt.may_run(f"report:{incident_path}"):
        return
    incident = _incident(rt, incident_path)
    if incident is None or int(number) >= len(incident.reports):
        return
    wanted = incident.reports[int(number)]
    label_stances(rt, incident)  # the report counts the head's labels, as the alerts do
    data = collect(
        rt.client, rt.names, IncidentScope.of(incident), title=incident.title,
        description=incident.description, now=rt.clock(),
    )  # fmt: skip
    html = render_html(data)
    folder = rt.settings.data_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{incident.id}.html").write_text(html, encoding="utf-8")
    attachment = pdf_bytes(data) if wanted.format == "pdf" else html.encode("utf-8")
    link = report_link(rt.settings.report_url, incident.id)
    message = report_message(
        data, attachment, wanted.format, rt.settings.smtp_from, wanted.to, link
    )
    try:
        refused = rt.sender.send(message, wanted.to)
    except SendError as error:  # recorded as a failed run of the job by _guarded
        raise RuntimeError(f"report not sent to {', '.join(wanted.to)}: {error}") from error
    if refused:
        logger.warning("report of %s refused for %s", incident.id, ", ".join(sorted(refused)))
    logger.info("report of %s sent to %d recipients", incident.id, len(wanted.to) - len(refused))


def _delivery(rt: runtime.Runtime) -> Delivery:
    store = AlertStore(rt.client, rt.names)
    return Delivery(
        store,
        rt.sender,
        rt.settings.smtp_from,
        rt.settings.kibana_url,
        rt.clock,
        report_url=rt.settings.report_url,
        max_age=timedelta(seconds=rt.settings.alert_max_age),
    )


def _record_alert_run(
    rt: runtime.Runtime, incident: str, started: datetime, raised: int, undelivered: int
) -> None:
    finished = rt.clock()
    run_id = f"{incident}:alerts:{started:%Y%m%dT%H%M%SZ}:{uuid.uuid4().hex[:6]}"
    doc: dict[str, object] = {
        "@timestamp": started.isoformat(),
        "finished": finished.isoformat(),
        "duration_s": round((finished - started).total_seconds(), 3),
        "run_id": run_id,
        "job": "alerts",
        "incident": incident,
        "source": "alerts",
        "status": "ok" if not undelivered else "partial",
        "items_indexed": raised,
        "error_count": undelivered,
        "host": socket.gethostname(),
    }
    try:
        rt.client.index(index=rt.names.runs, id=run_id, document=doc)
    except (ApiError, TransportError):
        logger.exception("alert run of %s not recorded", incident)
