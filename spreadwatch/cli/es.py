"""`spreadwatch es start|stop|status`: the embedded node, or a local cluster of several."""

from __future__ import annotations

import json
from typing import Any

import click

from spreadwatch.cli.context import AppContext, format_option


@click.group("es")
def es_group() -> None:
    """Manage the embedded Elasticsearch (used when SPREADWATCH_ES_URL is unset)."""


@es_group.command("start")
@click.option(
    "--nodes",
    type=click.IntRange(1, 9),
    default=1,
    show_default=True,
    help="Nodes to run on 127.0.0.1 as one cluster (more than 1: a local cluster with its own "
    "data, which spreadwatch then uses instead of the single node).",
)
@click.pass_obj
def start(app: AppContext, nodes: int) -> None:
    """Start the node (or a local cluster), or reuse what is already running; print the URL."""
    from indexer import embedded
    from indexer.cluster import LocalCluster

    _require_embedded(app)
    local = LocalCluster.for_settings(app.settings)
    if nodes == 1 and not local.live_urls():
        info = embedded.ensure_running(app.settings)
        note = "already running" if info.reused else "started"
        click.echo(f"{info.url}  ({note}; Elasticsearch {info.version}, pid {info.pid})")
        return
    if nodes == 1:
        nodes = len(local.nodes())  # the local cluster runs: reuse it as it is
    urls = local.start(nodes)
    state = local.status()
    click.echo(
        f"{','.join(urls)}  (cluster of {state['number_of_nodes']} nodes, {state['status']}; "
        f"Elasticsearch {state['version']})"
    )


@es_group.command("stop")
@click.pass_obj
def stop(app: AppContext) -> None:
    """Stop the node and any local cluster cleanly."""
    from indexer import embedded
    from indexer.cluster import LocalCluster

    _require_embedded(app)
    cluster_stopped = LocalCluster.for_settings(app.settings).stop()
    node_stopped = embedded.stop(app.settings)
    click.echo("stopped" if cluster_stopped or node_stopped else "not running")


@es_group.command("status")
@format_option("text", "json")
@click.pass_obj
def status(app: AppContext, fmt: str) -> None:
    """Exit 0 only when healthy; print health, node count, version (and heap, data path)."""
    from indexer import embedded
    from indexer.cluster import LocalCluster

    _require_embedded(app)
    local = LocalCluster.for_settings(app.settings)
    try:
        state = local.status() if local.live_urls() else embedded.status(app.settings)
    except embedded.NodeDownError as error:
        if fmt == "json":
            click.echo(json.dumps({"healthy": False, "error": str(error)}))
        else:
            click.echo(f"down: {error}")
        raise click.exceptions.Exit(3) from None
    if fmt == "json":
        click.echo(json.dumps(state))
    else:
        click.echo(_line(state))
    if not state["healthy"]:
        raise click.exceptions.Exit(3)


def _line(state: dict[str, Any]) -> str:
    if "number_of_nodes" in state:
        return (
            f"{state['status']}  {','.join(state['urls'])}  Elasticsearch {state['version']}  "
            f"nodes {state['number_of_nodes']}/{state['configured_nodes']}  "
            f"unassigned shards {state['unassigned_shards']}"
        )
    return (
        f"{state['status']}  {state['url']}  Elasticsearch {state['version']}  "
        f"heap {state['heap_used_mb']}/{state['heap_max_mb']} MB  data {state['data_path']}"
    )


def _require_embedded(app: AppContext) -> None:
    if not app.settings.embedded:
        from spreadwatch.settings import without_password

        shown = ",".join(without_password(url) for url in app.settings.es_urls)
        raise click.UsageError(
            f"SPREADWATCH_ES_URL is set ({shown}); `es` manages only the embedded node"
        )


commands = [es_group]
