"""The "incident file invalid" alert: a broken incident file is reported, never silently run.

It is urgent (never held for a digest), goes to the incident's recipients (the last good
version's, or those a never-valid file lists), and is repeated once per realert window while
the file stays broken. Its key is the file, so a second typo in the same file is the same alert.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

from alerts.model import Finding
from alerts.store import AlertStore

RULE = "incident-file"
RULE_TYPE = "config_error"
DEFAULT_REALERT = timedelta(hours=1)
_WHERE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<field>[^:]+): ")


class Problem(Protocol):
    """What `scheduler.incidents.FileProblem` provides."""

    @property
    def incident_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def recipients(self) -> list[str]: ...
    @property
    def error(self) -> str: ...
    @property
    def since(self) -> datetime: ...
    @property
    def file(self) -> Path: ...
    @property
    def last_good(self) -> Any: ...


def _first_problem(error: str) -> tuple[str | None, str | None]:
    """Line and field of the first problem in a `file:line: field: message` error."""
    match = _WHERE.match(error.split("; ", maxsplit=1)[0])
    return (match["line"], match["field"]) if match else (None, None)


def invalid_file_finding(problem: Problem, now: datetime) -> Finding:
    line, field = _first_problem(problem.error)
    where = f"line {line}" + (f", {field}" if field else "") if line else "cannot be read"
    running = problem.last_good is not None
    effect = (
        "The monitor keeps running the last good version of this incident (crawls and alerts "
        "go on) until the file is fixed."
        if running
        else "This incident is not monitored until the file is fixed."
    )
    return Finding(
        rule=RULE,
        rule_type=RULE_TYPE,
        key=str(problem.file),
        headline=f"Incident file invalid: {problem.file.name} ({where})",
        summary=f"{problem.error}\n{effect}",
        window_start=problem.since,
        window_end=now,
        numbers=[
            ("file", str(problem.file)),
            ("invalid since", f"{problem.since:%Y-%m-%d %H:%M:%S} UTC"),
            ("running", "last good version" if running else "nothing"),
        ],
    )


def raise_invalid_file(
    store: AlertStore, problem: Problem, now: datetime, realert: timedelta | None = None
) -> dict[str, Any] | None:
    """Store the alert unless one went out for this breakage within the realert window (a file
    fixed and broken again is a new breakage, alerted at once)."""
    window = realert if realert is not None else DEFAULT_REALERT
    finding = invalid_file_finding(problem, now)
    if store.exists(problem.incident_id, RULE, finding.key, max(now - window, problem.since)):
        return None
    if store.silenced_until(problem.incident_id, RULE, now) is not None:
        return None
    incident = SimpleNamespace(id=problem.incident_id, title=problem.title)
    return store.record(incident, finding, problem.recipients, now, timeline=[], digest=False)
