"""Embedded node: cold start (distribution cached by Maven) to a healthy cluster, and peak RSS.

Each round uses a fresh data folder, so it pays for unpacking the cached zip, writing the config,
booting the JVM and electing the single node. The node's peak RSS is sampled while it starts and
while it bulk-indexes 20,000 small documents. Median of 5 rounds.

    .venv/bin/python -m bench.bench_cold_start [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil
from elasticsearch import Elasticsearch, helpers

from bench.machine import save
from indexer.embedded import NodePaths, ensure_running, stop
from spreadwatch.settings import load_settings


def sample_peak_rss(pid_file: Path, stop_event: threading.Event, peak: list[int]) -> None:
    while not stop_event.is_set():
        try:
            rss = psutil.Process(int(pid_file.read_text())).memory_info().rss
            peak[0] = max(peak[0], rss)
        except (OSError, ValueError, psutil.Error):
            pass
        time.sleep(0.1)


def one_round(workdir: Path, index: int) -> tuple[float, float, int]:
    settings = load_settings(data_dir=workdir / f"round-{index}")
    paths = NodePaths.for_settings(settings)
    peak = [0]
    done = threading.Event()
    sampler = threading.Thread(target=sample_peak_rss, args=(paths.pid_file, done, peak))
    sampler.start()
    started = time.perf_counter()
    info = ensure_running(settings)
    to_green = time.perf_counter() - started
    client = Elasticsearch(info.url)
    docs = ({"_index": "bench", "text": f"post {i} 实习生", "n": i} for i in range(20_000))
    load_started = time.perf_counter()
    helpers.bulk(client, docs, chunk_size=2000)
    load_s = time.perf_counter() - load_started
    done.set()
    sampler.join()
    client.close()
    stop(settings)
    return to_green, load_s, peak[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    starts, loads, peaks = [], [], []
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)
        for i in range(args.rounds):
            to_green, load_s, peak = one_round(workdir, i)
            starts.append(to_green)
            loads.append(load_s)
            peaks.append(peak)
            print(f"round {i + 1}: {to_green:.1f}s to healthy, peak RSS {peak / 2**20:.0f} MiB")
    save(
        "bench_cold_start",
        {
            "rounds": args.rounds,
            "cold_start_to_healthy_s_median": round(statistics.median(starts), 2),
            "cold_start_to_healthy_s_all": [round(s, 2) for s in starts],
            "node_peak_rss_mib_median": round(statistics.median(peaks) / 2**20),
            "bulk_20k_docs_s_median": round(statistics.median(loads), 2),
            "heap": load_settings().es_heap,
        },
    )


if __name__ == "__main__":
    main()
