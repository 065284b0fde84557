"""pywb as the tests use it: a WACZ unpacked into a collection, `wayback` on 127.0.0.1.

pywb lives in its own venv (`.venv-tools`, made by `scripts/bootstrap --test`): it pins old
redis/werkzeug and patches the standard library with gevent, so it is run as a tool, never
imported.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".venv-tools" / "bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def replaying(wacz: Path, folder: Path) -> Iterator[str]:
    """The collection's URL while `wayback` serves `wacz` (unpacked into `folder`)."""
    if not (TOOLS / "wayback").exists():
        pytest.fail("pywb is missing: run ./scripts/bootstrap --test (it installs .venv-tools)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPREADWATCH_")}
    for args in (["init", "evidence"], ["add", "--unpack-wacz", "evidence", "evidence.wacz"]):
        if args[0] == "add":
            shutil.copy(wacz, folder / "evidence.wacz")
        subprocess.run([TOOLS / "wb-manager", *args], cwd=folder, env=env, check=True, capture_output=True)  # fmt: skip
    port = _free_port()
    server = subprocess.Popen(
        [TOOLS / "wayback", "--bind", "127.0.0.1", "-p", str(port)],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(150):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/evidence"
    finally:
        server.terminate()
        server.wait(timeout=10)
