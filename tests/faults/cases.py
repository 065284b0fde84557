"""The fault classes of #17 as repeatable cases: each injects `count` faults of one class, drawn
from a seeded random generator, and judges the outcome against a truth computed without the
code under test (a hand-written list of what is invalid, Python's `re` on short inputs, the
hostile characters put in, the alerts raised, the dataset behind the replays).

`tests/faults/test_fault_classes.py` runs a few of each in CI; `bench/bench_faults.py` runs the
long form and prints the table (fault, injected, survived, lost, doubled).
"""

from __future__ import annotations

import contextlib
import copy
import email
import email.policy
import re
import socket
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from random import Random
from typing import Any
from urllib.parse import urlsplit

import yaml
from elasticsearch import Elasticsearch

from indexer.connection import IndexNames
from indexer.templates import delete_all, init
from spreadwatch.demo.dataset import INCIDENT_FILE
from spreadwatch.incident import Claim, load_incident
from spreadwatch.settings import SettingsError, load_settings
from spreadwatch.yamlfile import ConfigFileError


@dataclass
class Outcome:
    """What one fault class did: each injected fault either survived or names its problem."""

    fault: str
    injected: int = 0
    survived: int = 0
    lost: int = 0
    doubled: int = 0
    #: Recognisable extra copies of an e-mail (same Message-ID and Date) after a lost `250`.
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)

    def judge(self, ok: bool, problem: str) -> None:
        self.injected += 1
        if ok:
            self.survived += 1
        else:
            self.problems.append(problem)

    def row(self) -> dict[str, Any]:
        return {
            "fault": self.fault, "injected": self.injected, "survived": self.survived,
            "lost": self.lost, "doubled": self.doubled, "duplicates": self.duplicates,
        }  # fmt: skip


@contextmanager
def fresh_indices(client: Elasticsearch, prefix: str) -> Iterator[IndexNames]:
    """Indices of their own for one case, removed afterwards."""
    names = IndexNames(f"{prefix}-{uuid.uuid4().hex[:6]}")
    init(client, names)
    try:
        yield names
    finally:
        delete_all(client, names)


# -- broken configs -------------------------------------------------------------------------


#: Each mutation makes the demo's incident file invalid by the documented rules
#: (incidents/README.md); the loader must refuse it with a ConfigFileError, nothing else.
def _drop(key: str) -> Callable[[dict[str, Any]], Any]:
    def mutate(doc: dict[str, Any]) -> Any:
        doc.pop(key)
        return doc

    return mutate


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    def mutate(doc: dict[str, Any]) -> Any:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        return doc

    return mutate


INCIDENT_MUTATIONS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "no id": _drop("id"),
    "no queries": _drop("queries"),
    "window start a number": _set("window.start", 12),
    "window start before 1990": _set("window.start", "1970-01-01T00:00:00Z"),
    "window ends before it starts": _set("window.end", "2024-10-01T00:00:00Z"),
    "unknown language": _set("queries.0.lang", "xx"),
    "empty query group": _set("queries.0.any", []),
    "backreference claim": _set("claims.0.patterns", ["re:(a)\\1"]),
    "lookahead claim": _set("claims.0.patterns", ["re:(?=sabotage)x"]),
    "unbalanced claim": _set("claims.0.patterns", ["re:(8000"]),
    "crawl every second": _set("sources.feeds.every", "1s"),
    "max_pages zero": _set("sources.hackernews.max_pages", 0),
    "unknown top-level key": lambda doc: {**doc, "surprise": True},
    "unknown source": _set("sources.myspace", {"every": "1h"}),
    "rule of unknown type": _set("alerts.rules.0.type", "vibes"),
    "recipient not an address": _set("alerts.recipients", ["comms team"]),
    "not a mapping": lambda doc: ["id", "title"],
    "YAML syntax error": lambda doc: "id: [unclosed\ntitle: x\n",
    "NUL and garbage bytes": lambda doc: b"id: \x00\xff\xfe\ntitle: [",
}

