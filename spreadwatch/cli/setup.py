"""`spreadwatch init`: create or upgrade the index templates and indices."""

from __future__ import annotations

import click

from spreadwatch.cli.context import AppContext


@click.command("init")
@click.pass_obj
def init(app: AppContext) -> None:
    """Create or upgrade index templates and indices (idempotent)."""
    from indexer.templates import ShardLayout
    from indexer.templates import init as init_indices

    outcome = init_indices(app.client, app.names, ShardLayout.from_settings(app.settings))
    for alias, what in outcome.items():
        click.echo(f"{alias}: {what}")


commands = [init]
