"""Removing one incident's documents from every index (the demo replaces its previous run).

The embedded node has no delete-by-query (it lives in the reindex module): documents are found
with a scroll over the incident's term and deleted in bulk.
"""

from __future__ import annotations

import logging

from elasticsearch import Elasticsearch, NotFoundError, helpers

from indexer.connection import IndexNames

logger = logging.getLogger(__name__)


def delete_incident(client: Elasticsearch, names: IndexNames, incident: str) -> dict[str, int]:
    """Delete every document of `incident` under `names`; how many per alias."""
    deleted: dict[str, int] = {}
    for alias in names.all():
        try:
            hits = helpers.scan(
                client,
                index=alias,
                query={"query": {"term": {"incident": incident}}},
                _source=False,
            )
            actions = ({"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]} for h in hits)
            count, _ = helpers.bulk(client, actions, raise_on_error=False, refresh=True)
        except NotFoundError:
            continue
        deleted[alias] = int(count)
    logger.info("deleted the documents of %s: %s", incident, deleted)
    return deleted
