"""`python -m crawlers.conformance DIR [--quiet]`: the table, and why each check failed
(`--quiet`: the table only)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from crawlers.conformance.check import details, run, stance_failed, stance_line, table
from crawlers.conformance.corpus import CorpusError
from indexer.stance_model import shipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.conformance", description=__doc__)
    parser.add_argument("folder", type=Path, help="a real-responses folder (<platform>.jsonl)")
    parser.add_argument("--quiet", action="store_true", help="the table only, no examples")
    args = parser.parse_args(argv)
    started = time.monotonic()
    model = shipped()  # the head the ingest labels with; without one the lexicon's labels stand
    try:
        tallies = run(args.folder, model)
    except (CorpusError, OSError) as error:
        sys.stderr.write(f"conformance: {error}\n")
        return 2
    out = [table(tallies)]
    shown = "" if args.quiet else details(tallies)
    if shown:
        out += ["", shown]
    out += ["", stance_line(tallies, model)]
    failed = [t.platform for t in tallies if t.failed]
    if stance_failed(tallies):
        failed.append("stance")
    total = sum(t.records for t in tallies)
    verdict = f"FAILED on {', '.join(failed)}" if failed else "passed"
    out += ["", f"conformance: {total} records in {time.monotonic() - started:.1f}s: {verdict}"]
    sys.stdout.write("\n".join(out) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
