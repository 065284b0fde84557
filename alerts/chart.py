"""A small timeline chart (PNG) for an alert e-mail, drawn with matplotlib's Agg backend.

Agg needs no display, so the scheduler can draw in a headless service; the figure is closed
after drawing so a long-running monitor does not accumulate figures.
"""

from __future__ import annotations

import io
from datetime import datetime

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def timeline_png(
    series: list[tuple[datetime, int]], marker: datetime | None = None, title: str = ""
) -> bytes:
    """Posts per interval as bars; `marker` (the alert's window start) as a vertical line."""
    figure, axes = plt.subplots(figsize=(6, 2.2), dpi=100)
    try:
        times = [t for t, _ in series]
        counts = [c for _, c in series]
        width = (times[1] - times[0]).total_seconds() / 86400 * 0.9 if len(times) > 1 else 0.02
        axes.bar(times, counts, width=width, color="#c0392b", align="edge")  # type: ignore[arg-type]
        if marker is not None:
            axes.axvline(marker, color="#2c3e50", linestyle="--", linewidth=1)  # type: ignore[arg-type]
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %H:%M"))
        axes.tick_params(labelsize=7)
        axes.set_ylabel("posts", fontsize=8)
        if title:
            axes.set_title(title, fontsize=9)
        figure.autofmt_xdate()
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
