"""`spreadwatch alerts check|silence|list|resend`: try rules now, hush a rule, see what was
raised, send again what somebody did not get."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from spreadwatch.cli._output import escape
from spreadwatch.cli.context import AppContext, format_option, incidents_dir_option
from spreadwatch.cli.params import DURATION, bad_name


def _when(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO time like 2024-10-19T12:00Z, got {value!r}"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _checked_scope(rule: str, incident: str | None, folder: Path) -> str | None:
    """The incident id to silence (None: all), once RULE is known to name a rule of it (or of
    any incident file in `folder`): a typo is a usage error (exit 2), not a silence of nothing."""
    from spreadwatch.incident import ConfigFileError, incident_ids, resolve_incident

    if incident is not None:
        try:
            incidents = [resolve_incident(incident, [folder])]
        except ConfigFileError as error:
            raise click.BadParameter(str(error), param_hint="--incident") from None
    else:
        ids = incident_ids([folder]) if folder.is_dir() else []
        incidents = [resolve_incident(i, [folder]) for i in ids]
    known = sorted({r.name for i in incidents for r in i.alerts.rules})
    if rule != "*" and rule not in known:
        raise bad_name("rule", rule, [*known, "*"], "RULE")
    return incidents[0].id if incident is not None else None


@click.group("alerts")
def alerts_group() -> None:
    """Alert rules: evaluate them now, silence one, list raised alerts, resend undelivered."""


@alerts_group.command("check")
@click.argument("incident_ref", metavar="INCIDENT")
@click.option(
    "--at",
    "at",
    callback=_when,
    help="Evaluate as if it were this time (ISO 8601, UTC if no zone).",
)
@format_option("text", "json")
@incidents_dir_option
@click.pass_obj
def check(app: AppContext, incident_ref: str, at: datetime, fmt: str, incidents_dir: Path) -> None:
    """Evaluate INCIDENT's rules now and print what would fire; nothing is stored or sent."""
    from alerts.engine import evaluate, suppression_reason
    from alerts.store import AlertStore
    from indexer.templates import init as init_indices
    from spreadwatch.incident import resolve_incident

    incident = resolve_incident(incident_ref, [incidents_dir])
    init_indices(app.client, app.names)
    store = AlertStore(app.client, app.names)
    rows = []
    for ev in evaluate(app.client, app.names, incident, at):
        reason = suppression_reason(store, incident, ev, at)
        rows.append(
            {
                "rule": ev.rule.name,
                "type": ev.rule.type,
                "key": ev.finding.key,
                "subject": f"{ev.finding.headline} — {incident.title}",
                "would_send": reason is None,
                "suppressed": reason,
                "recipients": incident.alerts.recipients_for(ev.rule),
            }
        )
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"no rule of {incident.id} fires at {at.isoformat()}")
    for row in rows:
        mark = "FIRE" if row["would_send"] else "skip"
        why = f"  ({row['suppressed']})" if row["suppressed"] else ""
        # Subjects quote authors and repos: untrusted text, shown with control characters escaped.
        click.echo(escape(f"{mark}  {row['rule']}[{row['key']}]  {row['subject']}{why}"))


@alerts_group.command("silence")
@click.argument("rule")
@click.option(
    "--for",
    "duration",
    required=True,
    type=DURATION,
    help="How long: 600 (seconds), 30m, 4h, 2d.",
)
@click.option("--incident", help="Only for this incident id (default: every incident).")
@incidents_dir_option
@click.pass_obj
def silence(
    app: AppContext, rule: str, duration: timedelta, incident: str | None, incidents_dir: Path
) -> None:
    """Raise no alert for RULE (a rule name, or '*' for all) for a while."""
    from alerts.store import AlertStore
    from indexer.templates import init as init_indices

    incident = _checked_scope(rule, incident, incidents_dir)
    now = datetime.now(UTC)
    init_indices(app.client, app.names)
    AlertStore(app.client, app.names).silence(rule, now + duration, now, incident)
    scope = f"incident {incident}" if incident else "every incident"
    click.echo(
        f"{rule} silenced for {scope} until {(now + duration).isoformat(timespec='seconds')}"
    )


@alerts_group.command("list")
@click.option("--incident", help="Only this incident id.")
@click.option(
    "--limit",
    type=click.IntRange(1, 500),
    default=20,
    show_default=True,
    help="How many of the latest alerts.",
)
@format_option("text", "json")
@click.pass_obj
def list_alerts(app: AppContext, incident: str | None, limit: int, fmt: str) -> None:
    """The latest alerts with their delivery state (and active silences)."""
    from alerts.store import AlertStore
    from indexer.templates import init as init_indices

    init_indices(app.client, app.names)
    alerts = AlertStore(app.client, app.names).recent(incident, limit)
    if fmt == "json":
        keep = ("_id", "@timestamp", "incident", "rule", "key", "state", "subject", "attempts")
        click.echo(json.dumps([{k: a.get(k) for k in keep} for a in alerts], ensure_ascii=False))
        return
    for alert in alerts:
        what = alert.get("subject") or alert.get("summary")
        click.echo(escape(f"{alert['@timestamp']}  {alert['state']:<8} {alert['rule']}  {what}"))


@alerts_group.command("resend")
@click.argument("alert_id", required=False, metavar="[ID]")
@click.option("--failed", "all_failed", is_flag=True, help="Every alert somebody did not get.")
@click.option("--incident", help="With --failed: only this incident id.")
@click.pass_obj
def resend(app: AppContext, alert_id: str | None, all_failed: bool, incident: str | None) -> None:
    """Send an alert again to the recipients who did not get it (ID), or every such alert
    (--failed): same Message-ID and Date, so a copy is recognisable. Exits 1 when someone
    still did not get one."""
    from alerts.engine import Delivery
    from alerts.mailer import sender_from_settings
    from alerts.store import AlertStore
    from indexer.templates import init as init_indices

    if (alert_id is None) == (not all_failed):
        raise click.UsageError("give an alert ID or --failed (not both)")
    init_indices(app.client, app.names)
    store = AlertStore(app.client, app.names)
    if alert_id is not None:
        found = store.get(alert_id)
        if found is None:
            raise click.BadParameter(f"no alert with id {alert_id!r}", param_hint="ID")
        alerts = [found]
    else:
        alerts = store.undelivered(incident)
    now = datetime.now(UTC)
    again = {a["_id"]: store.resend(a, now) for a in alerts}
    if not any(again.values()):
        click.echo("nothing to resend: every recipient got these alerts")
        return
    settings = app.settings
    sender = sender_from_settings(settings.secret("smtp_url"), settings.smtp_timeout)
    delivery = Delivery(
        store, sender, settings.smtp_from, settings.kibana_url, report_url=settings.report_url,
        max_age=timedelta(seconds=settings.alert_max_age),
    )  # fmt: skip
    incidents = sorted({a["incident"] for a in alerts if again[a["_id"]]})
    for name in incidents:
        delivery.deliver(now, name)
        delivery.deliver(now, name, digest=True)
    missing = 0
    for alert_id_, recipients in again.items():
        if not recipients:
            continue
        alert = store.get(alert_id_) or {}
        failed = alert.get("failed_recipients") or []
        waiting = [d["recipient"] for d in alert.get("deliveries") or [] if d["state"] == "pending"]
        missing += len(failed) + len(waiting)
        line = f"{alert_id_}: {alert.get('state')}, resent to {', '.join(recipients)}"
        if failed or waiting:
            line += f"; not delivered: {', '.join(failed + waiting)}"
        click.echo(escape(line))
    if missing:
        raise click.exceptions.Exit(1)


commands = [alerts_group]
