"""`spreadwatch es start|stop|status`: the embedded Elasticsearch node."""

from __future__ import annotations

import json

import click

from indexer import embedded
from spreadwatch.cli.context import AppContext, format_option


@click.group("es")
def es_group() -> None:
    """Manage the embedded Elasticsearch node (used when SPREADWATCH_ES_URL is unset)."""


@es_group.command("start")
@click.pass_obj
def start(app: AppContext) -> None:
    """Start the node, or reuse the one already running; print its URL."""
    _require_embedded(app)
    info = embedded.ensure_running(app.settings)
    note = "already running" if info.reused else "started"
    click.echo(f"{info.url}  ({note}; Elasticsearch {info.version}, pid {info.pid})")


@es_group.command("stop")
@click.pass_obj
def stop(app: AppContext) -> None:
    """Stop the node cleanly."""
    _require_embedded(app)
    stopped = embedded.stop(app.settings)
    click.echo("stopped" if stopped else "not running")


@es_group.command("status")
@format_option("text", "json")
@click.pass_obj
def status(app: AppContext, fmt: str) -> None:
    """Exit 0 only when the node is healthy; print version, heap and data path."""
    _require_embedded(app)
    try:
        state = embedded.status(app.settings)
    except embedded.NodeDownError as error:
        if fmt == "json":
            click.echo(json.dumps({"healthy": False, "error": str(error)}))
        else:
            click.echo(f"down: {error}")
        raise click.exceptions.Exit(3) from None
    if fmt == "json":
        click.echo(json.dumps(state))
    else:
        click.echo(
            f"{state['status']}  {state['url']}  Elasticsearch {state['version']}  "
            f"heap {state['heap_used_mb']}/{state['heap_max_mb']} MB  data {state['data_path']}"
        )
    if not state["healthy"]:
        raise click.exceptions.Exit(3)


def _require_embedded(app: AppContext) -> None:
    if not app.settings.embedded:
        raise click.UsageError(
            f"SPREADWATCH_ES_URL is set ({app.settings.es_url}); `es` manages only the embedded node"
        )


commands = [es_group]
