"""Scrapyd's JSON API, as the monitor uses it: load, jobs, schedule, status, cancel, eggs.

A thin client over `requests` rather than scrapyd-client's `ScrapydClient`, which sets no
timeout: a monitor must never hang on a daemon that stopped answering. Every call raises
`ScrapydError` (with the daemon's URL) for a refusal or an answer it cannot read, and
`ScrapydUnreachableError` when the daemon cannot be reached — the dispatcher treats only the
latter as a possibly lost host. Unreachable is decided here, once: nothing answers (connection
refused, reset, timed out), or the gateway in front of the daemon (nginx, a Kubernetes ingress,
a load balancer) answers 502, 503 or 504 — what it says when the host behind it is down or does
not answer. Scrapyd itself never answers those: it reports its own errors as JSON with
`status: error` (HTTP 200 in Scrapyd 1.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

TIMEOUT = 10.0
#: schedule.json and addversion.json run the project in a subprocess to list its spiders: a
#: second or two on a quiet host, much more on a busy one.
SLOW_TIMEOUT = 120.0
#: What a gateway in front of Scrapyd answers when it cannot reach the daemon: Bad Gateway (the
#: connection to the host failed), Service Unavailable (no live upstream), Gateway Timeout.
GATEWAY_ERRORS = frozenset({502, 503, 504})


class ScrapydError(RuntimeError):
    """The daemon answered, but not with `status: ok`."""


class ScrapydUnreachableError(ScrapydError):
    """No answer from the daemon: connection refused, reset or timed out, or its gateway's
    502/503/504."""


@dataclass(frozen=True)
class Job:
    """One entry of listjobs.json."""

    id: str
    spider: str
    state: str  # pending, running, finished
    pid: int | None = None


@dataclass
class ScrapydDaemon:
    url: str
    project: str = "spreadwatch"
    auth: tuple[str, str] | None = None
    timeout: float = TIMEOUT

    def load(self) -> int:
        """Jobs running or waiting on this daemon (all projects)."""
        status = self._call("GET", "daemonstatus.json")
        return int(status.get("running", 0)) + int(status.get("pending", 0))

    def jobs(self) -> list[Job]:
        """This project's pending, running and recently finished jobs."""
        listed = self._call("GET", "listjobs.json", params={"project": self.project})
        return [
            Job(str(entry["id"]), str(entry.get("spider", "")), state, entry.get("pid"))
            for state in ("pending", "running", "finished")
            for entry in listed.get(state, [])
        ]

    def schedule(
        self, spider: str, job_id: str, args: dict[str, str], settings: dict[str, str]
    ) -> None:
        """Queue a crawl of `spider` under our own job id (the crawl's run id)."""
        data: list[tuple[str, str]] = [
            ("project", self.project),
            ("spider", spider),
            ("jobid", job_id),
        ]
        data += [("setting", f"{name}={value}") for name, value in settings.items()]
        data += list(args.items())
        self._call("POST", "schedule.json", data=data, timeout=SLOW_TIMEOUT)

    def state(self, job_id: str) -> str:
        """pending, running or finished; "" when the daemon does not know the job (restarted)."""
        found = self._call("GET", "status.json", params={"job": job_id, "project": self.project})
        return str(found.get("currstate") or "")

    def cancel(self, job_id: str, signal: str = "TERM") -> None:
        self._call(
            "POST", "cancel.json", data={"project": self.project, "job": job_id, "signal": signal}
        )

    def log_tail(self, spider: str, job_id: str, size: int = 2000) -> str:
        """The end of a job's log as the daemon serves it ("" when it has none)."""
        try:
            response = requests.get(
                f"{self.url}/logs/{self.project}/{spider}/{job_id}.log",
                headers={"Range": f"bytes=-{size}"},
                auth=self.auth,
                timeout=self.timeout,
            )
        except requests.RequestException:
            return ""
        return response.text[-size:] if response.ok else ""

    def add_version(self, version: str, egg: Path) -> int:
        """Upload the project's egg; returns how many spiders the daemon found in it."""
        with egg.open("rb") as handle:
            answer = self._call(
                "POST",
                "addversion.json",
                data={"project": self.project, "version": version},
                files={"egg": ("project.egg", handle)},
                timeout=SLOW_TIMEOUT,
            )
        return int(answer.get("spiders", 0))

    def _call(
        self, method: str, path: str, timeout: float | None = None, **options: Any
    ) -> dict[str, Any]:
        try:
            response = requests.request(
                method,
                f"{self.url}/{path}",
                auth=self.auth,
                timeout=timeout or self.timeout,
                **options,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            cause = error.args[0] if error.args else error
            reason = getattr(cause, "reason", cause)  # urllib3 wraps the socket error
            raise ScrapydUnreachableError(f"Scrapyd at {self.url} unreachable: {reason}") from None
        if response.status_code in GATEWAY_ERRORS:
            raise ScrapydUnreachableError(
                f"Scrapyd at {self.url} unreachable: its gateway answered "
                f"{response.status_code} {response.reason} to {path}"
            )
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            raise ScrapydError(
                f"Scrapyd at {self.url} answered {response.status_code} to {path}, not JSON"
            ) from None
        if answer.get("status") != "ok":
            raise ScrapydError(
                f"Scrapyd at {self.url} refused {path}: {answer.get('message', answer)}"
            )
        return answer