#: Settings that must be refused (SettingsError naming the variable), never used.
SETTINGS_MUTATIONS: dict[str, dict[str, Any]] = {
    "negative crawl timeout": {"crawl_timeout": -5},
    "port 0": {"es_port": 0},
    "alert max age 0": {"alert_max_age": 0},
    "batch size 0": {"bulk_batch_size": 0},
    "unknown log level": {"log_level": "loud"},
    "private network not a CIDR": {"allow_private_networks": "10.0.0.0/33"},
    "ES URL without scheme": {"es_url": "localhost:9200"},
}


def broken_configs(rng: Random, count: int, folder: Path) -> Outcome:
    """Incident files and settings broken one way each: a clear error, never accepted."""
    outcome = Outcome("broken configs")
    base = yaml.safe_load(INCIDENT_FILE.read_text(encoding="utf-8"))
    choices = [("incident", k) for k in INCIDENT_MUTATIONS] + [("settings", k) for k in SETTINGS_MUTATIONS]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        kind, name = choices[number % len(choices)] if number < len(choices) else rng.choice(choices)  # fmt: skip
        if kind == "incident":
            outcome.judge(*_refused_incident(folder / f"broken-{number}.yml", base, name))
        else:
            try:
                load_settings(**SETTINGS_MUTATIONS[name])
            except SettingsError as error:
                outcome.judge("SPREADWATCH_" in str(error), f"{name}: unnamed variable: {error}")
            else:
                outcome.judge(False, f"settings with {name} accepted")
    return outcome


