"""Real Scrapyd daemons for the scale tests: `scrapyd_daemons(settings, count)`, stopped after.

Use with `pytest_plugins = ["conftest_scrapyd"]`; the daemon itself is in `scrapyd_support.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scrapyd_support import CONFIG, Daemon, free_port, wait_ready

from spreadwatch.settings import Settings


@pytest.fixture
def scrapyd_daemons(tmp_path: Path) -> Iterator[Callable[[Settings, int], list[Daemon]]]:
    """`start(settings, count)`: daemons whose crawls write where `settings` point."""
    started: list[Daemon] = []

    def start(settings: Settings, count: int) -> list[Daemon]:
        daemons = []
        for number in range(count):
            home = tmp_path / f"scrapyd-{number}"
            home.mkdir()
            port = free_port()
            (home / "scrapyd.conf").write_text(CONFIG.format(port=port, home=home))
            env = {
                **os.environ,
                "SPREADWATCH_ES_URL": settings.es_url or "",
                "SPREADWATCH_INDEX_PREFIX": settings.index_prefix,
                "SPREADWATCH_DATA_DIR": str(home / "data"),
            }
            log = (home / "daemon.log").open("wb")
            process = subprocess.Popen(
                [sys.executable, "-m", "scrapyd"],
                cwd=home,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            daemon = Daemon(home, port, process)
            started.append(daemon)
            daemons.append(daemon)
        for daemon in daemons:
            wait_ready(daemon.url)
        return daemons

    yield start
    for daemon in started:
        daemon.stop()
