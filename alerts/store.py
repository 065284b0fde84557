"""Alerts in Elasticsearch: the memory that makes a restart neither lose nor repeat an alert.

Every alert is written as `pending` (refreshed at once, so the next evaluation — in this
process or after a restart — sees it) before any e-mail goes out, then turned `sent` or, after
too many failed attempts, `failed`. Realert windows and "first" rules are answered by looking
at what is already stored; silences are stored documents too (state `silenced`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.dsl import Q, Search

from alerts.model import Finding
from indexer.connection import IndexNames

logger = logging.getLogger(__name__)

#: Delivery states that count as "this alert exists" for realert and "first" rules.
LIVE_STATES = ("pending", "sent", "failed")
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=30)
#: How long delivery is retried before a recipient counts as failed (SMTP's own queues give up
#: after 4-5 days; an outage of a weekend must not lose an alert). `SPREADWATCH_ALERT_MAX_AGE`.
MAX_AGE = timedelta(days=7)
MAX_TEXT = 600


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def parse_time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 30s, 1m, 2m, ... capped at 30 minutes."""
    return min(BACKOFF_FIRST * (2 ** min(max(attempts - 1, 0), 16)), BACKOFF_MAX)


def recipient_states(alert: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each recipient's delivery so far (pending until tried), by address."""
    known = {d["recipient"]: dict(d) for d in alert.get("deliveries") or []}
    return {
        address: known.get(address) or {"recipient": address, "state": "pending", "attempts": 0}
        for address in alert.get("recipients") or []
    }


def _trim_post(post: dict[str, Any]) -> dict[str, Any]:
    """What an e-mail needs of a post, bounded so one huge post cannot bloat the alerts index."""
    author = post.get("author") or {}
    text = str(post.get("text") or "")
    return {
        "id": post.get("_id"),
        "timestamp": post.get("@timestamp"),
        "platform": post.get("platform"),
        "url": post.get("url"),
        "title": (post.get("title") or "")[:200],
        "text": text[:MAX_TEXT] + ("…" if len(text) > MAX_TEXT else ""),
        "author": author.get("handle") or author.get("name") or author.get("id"),
        "followers": author.get("followers"),
        "reach": post.get("reach"),
        "stance": post.get("stance"),
        "confidence": post.get("stance_confidence"),
        "source": post.get("stance_source"),
        "pending": bool(post.get("stance_pending")) and post.get("stance_source") == "lexicon",
        "claims": list((post.get("matched") or {}).get("claims") or [])[:10],
        "kind": post.get("kind"),
    }


@dataclass(frozen=True)
class AlertStore:
    client: Elasticsearch
    names: IndexNames

    @property
    def index(self) -> str:
        return self.names.alerts

    def _search(self) -> Search:
        return Search(using=self.client, index=self.index)

    # --- deciding ----------------------------------------------------------------------------

    def exists(self, incident: str, rule: str, key: str, since: datetime | None = None) -> bool:
        """An alert for this rule and key was already raised (since `since`, or ever)."""
        search = (
            self._search()
            .filter("term", incident=incident)
            .filter("term", rule=rule)
            .filter("term", key=key)
            .filter("terms", state=list(LIVE_STATES))
        )
        if since is not None:
            search = search.filter("range", **{"@timestamp": {"gte": _iso(since)}})
        return search.count() > 0

    def live(self, incident: str, rule: str, key: str | None = None) -> list[dict[str, Any]]:
        """The rule's alerts (for one key, or all) that count as raised, oldest first."""
        search = (
            self._search()
            .filter("term", incident=incident)
            .filter("term", rule=rule)
            .filter("terms", state=list(LIVE_STATES))
            .sort("@timestamp", "seq")
        )
        if key is not None:
            search = search.filter("term", key=key)
        return self._docs(search)

    def silenced_until(self, incident: str, rule: str, now: datetime) -> datetime | None:
        """The end of the longest silence covering this rule now, if any."""
        search = (
            self._search()
            .filter("term", state="silenced")
            .filter("terms", rule=[rule, "*"])
            .filter("terms", incident=[incident, "*"])
            .filter("range", window_end={"gt": _iso(now)})
            .sort("-window_end")
            .extra(size=1)
        )
        hits = list(search.execute())
        return parse_time(hits[0].window_end) if hits else None

    def silence(
        self, rule: str, until: datetime, now: datetime, incident: str | None = None
    ) -> str:
        """Silence a rule (or "*") for one incident (or all) until `until`."""
        doc = {
            "@timestamp": _iso(now),
            "incident": incident or "*",
            "rule": rule,
            "key": "*",
            "state": "silenced",
            "window_start": _iso(now),
            "window_end": _iso(until),
            "summary": f"silenced until {_iso(until)}",
        }
        result = self.client.index(index=self.index, document=doc, refresh=True)
        return str(result["_id"])

    # --- recording ---------------------------------------------------------------------------

    def record(
        self, incident: Any, finding: Finding, recipients: list[str], now: datetime, **extra: Any
    ) -> dict[str, Any]:
        """Store a finding as a pending alert; its id is derived from what fired and when."""
        seed = f"{incident.id}|{finding.rule}|{finding.key}|{_iso(now)}"
        alert_id = hashlib.sha1(seed.encode()).hexdigest()[:20]
        details = asdict(finding)
        details["posts"] = [_trim_post(p) for p in finding.posts[:5]]
        details.update(
            {
                "incident_title": incident.title,
                "next_attempt": _iso(now),
                "window_start": _iso(finding.window_start),
                "window_end": _iso(finding.window_end),
                **extra,
            }
        )
        doc = {
            "@timestamp": _iso(now),
            "incident": incident.id,
            "rule": finding.rule,
            "rule_type": finding.rule_type,
            "key": finding.key,
            "state": "pending",
            "subject": f"{finding.headline} — {incident.title}",
            "summary": finding.summary,
            "recipients": recipients,
            "attempts": 0,
            # Alerts raised by one run share @timestamp; this keeps the order they were raised.
            "seq": time.time_ns(),
            "window_start": _iso(finding.window_start),
            "window_end": _iso(finding.window_end),
            "value": finding.value,
            "details": details,
        }
        self.client.index(index=self.index, id=alert_id, document=doc, refresh=True)
        logger.info("alert %s raised: %s", alert_id, doc["subject"])
        return {"_id": alert_id, **doc}

    def _save(self, alert: dict[str, Any]) -> None:
        body = {k: v for k, v in alert.items() if k != "_id"}
        self.client.index(index=self.index, id=alert["_id"], document=body, refresh=True)

    def record_attempt(
        self,
        alert: dict[str, Any],
        tried: list[str],
        refused: dict[str, tuple[int | None, str]],
        now: datetime,
        max_age: timedelta = MAX_AGE,
    ) -> None:
        """One delivery attempt to `tried`: who got it, who refused for good (5xx), who is
        retried (4xx, no answer) with a capped backoff until `max_age` after retrying began.
        The alert is `pending` while anyone is retried, then `sent` if anyone got it (the ones
        who did not are in `failed_recipients`), else `failed`."""
        deliveries = recipient_states(alert)
        for address in tried:
            entry = deliveries[address]
            entry["attempts"] = int(entry.get("attempts") or 0) + 1
            if address not in refused:
                entry.update(state="sent", at=_iso(now), error=None, code=None)
                continue
            code, reason = refused[address]
            entry.update(code=code, error=reason[:300], at=_iso(now))
            if code is not None and 500 <= code < 600:
                entry["state"] = "failed"
        since = parse_time(alert.get("retry_since") or alert.get("first_attempt_at") or _iso(now))
        give_up = now - since >= max_age
        for entry in deliveries.values():
            if entry["state"] == "pending" and give_up:
                entry.update(state="failed", error=f"{entry.get('error')}; gave up after {max_age}")
        attempts = int(alert.get("attempts") or 0) + 1
        alert.update(deliveries=list(deliveries.values()), attempts=attempts)
        alert["failed_recipients"] = [d["recipient"] for d in deliveries.values() if d["state"] == "failed"]  # fmt: skip
        errors = [f"{d['recipient']}: {d['error']}" for d in deliveries.values() if d.get("error") and d["state"] != "sent"]  # fmt: skip
        alert["last_error"] = "; ".join(errors)[:500] or None
        states = {d["state"] for d in deliveries.values()}
        if "pending" in states:
            alert["details"]["next_attempt"] = _iso(now + backoff(attempts))
        elif "sent" in states:
            alert.update(state="sent", sent_at=alert.get("sent_at") or _iso(now))
        else:
            alert["state"] = "failed"
        self._save(alert)

    def start_attempts(self, alert: dict[str, Any], now: datetime) -> datetime:
        """The time of the first delivery attempt (the e-mail's Date), set on the first one."""
        if not alert.get("first_attempt_at"):
            alert["first_attempt_at"] = _iso(now)
        return parse_time(alert["first_attempt_at"])

    def resend(self, alert: dict[str, Any], now: datetime) -> list[str]:
        """Make the recipients who did not get the alert pending again (the same Message-ID and
        Date go out, so a copy is recognisable); returns them."""
        deliveries = recipient_states(alert)
        again = [a for a, d in deliveries.items() if d["state"] != "sent"]
        for address in again:
            deliveries[address].update(state="pending", error=None, code=None)
        if again:
            alert.update(
                state="pending", retry_since=_iso(now), deliveries=list(deliveries.values())
            )
            alert["failed_recipients"] = []
            alert["details"]["next_attempt"] = _iso(now)
            self._save(alert)
        return again

    def undelivered(self, incident: str | None = None) -> list[dict[str, Any]]:
        """Alerts somebody did not get: failed, or sent with failed recipients."""
        search = self._search().filter("terms", state=["failed", "sent"]).sort("@timestamp")
        if incident is not None:
            search = search.filter("term", incident=incident)
        docs = self._docs(search, size=1000)
        return [d for d in docs if d["state"] == "failed" or d.get("failed_recipients")]

    def get(self, alert_id: str) -> dict[str, Any] | None:
        found = self.client.options(ignore_status=404).get(index=self.index, id=alert_id)
        return {"_id": found["_id"], **found["_source"]} if found.get("found") else None

    def supersede(self, alert: dict[str, Any], reason: str, now: datetime) -> None:
        """An alert whose basis no longer holds: kept for the record, no longer counted (and
        not sent, if it was still pending)."""
        alert.update(state="superseded", superseded_at=_iso(now), last_error=reason[:500])
        self._save(alert)
        logger.info("alert %s superseded: %s", alert["_id"], reason)

    def mark_failed(self, alert: dict[str, Any], error: str) -> None:
        """Give up on an alert that no retry can deliver (e.g. nobody to send it to)."""
        alert.update(state="failed", last_error=error[:500])
        self._save(alert)

    # --- reading -----------------------------------------------------------------------------

    def _docs(self, search: Search, size: int = 500) -> list[dict[str, Any]]:
        return [{"_id": h.meta.id, **h.to_dict()} for h in search.extra(size=size).execute()]

    def due(self, now: datetime, incident: str | None = None) -> list[dict[str, Any]]:
        """Pending alerts whose next delivery attempt is due, oldest first."""
        search = self._search().filter("term", state="pending").sort("@timestamp", "seq")
        if incident is not None:
            search = search.filter("term", incident=incident)
        docs = self._docs(search)
        return [d for d in docs if parse_time(d["details"]["next_attempt"]) <= now]

    def open_spikes(self, incident: str, rule: str) -> list[dict[str, Any]]:
        """The latest spike alert per key, unless a resolved notice already closed it."""
        base = self._search().filter("term", incident=incident)
        spikes = self._docs(
            base.filter("term", rule=rule)
            .filter("terms", state=list(LIVE_STATES))
            .sort("-@timestamp")
        )
        closed = {
            d.get("details", {}).get("closes")
            for d in self._docs(base.filter("term", rule_type="resolved"))
        }
        latest: dict[str, dict[str, Any]] = {}
        for doc in spikes:
            latest.setdefault(doc["key"], doc)
        return [doc for doc in latest.values() if doc["_id"] not in closed]

    def recent(self, incident: str | None = None, size: int = 50) -> list[dict[str, Any]]:
        """The latest alerts (silences included), newest first."""
        search = self._search().sort("-@timestamp")
        if incident is not None:
            search = search.filter("terms", incident=[incident, "*"])
        return self._docs(search, size)

    def open_alerts(self) -> list[dict[str, Any]]:
        """Alerts still waiting for delivery or that somebody did not get."""
        waiting = Q("terms", state=["pending", "failed"])
        partly = Q("term", state="sent") & Q("exists", field="failed_recipients")
        search = self._search().filter(waiting | partly)
        return self._docs(search.sort("-@timestamp"), 100)
