"""The one ingest core: item → document stages and the writer, shared by every way in.

    context = IngestContext.build(settings, incident, spider_name="bluesky")
    ingest = Ingest(context)            # opens the bulk writer
    ingest.process(post)                # validate → normalise → match → stance → fingerprint → writer
    ingest.close()                      # flush; WriterStats

The stage functions (`validate`, `normalise`, `match`, `stance`, `fingerprint`) are plain
functions `(item, context) -> item` raising `Dropped(reason, detail)`; the Scrapy pipelines are
thin wrappers around them (`crawlers.pipelines`).
"""

from crawlers.ingest.context import IngestContext, new_run_id
from crawlers.ingest.core import Ingest, add_to_writer, open_writer, writer_stats
from crawlers.ingest.stages import (
    DROP_STAT,
    STAGES,
    ActivityDoc,
    Dropped,
    PostDoc,
    fingerprint,
    match,
    normalise,
    run_stages,
    stance,
    validate,
)

__all__ = [
    "DROP_STAT",
    "STAGES",
    "ActivityDoc",
    "Dropped",
    "Ingest",
    "IngestContext",
    "PostDoc",
    "add_to_writer",
    "fingerprint",
    "match",
    "new_run_id",
    "normalise",
    "open_writer",
    "run_stages",
    "stance",
    "validate",
    "writer_stats",
]
