"""The report's charts as inline SVG (matplotlib's object API: no pyplot
global state, no display, no network).

SVG rather than PNG: it stays sharp when printed or zoomed, and is text inside the one HTML file.
Each chart gets its own hash salt so the ids matplotlib generates (clip paths) stay unique
across the charts of one page and identical between two runs on the same data.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from indexer.analytics import GithubActivity, Timeline
from indexer.intervals import parse_interval
from indexer.phases import Phases
from spreadwatch.names import DENIAL_COLOUR, STANCE_COLOURS, platform_colours, platform_label


@contextmanager
def _figure(name: str, height: float = 3.2) -> Iterator[tuple[Figure, Axes]]:
    with mpl.rc_context({"svg.hashsalt": f"spreadwatch-{name}", "svg.fonttype": "none"}):
        fig = Figure(figsize=(10, height), layout="constrained")
        yield fig, fig.subplots()


def _svg(fig: Figure, label: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    svg = text[text.index("<svg") :]
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _time_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def _mark_denial(ax: Axes, found: Phases) -> None:
    """A dashed line, labelled above the plot so phase labels inside never cover it."""
    if found.denial is None:
        return
    ax.axvline(_num(found.denial.timestamp), color=DENIAL_COLOUR, linewidth=2, linestyle="--")
    ax.annotate(
        f"official denial {found.denial.timestamp:%d %b %H:%M}",
        xy=(found.denial.timestamp, 1),
        xycoords=("data", "axes fraction"),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        color=DENIAL_COLOUR,
        fontsize=9,
        fontweight="bold",
    )


def _mark_phases(ax: Axes, found: Phases) -> None:
    """Dotted line per phase start, its name written along the line; a label that would touch
    the previous one (or the denial's line) moves down the line instead of overlapping it."""
    low, high = ax.get_xlim()
    width = (high - low) or 1.0
    taken = [_num(found.denial.timestamp)] if found.denial is not None else []
    for phase in found.phases:
        if phase.name == "denial":
            continue
        at = _num(phase.start)
        ax.axvline(at, color="#888888", linewidth=0.8, linestyle=":")
        crowded = sum(1 for x in taken if abs(x - at) / width < LABEL_GAP)
        taken.append(at)
        ax.annotate(
            phase.name,
            xy=(phase.start, 0.97 - 0.32 * (crowded % 3)),
            xycoords=("data", "axes fraction"),
            xytext=(-2, 0),
            textcoords="offset points",
            rotation=90,
            ha="right",
            va="top",
            fontsize=8,
            color="#555555",
        )


#: Labels closer than this share of the axis width are stacked down their lines.
LABEL_GAP = 0.035


def _num(when: datetime) -> float:
    """Matplotlib's own date number (its typed API takes floats, not datetimes)."""
    return float(mdates.date2num(when))


def _legend(ax: Axes) -> None:
    """Outside the plot, on the right: inside it hides the bars and the denial label."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


def _bar_width(interval: str) -> float:
    return parse_interval(interval) / timedelta(days=1) * 0.9


def _bars(
    ax: Axes,
    starts: Any,
    values: list[int],
    bottom: list[int],
    *,
    width: float,
    label: str,
    colour: str,
) -> None:
    """One stacked series; empty buckets draw nothing (hundreds of zero bars make SVG slow)."""
    keep = [i for i, value in enumerate(values) if value]
    ax.bar(
        [starts[i] for i in keep],
        [values[i] for i in keep],
        width=width,
        bottom=[bottom[i] for i in keep],
        align="edge",
        label=label,
        color=colour,
    )


def stance_timeline(timeline: Timeline, found: Phases) -> str:
    """Stacked bars of posts per stance, phases as dotted lines, the denial as a dashed line."""
    with _figure("stance") as (fig, ax):
        starts = mdates.date2num([b.start for b in timeline.buckets])
        bottom = [0] * len(starts)
        keys = [k for k in STANCE_COLOURS if k in timeline.keys("stance")]
        keys += [k for k in timeline.keys("stance") if k not in STANCE_COLOURS]
        for key in keys:
            values = timeline.series("stance", key)
            colour = STANCE_COLOURS.get(key, "#999999")
            width = _bar_width(timeline.interval)
            _bars(ax, starts, values, bottom, width=width, label=key, colour=colour)
            bottom = [a + b for a, b in zip(bottom, values, strict=True)]
        _mark_phases(ax, found)
        _mark_denial(ax, found)
        ax.set_ylabel(f"posts per {timeline.interval}")
        _legend(ax)
        _time_axis(ax)
        return _svg(fig, "Posts over time by stance, with the official denial marked")


def platform_timeline(timeline: Timeline, found: Phases) -> str:
    """Stacked areas of posts per platform: where the story travelled, and when."""
    with _figure("platform") as (fig, ax):
        starts = mdates.date2num([b.start for b in timeline.buckets])
        keys = timeline.keys("platform")
        series = [timeline.series("platform", k) for k in keys]
        palette = platform_colours(keys)
        colours = [palette[k] for k in keys]
        labels = [platform_label(k) for k in keys]
        ax.stackplot(starts, series, labels=labels, colors=colours, step="post", alpha=0.85)
        _mark_denial(ax, found)
        ax.set_ylabel(f"posts per {timeline.interval}")
        _legend(ax)
        _time_axis(ax)
        return _svg(fig, "Posts over time by platform")


def cumulative(timeline: Timeline, found: Phases) -> str:
    with _figure("cumulative", height=2.6) as (fig, ax):
        starts = mdates.date2num([b.start for b in timeline.buckets])
        ax.step(starts, [b.cumulative for b in timeline.buckets], where="post", color="#333333")
        ax.fill_between(
            starts,
            [b.cumulative for b in timeline.buckets],
            step="post",
            alpha=0.15,
            color="#333333",
        )
        _mark_denial(ax, found)
        ax.set_ylabel("posts so far")
        _time_axis(ax)
        return _svg(fig, "Cumulative volume of posts")


def github_activity(activity: GithubActivity, denial_at: datetime | None) -> str:
    """Stars, forks and issues per bucket on the incident's repositories (the bucket length
    follows the activity's span: years of star history give long bars, never a failure)."""
    buckets = activity.buckets
    with _figure("github", height=2.6) as (fig, ax):
        starts = mdates.date2num([b.start for b in buckets])
        width = _bar_width(activity.interval)
        bottom = [0] * len(buckets)
        for name, colour in (("stars", "#f1a340"), ("forks", "#998ec3"), ("issues", "#542788")):
            values = [getattr(b, name) for b in buckets]
            _bars(ax, starts, values, bottom, width=width, label=name, colour=colour)
            bottom = [a + b for a, b in zip(bottom, values, strict=True)]
        if denial_at is not None:
            ax.axvline(_num(denial_at), color=DENIAL_COLOUR, linewidth=2, linestyle="--")
        ax.set_ylabel(f"events per {activity.interval}")
        _legend(ax)
        _time_axis(ax)
        return _svg(fig, f"GitHub stars, forks and issues per {activity.interval}")
