"""Helpers for the scheduler tests: incident files on disk, waiting for a condition."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent
from typing import Any

PY = sys.executable


def incident_yaml(
    incident_id: str = "bytedance-intern-2024", github_every: str = "30m", extra: str = ""
) -> str:
    return (
        dedent(
            f"""\
        id: {incident_id}
        title: ByteDance intern rumour
        window:
          start: 2024-10-17T00:00:00Z
        queries:
          - name: zh
            lang: zh
            any: ["字节 实习生"]
        sources:
          github:
            every: {github_every}
            jitter: 10s
          feeds:
            every: 1h
        alerts:
          recipients: [analyst@example.org]
          every: 5m
          rules:
            - name: spike
              type: spike
        """
        )
        + extra
    )


def write_incident(folder: Path, name: str = "bytedance.yml", **options: str) -> Path:
    path = folder / name
    path.write_text(incident_yaml(**options), encoding="utf-8")
    return path


def wait_for(
    condition: Callable[[], Any],
    timeout: float = 20.0,
    what: str = "the condition",
    *,
    step: float = 0.05,
    why: Callable[[], str] | None = None,
) -> Any:
    """Poll until `condition()` is truthy; returns its value. On timeout the test fails naming
    `what` it waited for, and `why()` when given (what the world looked like then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"waited {timeout:.0f}s for {what}" + (f": {why()}" if why else ""))
