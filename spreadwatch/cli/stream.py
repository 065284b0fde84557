"""`spreadwatch stream INCIDENT --source bluesky`: a live stream into the index until stopped.

A thin edge over `crawlers.stream`: it resolves the incident, runs the consumer on asyncio and
prints a one-line JSON summary at the end (Ctrl-C stops it cleanly, with a final checkpoint).
The scheduler supervises the same command for incidents whose Bluesky section has `stream: true`.

Run on its own, the stream also labels the posts it wrote with the lexicon's provisional stance
(`spreadwatch.cli.deferred`): every `SPREADWATCH_STANCE_EVERY` seconds on a worker thread, so
reading the stream never waits for the head, and once more at the end. The monitor starts it
with `--no-label`: its own `stance:` job labels them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import TYPE_CHECKING

import click

from spreadwatch.cli.context import AppContext
from spreadwatch.cli.params import SECONDS

if TYPE_CHECKING:
    from crawlers.stream import JetstreamConsumer, StreamStats
    from indexer.stance_pending import LabelRun

logger = logging.getLogger(__name__)

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
@click.option(
    "--label/--no-label",
    default=True,
    show_default=True,
    help="Have the learned head label the posts written with a provisional stance, every "
    "SPREADWATCH_STANCE_EVERY seconds and at the end (the monitor passes --no-label: its "
    "stance job labels them).",
)
@click.pass_obj
def stream(  # noqa: PLR0917 - click passes the arguments and options by name
    app: AppContext,
    incident_ref: str,
    source: str,
    idle_timeout: float | None,
    max_events: int | None,
    label: bool,
) -> None:
    """Follow INCIDENT (a file or an id) on a live stream, indexing matching posts as they come.

    Resumes from the cursor saved by the last run, so a restart neither loses nor repeats posts.
    """
    from crawlers.stream import JetstreamConsumer
    from spreadwatch.cli.deferred import deferred_head, label_pass
    from spreadwatch.incident import resolve_incident

    incident = resolve_incident(incident_ref)
    app.client  # noqa: B018 - start or reach Elasticsearch before the stream, to fail early
    consumer = JetstreamConsumer(
        app.settings, incident, idle_timeout=idle_timeout, max_events=max_events
    )
    head = deferred_head(app.settings) if label else None
    labeller = None if head is None else Labeller(partial(label_pass, app, incident, head))
    stats = asyncio.run(_run(consumer, labeller, float(app.settings.stance_every)))
    labelled = {} if labeller is None else {"stance_labelled": labeller.labelled}
    click.echo(json.dumps({"source": source, "incident": incident.id, **asdict(stats), **labelled}))


class Labeller:
    """The passes of the head over what the stream wrote, and how many posts they labelled."""

    def __init__(self, one_pass: Callable[[], LabelRun | None]) -> None:
        self.one_pass = one_pass
        self.labelled = 0

    async def __call__(self) -> None:
        """One pass; its failure is logged and the stream reads on (the posts stay pending for
        the next pass): collecting must not stop for the labels."""
        try:
            run = await asyncio.to_thread(self.one_pass)
        except Exception:
            logger.exception("the stance head's pass failed; its posts stay pending")
            return
        self.labelled += run.labelled if run is not None else 0

    async def every(self, seconds: float, finished: asyncio.Event) -> None:
        """A pass each `seconds` until the stream has finished, then the last one (never two
        at once: a pass waits for the one before it)."""
        while not finished.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), timeout=seconds)
            await self()


async def _run(consumer: JetstreamConsumer, labeller: Labeller | None, every: float) -> StreamStats:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Signal handlers exist only on the main thread of a Unix loop; elsewhere Ctrl-C still
        # ends the run through KeyboardInterrupt at the CLI edge.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, consumer.stop)
    if labeller is None:
        return await consumer.run()
    finished = asyncio.Event()
    labelling = asyncio.create_task(labeller.every(every, finished))
    try:
        return await consumer.run()
    finally:
        finished.set()
        await labelling


commands = [stream]