def _refused_incident(path: Path, base: dict[str, Any], name: str) -> tuple[bool, str]:
    mutated = INCIDENT_MUTATIONS[name](copy.deepcopy(base))
    if isinstance(mutated, bytes):
        path.write_bytes(mutated)
    else:
        text = mutated if isinstance(mutated, str) else yaml.safe_dump(mutated, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
    try:
        load_incident(path)
    except ConfigFileError as error:
        return path.name in str(error), f"{name}: the error does not name the file: {error}"
    except Exception as error:
        return False, f"{name}: {type(error).__name__} instead of a clear error: {error}"
    return False, f"{name}: the broken file was accepted"


# -- catastrophic regexes -------------------------------------------------------------------

#: Claim patterns that take exponential time in a backtracking engine on a long run of `a`s
#: that does not end as they want, and patterns RE2 cannot run in linear time at all.
CATASTROPHIC = ["(a+)+$", "(a|aa)+$", "(a|a?)+$", "(a*)*b", "(.*a){12}$", "^(a+)+x"]
REFUSED = ["(a)\\1", "(?=a)a", "(?<!b)a", "(?P<x>a)(?P=x)"]


def catastrophic_regexes(rng: Random, count: int) -> Outcome:
    """Each hostile pattern either matches a hostile post in linear time with the answer
    Python's `re` gives on a short copy of the text, or is refused when the file loads."""
    from indexer.matching import claim_matches, fold

    outcome = Outcome("catastrophic regexes")
    for number in range(count):
        pattern = rng.choice(CATASTROPHIC + REFUSED)
        if pattern in REFUSED:
            try:
                Claim(name="c", patterns=[f"re:{pattern}"])
            except ValueError as error:
                outcome.judge("refused" in str(error), f"{pattern}: unclear refusal {error}")
            else:
                outcome.judge(False, f"{pattern}: a backtracking-only pattern was accepted")
            continue
        tail = rng.choice(["!", "", "b", "x"])
        short, long = "a" * 14 + tail, "a" * rng.randint(20_000, 60_000) + tail
        truth = re.search(pattern, short, re.IGNORECASE) is not None  # cheap at 14 characters
        claim = Claim(name=f"c{number}", patterns=[f"re:{pattern}"])
        found = claim_matches(claim, fold(long))
        outcome.judge(found == truth, f"{pattern} on {len(long)} chars: {found}, truth {truth}")
    return outcome


# -- hostile text in alert e-mails ----------------------------------------------------------

#: Characters that must never reach a header or a body as such (they would spoof, hide or
#: inject): bidi overrides/embeddings/isolates, NUL, ESC, CR/LF, BEL, DEL, C1 controls.
HOSTILE = ["\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2068", "\u2069", "\x00", "\x1b",
           "\r\n", "\x07", "\x7f", "\x85", "\x9b"]  # fmt: skip
_RAW = set("".join(HOSTILE))


def hostile_name(rng: Random) -> str:
    parts = ["@admin", rng.choice(HOSTILE), "moc.elgoog", rng.choice(HOSTILE), "[2J"]
    if rng.random() < 0.5:
        parts.insert(0, rng.choice(HOSTILE))
    return "".join(parts)


def hostile_text(rng: Random, count: int, client: Elasticsearch, smtp_url: str, inbox: Any) -> Outcome:  # fmt: skip
    """Author names, handles and texts full of controls: each alert e-mail shows them escaped."""
    from alerts_support import NOW, incident_with, index_posts, post

    from alerts.engine import Delivery, raise_alerts
    from alerts.mailer import SmtpConfig, SmtpSender
    from alerts.store import AlertStore

    outcome = Outcome("hostile text")
    with fresh_indices(client, "faults-hostile") as names:
        docs = []
        for number in range(count):
            name, handle = hostile_name(rng), hostile_name(rng)
            author = {"id": f"hostile-{number}", "handle": handle, "name": name, "followers": 5000 + number}  # fmt: skip
            docs.append(post(f"h{number}", NOW - timedelta(minutes=number + 1), author=author,
                             text=f"{hostile_name(rng)} ByteDance intern", title=hostile_name(rng)))  # fmt: skip
        index_posts(client, names, docs)
        rule = {"name": "big", "type": "influential_author", "followers": 1000}
        raise_alerts(client, names, incident_with([rule]), NOW)
        sender = SmtpSender(SmtpConfig.from_url(smtp_url), timeout=5)
        before = len(inbox.messages)
        Delivery(AlertStore(client, names), sender, "sw@example.org").deliver(NOW)
        messages = inbox.messages[before:]
        for message in messages:
            plain = message.get_body(preferencelist=("plain",)).get_content()
            html = message.get_body(preferencelist=("html",)).get_content()
            raw = [c for c in message["Subject"] if c in _RAW]  # a header: not even a line break
            raw += [c for part in (plain, html) for c in part if c in _RAW - {"\r", "\n"}]
            headers = "".join(f"{k}: {v}\n" for k, v in message.items())
            clean = not raw and "\x00" not in headers and "moc.elgoog" in message["Subject"]
            isolated = "<bdi>" in html
            outcome.judge(clean and isolated, f"raw {raw!r} or no <bdi> in {message['Subject']!r}")
        # Every hostile author raised its alert, and each alert reached the inbox.
        alerts = AlertStore(client, names).recent()
        outcome.lost += max(0, len(alerts) - len(messages)) + max(0, count - len(alerts))
    return outcome


# -- SMTP faults ----------------------------------------------------------------------------


class FaultyInbox:
    """An aiosmtpd handler that misbehaves on cue: a recipient refused with 450, a session
    dropped before MAIL is answered, a DATA that stalls past the client's timeout (stored
    nowhere), a message stored whose `250` never reaches the client."""

    def __init__(self, stall_seconds: float) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.faults: deque[str] = deque()
        self.stall_seconds = stall_seconds
        #: (Message-ID, recipient) → how many `250`s were lost for it.
        self.lost_250: Counter[tuple[str, str]] = Counter()
        self._refuse_next_rcpt = False

    async def handle_MAIL(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        fault = self.faults[0] if self.faults else None
        if fault == "drop":
            self.faults.popleft()
            server.transport.close()
            return "421 4.3.0 going away"
        if fault == "refuse":
            self.faults.popleft()
            self._refuse_next_rcpt = True
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self._refuse_next_rcpt:
            self._refuse_next_rcpt = False
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        import asyncio

        fault = self.faults[0] if self.faults and self.faults[0] in ("stall", "lose") else None
        if fault == "stall":
            self.faults.popleft()
            await asyncio.sleep(self.stall_seconds)
            return "451 4.3.0 too late"
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        self.envelopes.append(list(envelope.rcpt_tos))
        if fault == "lose":
            self.faults.popleft()
            for address in envelope.rcpt_tos:
                self.lost_250[(str(message["Message-ID"]), address)] += 1
            server.transport.close()
        return "250 OK"


SMTP_FAULTS = ("refuse", "drop", "stall", "lose")
RECIPIENTS = ["analyst@example.org", "press@example.org"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_faults(rng: Random, count: int, client: Elasticsearch, *, timeout: float = 1.0) -> Outcome:  # fmt: skip
    """Alerts delivered while the server refuses, drops, stalls and loses its `250`s: every
    recipient gets every alert, a copy only after a lost `250`, and copies are recognisable."""
    from aiosmtpd.controller import Controller
    from alerts_support import NOW, incident_with, index_posts, post

    from alerts.engine import Delivery, raise_alerts
    from alerts.mailer import SmtpConfig, SmtpSender
    from alerts.store import AlertStore

    outcome = Outcome("SMTP refuse/drop/stall/lost 250")
    inbox = FaultyInbox(stall_seconds=timeout + 1.0)
    plan = [rng.choice(SMTP_FAULTS) for _ in range(count)]
    inbox.faults.extend(plan)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    alerts_count = max(2, count // 2)
    try:
        with fresh_indices(client, "faults-smtp") as names:
            docs = [post(f"s{n}", NOW - timedelta(minutes=n + 1),
                         author={"id": f"loud-{n}", "handle": f"loud{n}", "followers": 5000 + n})
                    for n in range(alerts_count)]  # fmt: skip
            index_posts(client, names, docs)
            rule = {"name": "big", "type": "influential_author", "followers": 1000}
            raise_alerts(client, names, incident_with([rule], recipients=RECIPIENTS), NOW)
            store = AlertStore(client, names)
            sender = SmtpSender(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}"), timeout=timeout)
            delivery = Delivery(store, sender, "sw@example.org")
            at = NOW
            for _ in range(4 * count + 10):  # each round a retry is due again (capped backoff)
                delivery.deliver(at)
                if not inbox.faults and not store.open_alerts():
                    break
                at += timedelta(hours=2)
            alert_ids = {a["_id"] for a in store.recent()}
            _tally_mail(outcome, inbox, alert_ids, len(plan))
    finally:
        controller.stop()
    outcome.injected, outcome.survived = len(plan), len(plan) - len(outcome.problems)
    return outcome


def _tally_mail(outcome: Outcome, inbox: FaultyInbox, alert_ids: set[str], injected: int) -> None:
    copies: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for message, envelope in zip(inbox.messages, inbox.envelopes, strict=True):
        for alert_id in str(message["X-Spreadwatch-Alert"] or "").replace(",", " ").split():
            for address in envelope:
                copies[(alert_id, address)].append((str(message["Message-ID"]), str(message["Date"])))  # fmt: skip
    for alert_id in sorted(alert_ids):
        for address in RECIPIENTS:
            got = copies.get((alert_id, address), [])
            if not got:
                outcome.lost += 1
                outcome.problems.append(f"{alert_id} never reached {address}")
                continue
            allowed = 1 + sum(inbox.lost_250[(mid, address)] for mid in {m for m, _ in got})
            if len(got) > allowed or len(set(got)) > 1:
                outcome.doubled += 1
                outcome.problems.append(f"{alert_id} to {address}: {len(got)} copies {set(got)}")
            outcome.duplicates += len(got) - 1
    if inbox.faults:
        outcome.problems.append(f"{len(inbox.faults)} of {injected} faults never came due")


# -- private-network targets and redirect loops (a feeds crawl against one replay) ----------

#: Networks a hostile feed or redirect may point into; a stub DNS name resolves into each.
PRIVATE_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                    "100.64.0.0/10", "127.0.0.0/8", "fd00::/8", "fe80::/64", "0.0.0.0/32"]  # fmt: skip


def _random_address(rng: Random, network: str) -> str:
    import ipaddress

    net = ipaddress.ip_network(network)
    address = net[rng.randrange(net.num_addresses)] if net.num_addresses > 1 else net[0]
    if str(address) == "127.0.0.1":  # the replay's own address is the one allowed
        address = net[2]
    return str(address)


def _news_feed(guids: list[str]) -> dict[str, Any]:
    items = [
        {"title": f"ByteDance intern story {g}", "link": f"https://news.example/{g}",
         "guid": {"text": g, "isPermaLink": "false"}, "pubDate": "Sat, 19 Oct 2024 08:00:00 GMT",
         "description": "ByteDance intern"}
        for g in guids
    ]  # fmt: skip
    return {"title": "News", "link": "https://news.example/", "items": items}


def private_targets(rng: Random, count: int, folder: Path) -> Outcome:
    """Feeds (and redirects from feeds) pointing into private networks, by address and by
    name: each is a counted refusal, no connection leaves loopback, the good feed is read."""
    from netstub import network_edge
    from social_crawl import ROOT, crawl, write_incident

    from spreadwatch.replay import ReplayServer, Reply
    from spreadwatch.replay.feeds import FeedsData, FeedsReplay

    outcome = Outcome("private-network targets")
    table, targets = {}, []
    for number in range(count):
        address = _random_address(rng, rng.choice(PRIVATE_NETWORKS))
        host = f"[{address}]" if ":" in address else address
        if rng.random() < 0.5:
            table[f"inward-{number}.test"] = address
            host = f"inward-{number}.test"
        targets.append((f"http://{host}:{rng.choice([80, 8080, 9200])}/feed-{number}.xml", rng.random() < 0.6))  # fmt: skip
    guids = [f"P{n}" for n in range(3)]
    path, fence = network_edge(folder / "edge", table, ROOT)
    with ReplayServer(FeedsReplay(FeedsData(feeds={"/news.xml": _news_feed(guids)}))) as server:
        feeds = [{"url": f"{server.url}/news.xml"}]
        for number, (target, redirected) in enumerate(targets):
            if redirected:
                server.script(rf"^/hop-{number}\.xml", [Reply(status=302, headers={"Location": target}, etag=False)])  # fmt: skip
                feeds.append({"url": f"{server.url}/hop-{number}.xml"})
            else:
                feeds.append({"url": target})
        result = crawl("feeds", write_incident(folder, {"feeds": {"feeds": feeds}}), folder,
                       SPREADWATCH_ALLOW_PRIVATE_NETWORKS="127.0.0.1/32", PYTHONPATH=path)  # fmt: skip
    refused = result.stat("dropped/private_network")
    escaped = fence.read_text().split()
    for number in range(count):
        outcome.judge(number < refused and not escaped, f"{targets[number][0]}: refused {refused} of {count}, connections off loopback {escaped}")  # fmt: skip
    outcome.lost = len(guids) - len(result.ids())
    return outcome


def redirect_loops(rng: Random, count: int, folder: Path) -> Outcome:
    """Feeds that redirect back to themselves or on past the redirect limit: each one a counted
    `dropped/redirect_loop`, the good feed read whole."""
    from social_crawl import crawl, write_incident

    from spreadwatch.replay import ReplayServer, Reply
    from spreadwatch.replay.feeds import FeedsData, FeedsReplay

    outcome = Outcome("redirect loops")
    guids = [f"L{n}" for n in range(3)]
    with ReplayServer(FeedsReplay(FeedsData(feeds={"/news.xml": _news_feed(guids)}))) as server:
        feeds = [{"url": f"{server.url}/news.xml"}]
        for number in range(count):
            if rng.random() < 0.5:  # straight back to itself
                hops = [Reply(status=302, headers={"Location": f"{server.url}/loop-{number}.xml"}, etag=False)] * 30  # fmt: skip
                server.script(rf"^/loop-{number}\.xml", hops)
            else:  # a chain that never ends: /loop-N.xml?hop=1, 2, ...
                hops = [Reply(status=301, headers={"Location": f"{server.url}/loop-{number}.xml?hop={h + 1}"}, etag=False) for h in range(30)]  # fmt: skip
                server.script(rf"^/loop-{number}\.xml", hops)
            feeds.append({"url": f"{server.url}/loop-{number}.xml"})
        result = crawl("feeds", write_incident(folder, {"feeds": {"feeds": feeds}}), folder)
    counted = result.stat("dropped/redirect_loop")
    for number in range(count):
        outcome.judge(number < counted, f"loop {number}: {counted} of {count} loops counted")
    outcome.lost = len(guids) - len(result.ids())
    return outcome


# -- crawls of the demo's world: kills, Elasticsearch down, bad replies, spool faults -------

#: Sources one crawl at the window's end reads completely (Reddit's and Weibo's listings only
#: reach back so far: the demo reads them round by round), and the answered requests of such a
#: crawl within which a fault lands mid-crawl.
REQUEST_RANGE = {"github": (15, 80), "pages": (4, 10), "bluesky": (2, 10), "feeds": (1, 3),
                 "hackernews": (1, 3), "mastodon": (1, 3)}  # fmt: skip
SOURCES = sorted(REQUEST_RANGE)


@dataclass
class Place:
    """One demo world for a case, and a fresh index prefix and data folder per round."""

    world: Any
    client: Elasticsearch
    base_prefix: str
    folder: Path
    end: Any
    rounds: int = 0

    @contextmanager
    def round(self) -> Iterator[tuple[IndexNames, dict[str, str]]]:
        self.rounds += 1
        data_dir = self.folder / f"round-{self.rounds}"
        with fresh_indices(self.client, f"{self.base_prefix}-r{self.rounds}") as names:
            yield names, {"SPREADWATCH_INDEX_PREFIX": names.prefix, "SPREADWATCH_DATA_DIR": str(data_dir)}  # fmt: skip


@contextmanager
def demo_world(client: Elasticsearch, settings: Any, prefix: str, folder: Path) -> Iterator[Place]:
    from harness import world

    end = load_incident(INCIDENT_FILE).window.end
    with world(settings, prefix, folder / "unused", end) as place:
        yield Place(place, client, prefix, folder, end)


@contextmanager
def on_requests(place: Any, source: str, plan: list[tuple[int, Callable[[], None]]]) -> Iterator[None]:  # fmt: skip
    """Run each action of `plan` once `source`'s server has answered that many more requests."""
    start, stop = place.requests(source), threading.Event()
    pending = sorted(plan, key=lambda step: step[0])

    def watch() -> None:
        while pending and not stop.is_set():
            if place.requests(source) - start >= pending[0][0]:
                pending.pop(0)[1]()
            else:
                time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def _recovered(outcome: Outcome, result: Any) -> None:
    """The crawl after a fault must itself succeed; if not, say why (its error), not only what
    the tally then misses."""
    if result.returncode != 0 or result.summary.get("status") not in ("ok", "partial"):
        outcome.problems.append(f"the crawl after the fault ended {result.summary.get('status')} (exit {result.returncode}): {result.summary.get('error') or result.stderr[-300:]}")  # fmt: skip


def _judge_round(outcome: Outcome, tally: Any, faults: int, problem: str) -> None:
    outcome.lost += len(tally.lost)
    outcome.doubled += len(tally.doubled)
    ok = not tally.lost and not tally.doubled and tally.expected > 0
    for _ in range(faults):
        outcome.judge(ok, f"{problem}: expected {tally.expected}, lost {tally.lost[:3]}, doubled {tally.doubled[:3]}")  # fmt: skip


def crawl_kills(rng: Random, count: int, place: Place) -> Outcome:
    """SIGKILL a crawl after a random number of answered requests, then run the next one."""
    from harness import crawl, tally

    outcome = Outcome("crawl SIGKILLed")
    for _ in range(count):
        source = rng.choice(SOURCES)
        kill_after = rng.randint(*REQUEST_RANGE[source])
        with place.round() as (names, env):
            killed = crawl(place.world, source, "killed", kill_after=kill_after, env=env)
            _recovered(outcome, crawl(place.world, source, "next", env=env))
            found = tally(place.client, names, source, place.end)
        _judge_round(outcome, found, 1, f"{source} killed after {kill_after} ({'killed' if killed.killed else 'ended first'})")  # fmt: skip
    return outcome


class EsProxy:
    """A TCP hop in front of the cluster that dies like a node: once it has passed
    `bulks_before_down` bulk writes, the next one resets every connection and new ones are
    refused — Elasticsearch gone in the middle of a crawl's writes."""

    def __init__(self, target: str, bulks_before_down: int) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 9200)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.bulks_before_down = bulks_before_down
        self.bulks = 0
        self.open: list[socket.socket] = []
        self.up = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.up:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                return
            self.open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()  # fmt: skip
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()  # fmt: skip

    def _pump(self, source: socket.socket, sink: socket.socket, outbound: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if outbound and b"/_bulk" in chunk:
                    self.bulks += 1
                    if self.bulks > self.bulks_before_down:
                        self.down()
                        return
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def down(self) -> None:
        self.up = False
        self.listener.close()
        for conn in self.open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()


def es_down(rng: Random, count: int, place: Place, sources: tuple[str, ...] = ()) -> Outcome:
    """The cluster goes away mid-crawl (after a random number of bulk writes): the rest goes
    to the spool, the run says so, and the next crawl (cluster back) replays it."""
    from harness import crawl, tally

    outcome = Outcome("Elasticsearch down mid-crawl")
    for _ in range(count):
        source = rng.choice(sources or SOURCES)
        proxy = EsProxy(place.world.env["SPREADWATCH_ES_URL"].split(",")[0], rng.randint(0, 1))
        with place.round() as (names, env):
            first = crawl(place.world, source, "es-down", env={**env, "SPREADWATCH_ES_URL": proxy.url})  # fmt: skip
            went_down = not proxy.up
            proxy.down()
            _recovered(outcome, crawl(place.world, source, "es-back", env=env))
            found = tally(place.client, names, source, place.end)
        summary = first.summary
        what = f"{source}, cluster gone after {proxy.bulks_before_down} bulk writes ({summary.get('status')}, {summary.get('items_spooled')} spooled)"  # fmt: skip
        if not went_down or not summary.get("items_spooled"):
            outcome.problems.append(f"{what}: the outage did not reach the crawl's writes")
        _judge_round(outcome, found, 1, what)
    return outcome


def bad_replies(
    rng: Random, count: int, place: Place, per_round: int = 3, sources: tuple[str, ...] = ()
) -> Outcome:
    """Server errors, truncated or garbage bodies, dropped connections, rate limits and
    redirect loops at random moments of a crawl: it ends, and with the next crawl nothing is
    lost or doubled."""
    from harness import crawl, tally

    from spreadwatch.replay import Reply, faults

    kinds: dict[str, Callable[[str], Reply]] = {
        "502": lambda url: faults.server_error(502),
        "500": lambda url: faults.server_error(500, "internal error"),
        "503": lambda url: faults.server_error(503, "maintenance"),
        "truncated JSON": lambda url: faults.truncated_json({"items": list(range(200))}),
        "garbage": lambda url: faults.garbage(),
        "connection dropped": lambda url: faults.connection_dropped(),
        "429 retry-after 1": lambda url: faults.rate_limited(429, retry_after=1),
        # An empty Location is the request's own URL: a redirect back to where it came from.
        "redirect to itself": lambda url: Reply(status=302, headers={"Location": ""}, etag=False),
    }
    outcome = Outcome("bad source replies")
    done = 0
    while done < count:
        source = rng.choice(sources or SOURCES)
        server = place.world.servers[source]
        n = min(per_round, count - done)
        picked = [rng.choice(list(kinds)) for _ in range(n)]
        positions = sorted(rng.randint(0, REQUEST_RANGE[source][0]) for _ in range(n))
        plan = [(at, _scripting(server, kinds[k])) for at, k in zip(positions, picked, strict=True)]
        with place.round() as (names, env):
            with on_requests(place.world, source, plan):
                first = crawl(place.world, source, "bad-replies", env=env)
            server.clear_scripts()
            _recovered(outcome, crawl(place.world, source, "after", env=env))
            found = tally(place.client, names, source, place.end)
        _judge_round(outcome, found, n, f"{source} with {picked} ({first.summary.get('status')})")
        done += n
    return outcome


def _scripting(server: Any, build: Callable[[str], Any]) -> Callable[[], None]:
    return lambda: server.script(".", [build(server.url)])


def spool_faults(
    rng: Random, count: int, place: Place, kinds: tuple[str, ...] = ("full", "unwritable")
) -> Outcome:
    """The cluster is down and the spool cannot be written (a full disk: /dev/full; a spool
    path that cannot be opened for writing, as on a read-only folder): the run fails loudly
    with the count lost, the state stays, and the next crawl brings every post."""
    from harness import crawl, tally

    from crawlers.state import FileStateStore

    outcome = Outcome("spool full / unwritable")
    incident_id = load_incident(INCIDENT_FILE).id
    for _ in range(count):
        kind = rng.choice(kinds)
        with place.round() as (names, env):
            data_dir = Path(env["SPREADWATCH_DATA_DIR"])
            spool = data_dir / "spool" / f"{names.prefix}.jsonl"
            spool.parent.mkdir(parents=True)
            if kind == "full":
                spool.symlink_to("/dev/full")
            else:
                spool.mkdir()  # opening it for appending fails, as on a read-only folder
            file_state = {**env, "SPREADWATCH_STATE_STORE": "file"}
            failed = crawl(place.world, "feeds", "spool-fault", env={**file_state, "SPREADWATCH_ES_URL": "http://127.0.0.1:9"})  # fmt: skip
            state = FileStateStore(data_dir).load(incident_id, "feeds")
            spool.unlink() if spool.is_symlink() else spool.rmdir()
            _recovered(outcome, crawl(place.world, "feeds", "spool-fixed", env=file_state))
            found = tally(place.client, names, "feeds", place.end)
        loud = (failed.returncode, failed.summary.get("status")) == (1, "failed") and failed.summary.get("items_lost", 0) > 0  # fmt: skip
        kept = (state.etags, state.seen) == ({}, {})
        outcome.lost += len(found.lost)
        outcome.doubled += len(found.doubled)
        outcome.judge(loud and kept and not found.lost and not found.doubled and found.expected > 0,
                      f"spool {kind}: exit {failed.returncode} {failed.summary.get('status')}, lost {failed.summary.get('items_lost')}, state kept {kept}, after: lost {found.lost[:3]} doubled {found.doubled[:3]}")  # fmt: skip
    return outcome
