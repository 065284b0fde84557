"""The second complete scenario: a new user's own incident, an airline fleet-grounding rumour.

Aurora Air (fictional) is said to have grounded its fleet over engine cracks. The story, with
times relative to T0 (when the test starts; every post is in the recent past of the wall clock,
so rule windows on the monitor's real clock see them):

- the official newsroom feed carries unrelated items, one before the window ("adds winter
  routes", T0 − 3 d) and one inside it ("new lounge", T0 − 44 min): official, but not about the
  rumour — they are no posts of the incident (`dropped/no_match`), never "the official denial";
- stage A on Mastodon (#AuroraAir): a hedged rumour (T0 − 50 min), two outright rumour posts,
  and a false denial by a non-official account;
- stage C: the real official denial in the newsroom feed (T0 − 20 min);
- stage D: the same denial from the airline's own Mastodon account (T0 − 12 min; 45k followers:
  the denial's reach now passes the rumour's) and a travel-news report of it (T0 − 8 min).

The test reveals each stage by moving the replay servers' clock (`StageClock`).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from textwrap import dedent
from typing import Any

from spreadwatch.replay.feeds import FeedsData
from spreadwatch.replay.mastodon import MastodonData

M = timedelta(minutes=1)
INSTANCE = "https://social.example"
NEWSROOM = "https://newsroom.aurora-air.example/rss.xml"
TRAVEL_NEWS = "https://travelnews.example/feed.xml"
TITLE = "Aurora Air fleet grounding rumour"

#: Minutes before T0 at which each stage's clock stands (everything up to it is visible).
STAGE_A = -36
STAGE_C = -20
STAGE_D = -5


@dataclass
class StageClock:
    """The replay servers' clock: the test moves it forward stage by stage."""

    t0: datetime
    offset: timedelta = timedelta(minutes=STAGE_A)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> datetime:
        with self._lock:
            return self.t0 + self.offset

    def stage(self, minutes: int) -> None:
        with self._lock:
            self.offset = timedelta(minutes=minutes)


def guid_id(guid: str) -> str:
    """The post id the feeds spider gives an item."""
    return "news:" + hashlib.sha1(guid.encode()).hexdigest()


def _rss(guid: str, title: str, text: str, at: datetime, link: str) -> dict[str, Any]:
    return {
        "title": title,
        "link": link,
        "guid": {"text": guid, "isPermaLink": "false"},
        "pubDate": format_datetime(at, usegmt=True),
        "description": f"<p>{text}</p>",
    }


def feeds(t0: datetime) -> FeedsData:
    news = "https://newsroom.aurora-air.example/news/"
    return FeedsData(
        feeds={
            "/rss.xml": {
                "title": "Aurora Air Newsroom",
                "link": "https://newsroom.aurora-air.example/",
                "items": [
                    _rss(
                        "aa-winter-routes",
                        "Aurora Air adds winter routes to Tromsø and Rovaniemi",
                        "Three new winter routes start in December, with daily flights.",
                        t0 - timedelta(days=3),
                        news + "winter-routes",
                    ),
                    _rss(
                        "aa-lounge",
                        "Aurora Air opens a new lounge at Oslo Gardermoen",
                        "The Northern Lights lounge welcomes business travellers from today.",
                        t0 - 44 * M,
                        news + "lounge",
                    ),
                    _rss(
                        "aa-statement",
                        "Statement: Aurora Air has not grounded its fleet",
                        "Reports that Aurora Air has grounded its fleet over engine cracks are "
                        "false. All our aircraft are flying as scheduled and no cracks were "
                        "found in any engine.",
                        t0 - 20 * M,
                        news + "statement-fleet",
                    ),
                ],
            },
            "/feed.xml": {
                "title": "Travel News",
                "link": "https://travelnews.example/",
                "items": [
                    _rss(
                        "tn-aurora",
                        "Aurora Air denies grounding its fleet",
                        "According to a statement, Aurora Air says reports of a fleet grounding "
                        "are false; flights operate normally.",
                        t0 - 8 * M,
                        "https://travelnews.example/aurora-air-denies",
                    ),
                ],
            },
        }
    )


def snowflake(at: datetime, n: int) -> str:
    return str((int(at.timestamp() * 1000) << 16) + n)


