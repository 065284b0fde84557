"""The live display while the demo plays: simulated time, posts per platform, phase, alerts.

A terminal gets a `rich` live panel redrawn each round; anything else (a pipe, a test) gets one
plain line per round, so logs of a run stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from spreadwatch.demo import RECONSTRUCTION_NOTICE
from spreadwatch.demo.story import FiredAlert


@dataclass
class Frame:
    """What one round shows."""

    at: datetime
    round: int
    rounds: int
    phase: str
    posts: dict[str, int]
    alerts: list[FiredAlert] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Display:
    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.console = Console(file=stream, highlight=False)
        self.live_mode = self.console.is_terminal if live is None else live
        self._live: Live | None = None
        self.recent: list[FiredAlert] = []

    def __enter__(self) -> Display:
        self.console.print(Text(RECONSTRUCTION_NOTICE, style="bold yellow"))
        if self.live_mode:
            self._live = Live(console=self.console, refresh_per_second=8, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def show(self, frame: Frame) -> None:
        if self._live is not None:
            self._live.update(self._panel(frame))
            return
        posts = " ".join(f"{p}={n}" for p, n in sorted(frame.posts.items()))
        # markup=False: subjects carry authors' handles and text, which must print as they are.
        self.console.print(
            f"[{frame.round:>3}/{frame.rounds}] {frame.at:%a %d %b %H:%M} UTC  phase={frame.phase}  "
            f"posts={sum(frame.posts.values())} ({posts})",
            markup=False,
        )
        for alert in frame.alerts:
            self.console.print(f"      ALERT {alert.rule_type}: {alert.subject}", markup=False)

    def message(self, text: str) -> None:
        self.console.print(text, markup=False)

    def _panel(self, frame: Frame) -> Group:
        head = Text.assemble(
            ("simulated time ", "dim"), (f"{frame.at:%a %d %b %Y %H:%M} UTC", "bold"),
            ("   phase ", "dim"), (frame.phase, "bold magenta"),
            ("   round ", "dim"), f"{frame.round}/{frame.rounds}",
        )  # fmt: skip
        table = Table(title="posts indexed per platform", expand=False)
        table.add_column("platform")
        table.add_column("posts", justify="right")
        for platform, count in sorted(frame.posts.items(), key=lambda kv: -kv[1]):
            table.add_row(platform, str(count))
        self.recent = (self.recent + frame.alerts)[-8:]
        parts: list[Table | Text] = [head, table]
        parts += [Text(f"ALERT {a.rule_type}: {a.subject}", style="bold red") for a in self.recent]
        parts += [Text(p, style="yellow") for p in frame.problems]
        return Group(*parts)
