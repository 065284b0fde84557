"""What every ingest stage of one crawl or stream shares, built once without Scrapy.

`IngestContext.build(settings, incident, spider_name=...)` is called by the Scrapy pipelines
(`crawlers.context.crawl_context` reads the values from the crawler's settings), by the
Jetstream stream and by the benchmarks, so the stages never need a crawler to run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from indexer.matching import Matcher
from spreadwatch.clock import Clock, crawl_clock, utc_now
from spreadwatch.incident import Incident, Official
from spreadwatch.settings import Settings


@dataclass
class IngestContext:
    """The incident, settings and run of one crawl; `matcher` is compiled once per crawl."""

    settings: Settings
    incident: Incident
    run_id: str
    spider_name: str
    batch_size: int = 500
    flush_seconds: float = 5.0
    #: Whether the learned stance head (when installed) labels the posts (after indexing, or
    #: per writer batch: `stance_deferred`).
    stance_model: bool = False
    #: With `stance_model`: posts are written with the lexicon's label, marked pending, and
    #: labelled by the head afterwards (`indexer.stance_pending`), not per writer batch.
    stance_deferred: bool = False
    #: What the crawl stamps on what it sees (`first_seen`, `last_seen`, `deleted_at`): the
    #: real clock, or the settings' fixed `crawl_as_of` (`spreadwatch.clock.crawl_clock`).
    clock: Clock = utc_now
    matcher: Matcher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.matcher = Matcher(self.incident)

    @classmethod
    def build(
        cls,
        settings: Settings,
        incident: Incident,
        *,
        spider_name: str,
        run_id: str | None = None,
        batch_size: int = 500,
        flush_seconds: float = 5.0,
        stance_model: bool | None = None,
        stance_deferred: bool | None = None,
    ) -> IngestContext:
        return cls(
            settings=settings,
            incident=incident,
            run_id=run_id or new_run_id(incident.id, spider_name),
            spider_name=spider_name,
            batch_size=batch_size,
            flush_seconds=flush_seconds,
            stance_model=settings.stance_model if stance_model is None else stance_model,
            stance_deferred=(
                settings.stance_deferred if stance_deferred is None else stance_deferred
            ),
            clock=crawl_clock(settings),
        )

    @property
    def official(self) -> Official | None:
        return self.incident.official

    @property
    def languages(self) -> list[str]:
        return self.incident.languages


def new_run_id(incident_id: str, source: str) -> str:
    """A readable, unique run id: incident, source, start time and a short random tail."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{incident_id}:{source}:{stamp}:{uuid.uuid4().hex[:6]}"
