"""The learned head's pass over what a command wrote with provisional labels.

Deferred (`SPREADWATCH_STANCE_DEFERRED`, the default), a crawl or the stream writes each post
with the lexicon's label, marked pending (`indexer.stance_pending`). Under the monitor its
`stance:` job labels them; a command run on its own labels what it wrote itself, so its posts
never wait for a process that is not there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.stance_model import StanceModel
    from indexer.stance_pending import LabelRun
    from spreadwatch.cli.context import AppContext
    from spreadwatch.incident import Incident
    from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)


def deferred_head(settings: Settings) -> StanceModel | None:
    """The head that labels pending posts, or None when ingest labels with it already (per
    batch), it is switched off, or none is installed (the lexicon's labels then stand)."""
    if not (settings.stance_model and settings.stance_deferred):
        return None
    from indexer.stance_model import shipped  # loads scikit-learn

    return shipped()


def label_pass(app: AppContext, incident: Incident, head: StanceModel) -> LabelRun | None:
    """One pass over the incident's pending posts; None when the cluster refused it (logged:
    the posts stay pending for the next pass, the monitor or `spreadwatch stance label`)."""
    from elasticsearch import ApiError, TransportError

    from indexer.connection import ConnectionFailedError
    from indexer.stance_pending import label_pending

    try:
        return label_pending(app.client, app.names, incident, head)
    except (ApiError, TransportError, ConnectionFailedError) as error:
        logger.warning("stance labels of %s not written yet: %s", incident.id, error)
        return None
