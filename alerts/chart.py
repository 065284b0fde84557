"""The chart of an alert e-mail (PNG, matplotlib's Agg canvas, no pyplot state): the incident so
far as posts per interval by stance, the official denial as a labelled dashed line, the alert's
window shaded — enough bars to see a shape (the snapshot spans at least six hours).
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import matplotlib.dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from indexer.intervals import parse_interval
from spreadwatch.names import DENIAL_COLOUR, STANCE_COLOURS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def stance_chart_png(
    chart: dict[str, Any], window: tuple[datetime, datetime] | None = None
) -> bytes:
    """Stacked bars per stance; the denial dashed and labelled; the alert window shaded."""
    series = [(_time(t), counts) for t, counts in chart.get("series") or []]
    step = parse_interval(chart.get("interval") or "1h")
    figure = Figure(figsize=(6.4, 2.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    starts = [mdates.date2num(t) for t, _ in series]
    width = step / timedelta(days=1) * 0.9
    bottom = [0] * len(series)
    stances = [s for s in STANCE_COLOURS if any(c.get(s) for _, c in series)]
    for stance in stances:
        values = [int(c.get(stance, 0)) for _, c in series]
        axes.bar(starts, values, width=width, bottom=bottom, align="edge", label=stance,
                 color=STANCE_COLOURS[stance])  # fmt: skip
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    if window is not None:
        axes.axvspan(mdates.date2num(window[0]), mdates.date2num(window[1]), color="#f6c85f",
                     alpha=0.25, label="this alert", zorder=0)  # fmt: skip
    denial = chart.get("denial_at")
    if denial:
        at = mdates.date2num(_time(denial))
        axes.axvline(at, color=DENIAL_COLOUR, linestyle="--", linewidth=1.5)
        axes.annotate(f"official denial {_time(denial):%d %b %H:%M}", xy=(at, 1),
                      xycoords=("data", "axes fraction"), xytext=(3, -10),
                      textcoords="offset points", fontsize=7, color=DENIAL_COLOUR)  # fmt: skip
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.tick_params(labelsize=7)
    axes.set_ylabel(f"posts per {chart.get('interval', '')}", fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    if stances:
        axes.legend(loc="upper left", fontsize=7, frameon=False, ncols=3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def counts_png(series: list[tuple[datetime, int]], marker: datetime | None = None) -> bytes:
    """An alert stored before stance charts existed: its plain counts, as stance-less bars."""
    if len(series) > 1:
        step = series[1][0] - series[0][0]
        seconds = max(int(step.total_seconds()), 1)
        interval = f"{seconds}s"
    else:
        interval = "1h"
    chart = {"interval": interval, "series": [[t.isoformat(), {"other": c}] for t, c in series]}
    window = (marker, series[-1][0]) if marker and series else None
    return stance_chart_png(chart, window)
