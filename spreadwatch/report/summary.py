"""The report's opening paragraph: the incident in four sentences, written from the figures.

"The rumour started on Weibo on 16 Oct 04:40 UTC and reached 9 platforms (1,069 posts).
@bytedance_pr denied it on Toutiao 19 Oct 06:00 UTC, 2 d 21 h later. After the denial the
rumour's share of posts went from 62% to 18%; the denial reached 0.9× as many people as the
rumour (160.4M vs 172.1M). The claim heard most, "gpus-8000" (412 posts), is answered by the
denial; 3 claims are not."
"""

from __future__ import annotations

from alerts.model import human_number
from alerts.wording import ago
from spreadwatch.names import platform_label
from spreadwatch.report.data import ReportData


def executive_summary(data: ReportData) -> str:
    """Sentences for people who read only the top of the report; empty without posts."""
    found = data.phases
    if found.span is None:
        return ""
    sentences = []
    origin = data.origin.first
    platforms = len(data.origin.per_platform)
    if origin is not None:
        sentences.append(
            f"The rumour started on {platform_label(origin.platform)} on "
            f"{origin.timestamp:%d %b %H:%M} UTC and reached {platforms} platform"
            f"{'s' if platforms != 1 else ''} ({_posts(found.span.posts)})."
        )
    m = found.measures
    if found.denial is not None:
        who = f"@{found.denial.author}" if found.denial.author else "The organisation"
        later = f", {ago(m.time_to_denial)} later" if m.time_to_denial is not None else ""
        sentences.append(
            f"{who} denied it on {platform_label(found.denial.platform)}"
            f" {found.denial.timestamp:%d %b %H:%M} UTC{later}."
        )
        effect = []
        if m.rumour_share_before is not None and m.rumour_share_after is not None:
            effect.append(
                f"the rumour's share of posts went from {m.rumour_share_before:.0%} "
                f"to {m.rumour_share_after:.0%}"
            )
        if m.reach_ratio is not None:
            effect.append(
                f"the denial reached {m.reach_ratio:.1f}× as many people as the rumour "
                f"({human_number(m.denial_reach)} vs {human_number(m.rumour_reach)})"
            )
        if effect:
            sentences.append("After the denial " + "; ".join(effect) + ".")
    elif m.time_since_onset is not None:
        sentences.append(f"No official denial yet, {ago(m.time_since_onset)} after the onset.")
    claims = [c for c in (data.claims.claims if data.claims else []) if c.posts]
    if claims and found.denial is not None:
        top = max(claims, key=lambda c: c.posts)
        unanswered = sum(1 for c in claims if not c.addressed_by_denial)
        answered = "is answered" if top.addressed_by_denial else "is not answered"
        tail = (
            f"; {unanswered} claim{'s are' if unanswered != 1 else ' is'} not" if unanswered else ""
        )
        sentences.append(
            f'The claim heard most, "{top.name}" ({_posts(top.posts)}), {answered} by the '
            f"denial{tail}."
        )
    return " ".join(sentences)


def _posts(count: int) -> str:
    return f"{count:,} post{'s' if count != 1 else ''}"
