"""What an incident file will not do as things stand, though it validates.

A source whose credential is missing crawls little or nothing (Reddit refuses its public JSON,
Weibo answers nothing without its cookie), and alerts with no recipient or no SMTP server reach
nobody: nothing fails, the incident is only quieter than it should be. `spreadwatch check` prints
these notes before a monitor runs; the monitor logs them when a file is loaded or changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spreadwatch.sources import WITHOUT_CREDENTIAL

if TYPE_CHECKING:
    from spreadwatch.incident import Incident
    from spreadwatch.settings import Settings


def incident_notes(incident: Incident, settings: Settings) -> list[str]:
    """What the incident will not do with these settings and this environment, one line each."""
    missing: dict[tuple[str, str | None], list[str]] = {}
    for cred in incident.sources.credentials():
        if not settings.credential(cred.setting, cred.variable):
            where = f"SPREADWATCH_{cred.setting.upper()}"
            where += f" (or {cred.variable})" if cred.variable else ""
            missing.setdefault((cred.source, cred.instance), []).append(where)
    notes = []
    if not incident.sources.enabled():
        notes.append("sources: none is enabled: the monitor crawls nothing for this incident")
    for (source, instance), names in missing.items():
        server = f" for {instance}" if instance else ""
        verb = "is" if len(names) == 1 else "are"
        notes.append(
            f"{source}: {' and '.join(names)} {verb} not set{server}: {WITHOUT_CREDENTIAL[source]}"
        )
    if incident.alerts.rules and not incident.alerts.recipients:
        notes.append("alerts: no recipients: alerts are raised and listed, never e-mailed")
    elif incident.alerts.recipients and settings.smtp_url is None:
        notes.append("alerts: SPREADWATCH_SMTP_URL is not set: no alert e-mail can be sent")
    return notes