def _status(n: int, at: datetime, handle: str, followers: int, text: str) -> dict[str, Any]:
    sid = snowflake(at, n)
    return {
        "id": sid,
        "uri": f"{INSTANCE}/users/{handle}/statuses/{sid}",
        "url": f"{INSTANCE}/@{handle}/{sid}",
        "created_at": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "language": "en",
        "content": f'<p>{text} <a href="{INSTANCE}/tags/AuroraAir">#<span>AuroraAir</span></a></p>',
        "tags": [{"name": "auroraair", "url": f"{INSTANCE}/tags/auroraair"}],
        "mentions": [],
        "in_reply_to_id": None,
        "reblog": None,
        "favourites_count": 3,
        "reblogs_count": 1,
        "replies_count": 0,
        "account": {
            "id": str(1000 + n),
            "acct": handle,
            "username": handle,
            "display_name": handle,
            "url": f"{INSTANCE}/@{handle}",
            "followers_count": followers,
        },
    }


#: (minutes before T0, handle, followers, text) of every Mastodon status.
STATUSES = [
    (-50, "planespotter", 1200,
     "Hearing that Aurora Air may be grounding its whole fleet after engine cracks were found. "
     "Can't confirm yet."),
    (-45, "avgeek", 3000,
     "Aurora Air grounds its entire fleet: engine cracks found on several aircraft."),
    (-40, "flyer", 800,
     "Aurora Air fleet grounded because of engine cracks. Cancel your trips!"),
    (-38, "randomguy", 40,
     "This is fake news, Aurora Air has not grounded anything. Calm down everyone."),
    (-12, "auroraair", 45000,
     "Reports that we have grounded our fleet over engine cracks are false. Our aircraft are "
     "flying as scheduled."),
]  # fmt: skip


def mastodon(t0: datetime) -> MastodonData:
    return MastodonData(
        statuses=[
            _status(n, t0 + minutes * M, handle, followers, text)
            for n, (minutes, handle, followers, text) in enumerate(STATUSES)
        ]
    )


def status_id(t0: datetime, handle: str) -> str:
    """The post id the Mastodon spider gives a status of `handle`."""
    n, (minutes, *_rest) = next((n, s) for n, s in enumerate(STATUSES) if s[1] == handle)
    sid = snowflake(t0 + minutes * M, n)
    return f"mastodon:{INSTANCE}/users/{handle}/statuses/{sid}"


TYPO = ("type: threshold", "type: treshold")


def incident_yaml(incident_id: str, t0: datetime, digest: str) -> str:
    """The incident file a user would write (short schedules for the test)."""
    start = (t0 - timedelta(hours=2)).isoformat()
    return dedent(
        f"""\
        id: {incident_id}
        title: {TITLE}
        organisation: Aurora Air
        window:
          start: {start}
        languages: [en]
        queries:
          - name: grounding
            lang: en
            any: ["Aurora Air grounded", "Aurora Air grounding", "Aurora Air grounds"]
        claims:
          - name: fleet
            description: the whole fleet is grounded
            patterns: ["re:(whole|entire) fleet", "fleet grounded", "grounded its fleet", "grounded our fleet"]
          - name: cracks
            description: cracks were found in the engines
            patterns: ["engine cracks", "cracks in the engines", "re:cracks? (were )?found in"]
        official:
          organisation: Aurora Air
          accounts:
            - {{platform: mastodon, handle: auroraair@social.example}}
          domains: [aurora-air.example]
        sources:
          feeds:
            every: 10s
            jitter: 0s
            feeds:
              - {{url: "{NEWSROOM}", name: Aurora Air newsroom, lang: en, official: true}}
              - {{url: "{TRAVEL_NEWS}", name: Travel News, lang: en}}
          mastodon:
            every: 10s
            jitter: 0s
            instances:
              - {{url: "{INSTANCE}", hashtags: [AuroraAir]}}
        evidence:
          recheck: off            # deletions are another story's subject
        alerts:
          recipients: [comms@aurora-air.example]
          realert: 1h
          digest: {digest}
          every: 3s
          rules:
            - name: official-denial
              type: official_denial
            - name: denial-overtakes
              type: denial_overtakes
            - name: first-post
              type: first_platform
              platforms: [mastodon]
            - name: busy
              type: threshold
              window: 1h
              count: 3
        """
    )
