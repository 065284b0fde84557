"""Fault injection, the long form: 200+ faults across the classes of #17, survived/lost/doubled.

Runs the cases of `tests/faults/cases.py` (the same code as the CI fault tests, with more faults
each) against the real node (embedded unless SPREADWATCH_ES_URL is set), the demo's replayed
world, real SMTP servers and real crawl processes; each class is judged against its own truth
(the dataset behind the replays, the alerts raised, Python's `re` on short inputs, a
hand-written list of what is invalid). Prints the table, stores it in
`bench/results/bench_faults.json` and renders it into docs/reliability.md.

    .venv/bin/python -m bench.bench_faults [--seed 17] [--scale 1.0] [--only CLASS ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "faults")]

from alerts_support import Inbox, SmtpServer, free_port  # noqa: E402
from cases import (  # noqa: E402
    Outcome,
    Place,
    bad_replies,
    broken_configs,
    catastrophic_regexes,
    crawl_kills,
    demo_world,
    es_down,
    hostile_text,
    private_targets,
    redirect_loops,
    smtp_faults,
    spool_faults,
)
from elasticsearch import Elasticsearch  # noqa: E402

from bench.machine import describe, save  # noqa: E402
from indexer.connection import make_client  # noqa: E402
from spreadwatch.settings import Settings, load_settings  # noqa: E402

DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- fault-table:begin -->", "<!-- fault-table:end -->"

Case = Callable[[Random, int, "Context"], Outcome]


class Context:
    """What the cases need: the cluster, a scratch folder, an SMTP server, the demo world."""

    def __init__(self, client: Elasticsearch, settings: Settings, folder: Path) -> None:
        self.client, self.settings, self.folder = client, settings, folder
        self.place: Place | None = None
        self.smtp = SmtpServer(Inbox(), free_port())

    def sub(self, name: str) -> Path:
        path = self.folder / name
        path.mkdir(parents=True, exist_ok=True)
        return path


#: Class → (faults injected at scale 1, how to run it). At least 200 faults in all.
CASES: dict[str, tuple[int, Case]] = {
    "broken configs": (40, lambda rng, n, c: broken_configs(rng, n, c.sub("configs"))),
    "catastrophic regexes": (40, lambda rng, n, c: catastrophic_regexes(rng, n)),
    "hostile text": (
        20,
        lambda rng, n, c: hostile_text(rng, n, c.client, c.smtp.url, c.smtp.inbox),
    ),
    "SMTP refuse/drop/stall/lost 250": (40, lambda rng, n, c: smtp_faults(rng, n, c.client)),
    "private-network targets": (30, lambda rng, n, c: private_targets(rng, n, c.sub("private"))),
    "redirect loops": (20, lambda rng, n, c: redirect_loops(rng, n, c.sub("loops"))),
    "crawl SIGKILLed": (8, lambda rng, n, c: crawl_kills(rng, n, _place(c))),
    "Elasticsearch down mid-crawl": (6, lambda rng, n, c: es_down(rng, n, _place(c))),
    "bad source replies": (15, lambda rng, n, c: bad_replies(rng, n, _place(c))),
    "spool full / unwritable": (4, lambda rng, n, c: spool_faults(rng, n, _place(c))),
}


def _place(context: Context) -> Place:
    if context.place is None:
        raise RuntimeError("the demo world is not running")
    return context.place


def run(seed: int, scale: float, only: list[str] | None) -> dict[str, Any]:
    settings = load_settings(index_prefix=f"bench-faults-{seed}")
    client = make_client(settings)
    figures: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as temp:
        context = Context(client, settings, Path(temp))
        context.smtp.start()
        try:
            with demo_world(client, settings, settings.index_prefix, Path(temp) / "world") as place:
                context.place = place
                for name, (count, case) in CASES.items():
                    if only and name not in only:
                        continue
                    started = time.perf_counter()
                    outcome = case(Random(f"{seed}:{name}"), max(1, round(count * scale)), context)
                    row = outcome.row()
                    row.pop("fault")
                    row["wall_s"] = round(time.perf_counter() - started, 1)
                    figures[name] = row
                    problems[name] = outcome.problems
                    print(f"{name}: {row}", flush=True)
                    for problem in outcome.problems[:5]:
                        print(f"    {problem}", flush=True)
        finally:
            context.smtp.stop()
    totals = {k: sum(r[k] for r in figures.values()) for k in ("injected", "survived", "lost", "doubled", "duplicates")}  # fmt: skip
    figures["total"] = totals
    figures["seed"] = seed
    figures["problems"] = [f"{n}: {p}" for n, ps in problems.items() for p in ps[:3]] or "none"
    return figures


def table(figures: dict[str, Any]) -> list[str]:
    lines = [
        "| fault class | injected | survived | lost | doubled | duplicate e-mails | wall s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in figures.items():
        if isinstance(row, dict):
            label = f"**{name}**" if name == "total" else name
            lines.append(
                f"| {label} | {row['injected']} | {row['survived']} | {row['lost']} | "
                f"{row['doubled']} | {row['duplicates']} | {row.get('wall_s', '')} |"
            )
    return lines


def _problems(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "; ".join(value)


def render(figures: dict[str, Any], machine: dict[str, Any], command: str) -> None:
    """Replace the table block of docs/reliability.md with these figures."""
    block = [
        BEGIN,
        f"`{command}` — seed {figures['seed']}; {machine['cores']} cores, load "
        f"{machine['load_1m']} at the start, {machine['when']}.",
        "",
        *table(figures),
        "",
        f"Problems: {_problems(figures['problems'])}",
        END,
    ]
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    DOC.write_text(text[:start] + "\n".join(block) + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every class's faults")
    parser.add_argument("--only", nargs="*", choices=list(CASES), help="run only these classes")
    args = parser.parse_args(argv)
    machine = describe()
    figures = run(args.seed, args.scale, args.only)
    save("bench_faults", figures)
    command = "python -m bench.bench_faults" + "".join(f" {a}" for a in (argv or sys.argv[1:]))
    if not args.only:
        render(figures, machine, command)
    for line in table(figures):
        print(line)
    total = figures["total"]
    return (
        0 if total["injected"] == total["survived"] and not total["lost"] + total["doubled"] else 1
    )


if __name__ == "__main__":
    sys.exit(main())
