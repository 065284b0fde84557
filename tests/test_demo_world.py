"""What the demo leaves behind, without playing it: replacing a previous run removes exactly that
incident's documents, and the closing lines are commands that work on what was indexed."""

from __future__ import annotations

import shlex
from pathlib import Path

from alerts_support import NOW, index_docs, index_posts, post, run_doc
from elasticsearch import Elasticsearch

from indexer.connection import IndexNames
from indexer.purge import delete_incident
from spreadwatch.cli import cli
from spreadwatch.cli.demo import next_steps

DEMO = "bytedance-intern-2024-demo"


def test_removing_an_incident_leaves_every_other_one(
    es_client: Elasticsearch, index_names: IndexNames
) -> None:
    index_posts(
        es_client, index_names, [post("d1", NOW, incident=DEMO), post("d2", NOW, incident=DEMO)]
    )
    index_posts(es_client, index_names, [post("k1", NOW)])
    index_docs(es_client, index_names.runs, [run_doc("weibo", NOW, "ok", 2, incident=DEMO)])
    deleted = delete_incident(es_client, index_names, DEMO)
    assert (deleted[index_names.posts], deleted[index_names.runs]) == (2, 1)
    remaining = es_client.search(index=index_names.posts, size=10)["hits"]["hits"]
    assert [h["_id"] for h in remaining] == ["weibo:k1"]


def test_the_closing_lines_are_commands_of_this_cli() -> None:
    lines = next_steps(DEMO, Path("demo-out")).splitlines()
    commands = [
        shlex.split(line.split("(")[0])[1:] for line in lines if line.startswith("  spreadwatch")
    ]
    assert len(commands) >= 5
    for args in commands:
        group = cli.commands[args[0]]
        assert group is not None
        if DEMO in args:
            assert args[args.index(DEMO) - 1] in ("--incident", args[0])
    assert any(a[:1] == ["timeline"] for a in commands)
    assert any(a[:1] == ["report"] for a in commands)
    assert any(a[:2] == ["kibana", "export"] for a in commands)
