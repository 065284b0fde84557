"""`spreadwatch run` stopped by SIGTERM: no new runs, running crawls finish, state is whole."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from textwrap import dedent

from scheduler_support import PY, wait_for, write_incident

from scheduler.status import list_jobs

FAKE_CRAWL = dedent(
    """\
    # A stand-in crawl: announces itself, works for a while, records its run like crawlers.run.
    import pathlib, sys, time
    from datetime import UTC, datetime
    from crawlers.runstats import build_run_doc, write_run
    from spreadwatch.settings import load_settings

    incident, source, run_id, folder = sys.argv[1:5]
    started = datetime.now(UTC)
    pathlib.Path(folder, source).write_text(run_id)
    time.sleep(2)
    doc = build_run_doc({"item_scraped_count": 3}, started=started, incident="bytedance-intern-2024",
                        source=source, run_id=run_id, finish_reason="finished", errors=[])
    write_run(load_settings(), doc)
    """
)


def test_sigterm_lets_running_crawls_finish_and_exits_cleanly(
    es_client, index_names, tmp_path, es_node_url
):
    incidents, started = tmp_path / "incidents", tmp_path / "started"
    incidents.mkdir()
    started.mkdir()
    write_incident(incidents)
    script = tmp_path / "fake_crawl.py"
    script.write_text(FAKE_CRAWL, encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    env = {
        **os.environ,
        "SPREADWATCH_INDEX_PREFIX": index_names.prefix,
        "SPREADWATCH_SCHEDULER_DB_URL": db_url,
        "SPREADWATCH_DATA_DIR": str(tmp_path / "data"),
        "SPREADWATCH_ES_URL": es_node_url,
    }
    env.pop("SPREADWATCH_SMTP_URL", None)
    crawl = f"{PY} {script} {{incident}} {{source}} {{run_id}} {started}"
    monitor = subprocess.Popen(
        [PY, "-m", "spreadwatch", "run", str(incidents), "--crawl-command", crawl,
         "--shutdown-grace", "20", "--watch-interval", "0.5"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: list(started.iterdir()), timeout=60)
        monitor.send_signal(signal.SIGTERM)
        out, err = monitor.communicate(timeout=60)
    finally:
        if monitor.poll() is None:
            monitor.kill()
    assert (monitor.returncode, out.strip().splitlines()[-1]) == (0, "monitor stopped"), err
    es_client.indices.refresh(index=index_names.runs)
    for marker in started.iterdir():
        run = es_client.get(index=index_names.runs, id=marker.read_text())["_source"]
        assert (run["source"], run["status"]) == (marker.name, "ok")
    jobs = list_jobs(db_url)
    assert sorted(j["id"] for j in jobs) == [
        "alerts:bytedance-intern-2024",
        "crawl:bytedance-intern-2024:feeds",
        "crawl:bytedance-intern-2024:github",
        "recheck:bytedance-intern-2024",
        "stance:bytedance-intern-2024",
    ]
    assert all(j["next_run"] for j in jobs)


#: A child whose stop handler sets an event the main thread waits for, while another of its
#: threads takes the SIGTERM (the kernel may pick any thread for a process's signal).
_WAITING_MONITOR = dedent(
    """\
    import signal, threading, time
    from scheduler.service import wait_until_set
    wake = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: wake.set())
    def take_the_signal():
        time.sleep(0.3)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
    threading.Thread(target=take_the_signal, daemon=True).start()
    began = time.monotonic()
    wait_until_set(wake)
    print(f"stopped after {time.monotonic() - began:.1f} s")
    """
)


def test_a_sigterm_taken_by_another_thread_stops_the_wait():
    child = subprocess.Popen(
        [PY, "-c", _WAITING_MONITOR], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )  # fmt: skip
    try:
        out, err = child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        raise AssertionError("the wait went on 30 s after SIGTERM") from None
    assert out.startswith("stopped after"), err
