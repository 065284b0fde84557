"""Supervised long-running commands: restarted with backoff when they exit, stopped cleanly."""

from __future__ import annotations

import itertools

from scheduler_support import PY, wait_for

from scheduler.supervise import Supervisor


def test_command_that_exits_is_restarted(tmp_path):
    log = tmp_path / "starts"
    code = f"open({str(log)!r}, 'a').write('x')"
    supervisor = Supervisor("flaky", [PY, "-c", code], backoff_initial=0.05, backoff_max=0.1)
    supervisor.start()
    try:
        wait_for(lambda: log.exists() and len(log.read_text()) >= 3)
    finally:
        supervisor.stop()
    assert supervisor.restarts >= 2


def test_backoff_doubles_up_to_its_cap(tmp_path):
    log = tmp_path / "starts"
    code = f"import time; open({str(log)!r}, 'a').write(f'{{time.monotonic()}}\\n')"
    supervisor = Supervisor("crashing", [PY, "-c", code], backoff_initial=0.2, backoff_max=0.4)
    supervisor.start()
    try:
        wait_for(lambda: log.exists() and len(log.read_text().split()) >= 4)
    finally:
        supervisor.stop()
    starts = [float(t) for t in log.read_text().split()[:4]]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.4


def test_stop_ends_a_running_command(tmp_path):
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    supervisor = Supervisor("stream", [PY, "-c", code], stop_grace=5)
    supervisor.start()
    wait_for(pid_file.exists)
    wait_for(pid_file.read_text)
    supervisor.stop()
    assert supervisor.pid is None and supervisor.restarts == 0
