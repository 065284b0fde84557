"""`spreadwatch demo`: the founding case replayed end to end on the real system.

What it starts, it stops (also on Ctrl-C): the replay servers (one per source, sharing the
simulated clock), a local SMTP server, and crawl processes. Elasticsearch is the configured one
or the embedded node (left running: it is shared, like `spreadwatch es start` leaves it). The
demo writes into the normal indices (the configured prefix) under its own incident id,
`bytedance-intern-2024-demo`: each run first removes the previous run's documents, and what it
indexed stays, so `search`, `timeline`, `report` and Kibana show it afterwards (`demo --clean`
removes it).

Each round sets the simulated clock, crawls every replayed source once at that moment
(`crawlers.run` in a subprocess, as the scheduler does; the crawls stamp what they see with the
round's time, `SPREADWATCH_CRAWL_AS_OF`), then runs the alert job's steps at the simulated time
(`alerts.engine.raise_alerts` and `Delivery.deliver`, sending through real SMTP). The scheduler
service itself runs on wall-clock time, so the demo drives the same job functions on its clock.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from evidence.export import export
from evidence.recheck import prepare
from indexer.connection import IndexNames, make_client
from indexer.evidence_queries import archived_posts
from indexer.phases import phase_at, phases
from indexer.purge import delete_incident
from indexer.scope import IncidentScope
from indexer.templates import init
from spreadwatch.demo import DEFAULT_ROUND, DEFAULT_SPEED, replays
from spreadwatch.demo.alerting import AlertJob
from spreadwatch.demo.clock import SimClock, steps
from spreadwatch.demo.dataset import INCIDENT_FILE
from spreadwatch.demo.display import Display, Frame
from spreadwatch.demo.outputs import write_outputs
from spreadwatch.demo.rounds import CrawlRounds, CrawlWorker, crawl_env
from spreadwatch.demo.smtp_sink import SmtpSink
from spreadwatch.demo.story import FiredAlert, Story, posts_per_platform, read_story
from spreadwatch.incident import Incident, load_incident
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class DemoOptions:
    out: Path
    speed: float = DEFAULT_SPEED
    every: timedelta = DEFAULT_ROUND
    pace: bool = True  # sleep between rounds to follow `speed`; tests play as fast as possible
    incident_file: Path = INCIDENT_FILE
    workers: int = 4
    process_per_crawl: bool = False  # `crawlers.run` per crawl, as the scheduler; slower to start


@dataclass
class DemoResult:
    story: Story
    written: list[Path]
    prefix: str
    incident: str
    wall_s: float
    rounds: int
    crawl_failures: dict[str, str] = field(default_factory=dict)


def run_demo(settings: Settings, options: DemoOptions, display: Display) -> DemoResult:
    """Play the incident, tell its story, write the outputs; stops everything it started."""
    started = time.monotonic()
    incident = load_incident(options.incident_file)
    client = make_client(settings)
    names = IndexNames(settings.index_prefix)
    init(client, names)
    delete_incident(client, names, incident.id)  # the previous demo run, replaced
    clock = SimClock(incident.window.start)
    servers = replays.start_servers(clock)
    sink = SmtpSink().start()
    work = tempfile.TemporaryDirectory(prefix="spreadwatch-demo-")
    work_dir = Path(work.name)
    rounds: CrawlRounds | CrawlWorker | None = None
    job: AlertJob | None = None
    try:
        env = crawl_env(settings, names.prefix, work_dir, {s: v.url for s, v in servers.items()})
        if options.process_per_crawl:
            rounds = CrawlRounds(
                options.incident_file,
                env,
                settings.model_copy(update={"index_prefix": names.prefix}),
                workers=options.workers,
            )
        else:
            options.out.mkdir(parents=True, exist_ok=True)
            rounds = CrawlWorker(options.incident_file, env, options.out / "crawl.log")
        # The alert job's runtime keeps its files (the incident's last good copy) in the demo's
        # own folder, as the crawls and the re-check do: the demo leaves nothing in the data
        # folder but the node.
        job = AlertJob(
            client, names, incident, incident_file=options.incident_file, smtp_url=sink.url,
            settings=settings.model_copy(update={"data_dir": work_dir}), clock=clock,
        ).__enter__()  # fmt: skip
        recheck = _Recheck(client, names, work_dir, incident, settings)
        played = _play(
            incident, clock=clock, rounds=rounds, job=job, servers=servers, options=options,
            display=display, client=client, names=names, recheck=recheck,
        )  # fmt: skip
        story = read_story(client, names, incident.id, job.fired)
        written = write_outputs(
            client, names=names, incident=incident, story=story, sink=sink, out=options.out,
            now=clock.now(),
        )  # fmt: skip
        written += [p for p in [options.out / "crawl.log"] if p.is_file()]  # the crawls' own log
        written.append(recheck.export(options.out / "evidence.wacz"))
        return DemoResult(
            story, written, names.prefix, incident.id, round(time.monotonic() - started, 1),
            played.rounds,
            crawl_failures=played.failures,
        )  # fmt: skip
    finally:
        if rounds is not None:
            rounds.stop()
        if job is not None:
            job.__exit__(None, None, None)
        replays.stop_servers(servers)
        sink.stop()
        work.cleanup()
        client.close()


@dataclass
class _Recheck:
    """The evidence side of the demo: after each round's crawls the posts of interest are
    re-checked (as the monitor's `recheck:` job does), and at the end the archive is exported."""

    client: Elasticsearch
    names: IndexNames
    data_dir: Path
    incident: Incident
    settings: Settings

    def sources(self) -> list[str]:
        """["recheck"] when there are posts of interest to re-check (their list written now)."""
        reach = self.incident.evidence.min_reach
        reach = self.settings.evidence_recheck_min_reach if reach is None else reach
        self.client.indices.refresh(index=self.names.posts)
        found = prepare(self.client, self.names, self.data_dir, self.incident.id, reach)
        return ["recheck"] if found else []

    def export(self, out: Path) -> Path:
        posts = archived_posts(self.client, self.names, self.incident.id)
        export(self.data_dir, self.incident.id, self.incident.title, posts, out)
        return out


@dataclass
class _Played:
    rounds: int = 0
    failures: dict[str, str] = field(default_factory=dict)


def _play(
    incident: Incident,
    *,
    clock: SimClock,
    rounds: CrawlRounds | CrawlWorker,
    job: AlertJob,
    servers: Mapping[str, object],
    options: DemoOptions,
    display: Display,
    client: Elasticsearch,
    names: IndexNames,
    recheck: _Recheck,
) -> _Played:
    end = incident.window.end or clock.now() + timedelta(days=7)
    sources = list(incident.sources.enabled())
    unserved = [s for s in sources if s not in servers]
    if unserved:  # never a demo on fewer platforms than its dataset
        raise RuntimeError(f"no replay server for the demo's sources {unserved}")
    moments = list(steps(clock.now(), end, options.every))
    played = _Played()
    wall_per_round = options.every.total_seconds() / 3600 / options.speed
    for number, moment in enumerate(moments, start=1):
        round_started = time.monotonic()
        clock.set(moment)
        # The re-check of posts seen so far runs beside the round's crawls (one round trip).
        outcomes = rounds.run_round(sources + recheck.sources(), f"demo-{number:03d}", moment)
        for outcome in outcomes:
            if not outcome.ok and outcome.error:
                played.failures.setdefault(outcome.source, outcome.error)
        crawled = time.monotonic()
        client.indices.refresh(index=names.posts)
        fired = job.run(moment)
        logger.info(
            "round %d: crawls %.1fs (%s), alerts %.1fs", number, crawled - round_started,
            " ".join(f"{o.source}={o.summary.get('duration_s')}" for o in outcomes),
            time.monotonic() - crawled,
        )  # fmt: skip
        display.show(
            _frame(
                client,
                names=names,
                incident=incident,
                moment=moment,
                number=number,
                total=len(moments),
                fired=fired,
                played=played,
            )
        )
        played.rounds = number
        if options.pace:
            time.sleep(max(0.0, wall_per_round - (time.monotonic() - round_started)))
    return played


def _frame(
    client: Elasticsearch,
    *,
    names: IndexNames,
    incident: Incident,
    moment: datetime,
    number: int,
    total: int,
    fired: list[FiredAlert],
    played: _Played,
) -> Frame:
    problems = [f"{source}: {error}" for source, error in played.failures.items()]
    return Frame(
        at=moment,
        round=number,
        rounds=total,
        phase=_phase(client, names, incident, moment),
        posts=posts_per_platform(client, names, incident.id),
        alerts=fired,
        problems=problems,
    )


def _phase(client: Elasticsearch, names: IndexNames, incident: Incident, moment: datetime) -> str:
    """The phase at `moment` as `indexer.phases` defines it (the report and Kibana say the
    same); "quiet" before the rumour's onset."""
    found = phases(client, names, IncidentScope.of(incident), now=moment)
    return phase_at(found, moment) or "quiet"
