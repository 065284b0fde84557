"""Search tests' shared steps: posts written by the real writer (which stores the searchable
copies) into a test's indices, a query's result ids, and `spreadwatch search` run as a user does."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from elasticsearch import Elasticsearch

from indexer.connection import IndexNames
from indexer.search import SearchRequest, search_posts
from indexer.writer import BulkWriter
from spreadwatch.settings import Settings

#: When every test post was posted (inside any window the tests search).
POSTED = datetime(2024, 10, 19, tzinfo=UTC).isoformat()


def write_posts(
    client: Elasticsearch, names: IndexNames, spool: Path, incident: str, posts: Iterable[dict]
) -> None:
    """Index `posts` (each with `_id` as `platform:native`, `text`, optionally `lang`, `title`,
    `author`) as the crawl's writer does, then make them searchable."""
    writer = BulkWriter(client, names, spool)
    for post in posts:
        platform, native = post["_id"].split(":")
        doc = {"@timestamp": POSTED, "incident": [incident], "platform": platform}
        writer.add_post(doc | {"native_id": native, "kind": "post"} | post)
    writer.close()
    client.indices.refresh(index=names.posts)


def found(client: Elasticsearch, names: IndexNames, query: str, incident: str) -> set[str]:
    """The ids of the posts of `incident` that `query` finds."""
    request = SearchRequest(query=query, incident=incident, limit=50)
    return {row.id for row in search_posts(client, names, request).rows}


def cli_search(names: IndexNames, settings: Settings, *args: str) -> dict[str, Any]:
    """`spreadwatch search ARGS --format json` against the test's indices, its JSON answer."""
    from spreadwatch.cli import cli

    env = {
        "SPREADWATCH_INDEX_PREFIX": names.prefix,
        "SPREADWATCH_DATA_DIR": str(settings.data_dir),
        "SPREADWATCH_ES_URL": settings.es_url or "",
    }
    result = CliRunner().invoke(cli, ["search", *args, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.output)
    return answer
