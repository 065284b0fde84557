"""Render a `ReportData` into one self-contained HTML file.

Jinja2 with autoescape on: every post text, handle and URL from the platforms is untrusted and
is escaped where it lands. The only unescaped markup is the SVG the charts module generates.
A Content-Security-Policy forbids scripts and every network fetch, so even a rendering mistake
cannot run a post's `<script>` or make the file phone home.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from alerts.model import human_number
from alerts.wording import label_provenance
from indexer.analytics import PostRef
from indexer.report_queries import ReachDecider
from spreadwatch.display import excerpt
from spreadwatch.names import platform_label
from spreadwatch.report import charts
from spreadwatch.report.data import ReportData
from spreadwatch.report.summary import executive_summary
from spreadwatch.templating import template_environment
from spreadwatch.urls import domain_of

EXCERPT_CHARS = 280


def fmt_time(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "—"


def fmt_delta(value: timedelta | None) -> str:
    """`1 d 4 h 30 min`: comms teams read durations, not seconds."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours or days else []
    parts.append(f"{mins} min")
    return " ".join(parts)


def fmt_share(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "—"


def fmt_ratio(value: float | None) -> str:
    return f"{value:.1f}×" if value is not None else "—"


def _environment() -> Environment:
    return template_environment(
        PackageLoader("spreadwatch.report", "templates"),
        select_autoescape(["html", "j2"], default=True),
        number=number,
        who=who,
        platform=platform_label,
        time=fmt_time,
        delta=fmt_delta,
        share=fmt_share,
        ratio=fmt_ratio,
        excerpt=_excerpt,
        labelled_by=_labelled_by,
    )


def _labelled_by(decider: ReachDecider) -> str:
    return label_provenance(decider.source, decider.confidence)


def _excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    return excerpt(text, limit)


def _charts(data: ReportData) -> dict[str, Markup]:
    if data.empty:
        return {}
    found, timeline = data.phases, data.timeline
    made = {
        "stance": charts.stance_timeline(timeline, found),
        "platform": charts.platform_timeline(timeline, found),
        "cumulative": charts.cumulative(timeline, found),
    }
    if data.github.buckets:
        denial_at = found.denial.timestamp if found.denial else None
        made["github"] = charts.github_activity(data.github, denial_at)
    return {name: Markup(svg) for name, svg in made.items()}


def render_html(data: ReportData) -> str:
    template = _environment().get_template("report.html.j2")
    phase_rows = list(zip(data.phases.phases, data.top_posts, strict=False))
    return template.render(
        data=data,
        charts=_charts(data),
        phase_rows=phase_rows,
        summary=executive_summary(data),
    )


def who(post: PostRef) -> str:
    """The author as shown: handle, else the site a statement page is on, else "unknown"."""
    if post.author:
        return post.author
    return domain_of(post.url) or "unknown"


def number(value: float | None) -> str:
    return "—" if value is None else human_number(float(value))


def write_report(data: ReportData, out: Path) -> Path:
    """Write the report; the name must end in .html so browsers open it as a page, and its
    folder must exist (a typo in a path must not scatter reports into new folders)."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"{out}: the report is an HTML file; name it *.html")
    if not out.parent.is_dir():
        raise ValueError(f"{out}: folder {out.parent} does not exist")
    out.write_text(render_html(data), encoding="utf-8")
    return out
