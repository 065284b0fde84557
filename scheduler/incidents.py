"""The incidents a monitor runs: the last good version of each file, and what is wrong with it.

An analyst's typo must not stop monitoring. Every time a file validates, a copy of it is kept in
`<data_dir>/incidents-last-good/`; crawls always read that copy (the version their job
validated), and when the file stops validating, jobs go on with it (alert runs use its model) and the problem is remembered — file, line, field, since
when — for the "incident file invalid" alert and for `spreadwatch status`. The copy survives a
restart, so a monitor restarted while a file is broken still runs the last good version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from spreadwatch.incident import ConfigFileError, Incident, load_incident
from spreadwatch.yamlfile import read_yaml

logger = logging.getLogger(__name__)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class FileProblem:
    """An incident file that does not validate (now), and what the monitor does about it."""

    file: Path
    error: str
    since: datetime
    #: The version still being run, None when the file never validated.
    last_good: Incident | None
    #: What could be read of a file that never validated (id, title, recipients).
    raw: dict[str, Any]

    @property
    def incident_id(self) -> str:
        if self.last_good is not None:
            return self.last_good.id
        raw_id = self.raw.get("id")
        return raw_id if isinstance(raw_id, str) and _SLUG.match(raw_id) else self.file.stem

    @property
    def title(self) -> str:
        if self.last_good is not None:
            return self.last_good.title
        title = self.raw.get("title")
        return title if isinstance(title, str) and title.strip() else self.file.name

    @property
    def recipients(self) -> list[str]:
        """The last good version's recipients, else what the broken file lists."""
        if self.last_good is not None:
            return list(self.last_good.alerts.recipients)
        alerts = self.raw.get("alerts")
        listed = alerts.get("recipients") if isinstance(alerts, dict) else None
        if not isinstance(listed, list):
            return []
        return [r.strip() for r in listed if isinstance(r, str) and _EMAIL.match(r.strip())]

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "incident": self.incident_id,
            "error": self.error,
            "since": self.since.isoformat(),
            "running_last_good": self.last_good is not None,
        }


def _raw_fields(file: Path) -> dict[str, Any]:
    """Whatever a broken file still tells (its YAML may parse even if it does not validate)."""
    try:
        data = read_yaml(file)
    except ConfigFileError:
        return {}
    return dict(data) if isinstance(data, dict) else {}


