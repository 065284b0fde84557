"""`spreadwatch stream INCIDENT --source bluesky`: a live stream into the index until stopped.

A thin edge over `crawlers.stream`: it resolves the incident, runs the consumer on asyncio and
prints a one-line JSON summary at the end (Ctrl-C stops it cleanly, with a final checkpoint).
The scheduler supervises the same command for incidents whose Bluesky section has `stream: true`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from dataclasses import asdict
from typing import TYPE_CHECKING

import click

from spreadwatch.cli.context import AppContext
from spreadwatch.cli.params import SECONDS

if TYPE_CHECKING:
    from crawlers.stream import JetstreamConsumer, StreamStats

STREAMS = ("bluesky",)


@click.command("stream")
@click.argument("incident_ref", metavar="INCIDENT")
@click.option(
    "--source",
    type=click.Choice(STREAMS),
    default="bluesky",
    show_default=True,
    help="Which live stream to follow (bluesky = the Jetstream firehose of posts).",
)
@click.option(
    "--idle-timeout",
    type=SECONDS,
    default=None,
    help="Stop after this long without an event: 30 (seconds), 5m (default: run until stopped).",
)
@click.option(
    "--max-events",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after reading this many events (default: no limit).",
)
@click.pass_obj
def stream(
    app: AppContext,
    incident_ref: str,
    source: str,
    idle_timeout: float | None,
    max_events: int | None,
) -> None:
    """Follow INCIDENT (a file or an id) on a live stream, indexing matching posts as they come.

    Resumes from the cursor saved by the last run, so a restart neither loses nor repeats posts.
    """
    from crawlers.stream import JetstreamConsumer
    from spreadwatch.incident import resolve_incident

    incident = resolve_incident(incident_ref)
    app.client  # noqa: B018 - start or reach Elasticsearch before the stream, to fail early
    consumer = JetstreamConsumer(
        app.settings, incident, idle_timeout=idle_timeout, max_events=max_events
    )
    stats = asyncio.run(_run(consumer))
    click.echo(json.dumps({"source": source, "incident": incident.id, **asdict(stats)}))


async def _run(consumer: JetstreamConsumer) -> StreamStats:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Signal handlers exist only on the main thread of a Unix loop; elsewhere Ctrl-C still
        # ends the run through KeyboardInterrupt at the CLI edge.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, consumer.stop)
    return await consumer.run()


commands = [stream]