class IncidentRegistry:
    """Loads incident files for the monitor, falling back to each file's last good version."""

    def __init__(self, folder: Path, clock: Callable[[], datetime]) -> None:
        self.folder = folder
        self.clock = clock
        self._good: dict[Path, Incident] = {}
        self._problems: dict[Path, FileProblem] = {}
        self._lock = threading.Lock()

    def copy_path(self, file: Path) -> Path:
        digest = hashlib.sha1(str(file.resolve()).encode("utf-8")).hexdigest()[:12]
        return self.folder / f"{digest}-{file.name}"

    def load(self, file: Path | str) -> Incident | None:
        """The file's incident if it validates, else its last good version (None if never)."""
        path = Path(file).resolve()
        try:
            incident = load_incident(path)
        except ConfigFileError as error:
            return self._failed(path, str(error))
        self._remember(path, incident)
        return incident

    def load_all(self, files: list[Path]) -> dict[Path, Incident]:
        """Every file's incident (or last good version), by file. Two files naming the same
        incident id would shadow each other: the second one found is an error naming both."""
        loaded: dict[Path, Incident] = {}
        owners: dict[str, Path] = {}
        for file in files:
            path = Path(file).resolve()
            try:
                incident: Incident | None = load_incident(path)
            except ConfigFileError as error:
                incident = self._failed(path, str(error))
                valid = False
            else:
                valid = True
            if incident is None:
                continue
            owner = owners.get(incident.id)
            if owner is not None:
                self._failed(
                    path,
                    f"{path}: incident id {incident.id!r} is already used by {owner}; "
                    "each incident file needs its own id",
                    keep_last_good=False,
                )
                continue
            owners[incident.id] = path
            if valid:
                self._remember(path, incident)
            loaded[path] = incident
        return loaded

    def crawl_path(self, file: Path | str) -> Path:
        """What a crawl process should read: the copy of the last version that validated — the
        one this job just loaded, or the last good one while the file is broken. Never the file
        itself: an edit saved while the crawl process starts up must not break the crawl."""
        path = Path(file).resolve()
        copy = self.copy_path(path)
        return copy if copy.exists() else path

    def problem(self, file: Path | str) -> FileProblem | None:
        with self._lock:
            return self._problems.get(Path(file).resolve())

    def problems(self) -> list[FileProblem]:
        with self._lock:
            return sorted(self._problems.values(), key=lambda p: str(p.file))

    def forget(self, file: Path) -> None:
        """A file that was removed: nothing to run, nothing to report."""
        path = file.resolve()
        with self._lock:
            self._good.pop(path, None)
            self._problems.pop(path, None)

    def _problem_file(self, path: Path) -> Path:
        return self.copy_path(path).with_suffix(".problem.json")

    def _remember(self, path: Path, incident: Incident) -> None:
        with self._lock:
            self._good[path] = incident
            fixed = self._problems.pop(path, None)
        if fixed is not None:
            logger.info("incident file %s is valid again", path)
        self._problem_file(path).unlink(missing_ok=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        copy = self.copy_path(path)
        # A temporary file of this call's own: jobs of one incident (its crawls, recheck, alerts)
        # and the file watcher load the file in parallel threads, and with one shared name the
        # first replace took the others' copy away (FileNotFoundError: that crawl did not run).
        # (Not mkstemp: its 0600 would make the copy unreadable to Scrapyd hosts running as
        # another user on the shared volume; copyfile creates the file under the umask.)
        tmp = copy.with_name(f".{copy.name}.{uuid.uuid4().hex}.tmp")
        try:
            shutil.copyfile(path, tmp)
            # The file is read twice (validated, then copied): an edit saved in between would
            # put text that never validated in the last good copy, and every crawl would then
            # fail on it. The copy itself must validate before it replaces the last good one.
            try:
                load_incident(tmp)
            except ConfigFileError:
                logger.info("%s changed while it was being copied; the last good copy stays", path)
                return
            tmp.replace(copy)
        finally:
            tmp.unlink(missing_ok=True)

    def _failed(self, path: Path, error: str, keep_last_good: bool = True) -> Incident | None:
        with self._lock:
            last_good = self._good.get(path)
        if last_good is None and keep_last_good:
            last_good = self._from_copy(path)
        if not keep_last_good:
            last_good = None
        with self._lock:
            known = self._problems.get(path)
        since = self._since(path, error, known)
        with self._lock:
            self._problems[path] = FileProblem(path, error, since, last_good, _raw_fields(path))
        if known is None or known.error != error:
            what = "running its last good version" if last_good else "it never validated"
            logger.error("incident file invalid (%s): %s", what, error)
        return last_good

    def _since(self, path: Path, error: str, known: FileProblem | None) -> datetime:
        """When the file broke: kept across restarts, so a restart is not a new breakage."""
        if known is not None:
            return known.since
        record = self._problem_file(path)
        try:
            return datetime.fromisoformat(json.loads(record.read_text("utf-8"))["since"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        since = self.clock()
        self.folder.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"since": since.isoformat(), "error": error}), "utf-8")
        return since

    def _from_copy(self, path: Path) -> Incident | None:
        copy = self.copy_path(path)
        if not copy.exists():
            return None
        try:
            incident = load_incident(copy)
        except ConfigFileError:
            logger.exception("the last good copy %s no longer validates", copy)
            return None
        # Jobs are keyed by the real file; only crawls read the copy.
        incident = incident.model_copy(update={"path": path})
        with self._lock:
            self._good[path] = incident
        return incident
