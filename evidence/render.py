"""Rendered captures: official statements and evidence pages as a browser shows them.

An API response proves what was said; a statement page is also what people saw, after its
scripts ran. For the sources an incident lists under `evidence.render` (official posts, pages of
kind statement, GitHub repos of interest), headless Chromium (Debian's `chromium` package,
`SPREADWATCH_CHROMIUM_COMMAND`) takes a PNG screenshot and dumps the DOM after rendering; both
are archived as WARC `resource` records (`urn:view:<url>`, `urn:dom:<url>`, Browsertrix's naming)
that refer to the post's archived response. Slower than capture, so it runs in the re-check job,
off the crawl's path, and only when the post's archived text changed since its last rendering.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence.warcstore import WarcStore

logger = logging.getLogger(__name__)

WINDOW = "1280,1600"


class RenderError(RuntimeError):
    """Chromium is missing, timed out, or produced nothing."""


@dataclass(frozen=True)
class Rendered:
    screenshot: bytes
    dom: bytes


def find_chromium(command: str) -> str | None:
    """The browser to run, or None (the setting names a command on PATH or a path)."""
    return shutil.which(command)


def render(url: str, chromium: str, timeout: float) -> Rendered:
    """Screenshot and rendered DOM of `url`, by headless Chromium."""
    with tempfile.TemporaryDirectory(prefix="spreadwatch-render-") as temp:
        shot = Path(temp) / "view.png"
        base = [
            chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", f"--user-data-dir={temp}/profile",
            f"--window-size={WINDOW}", "--virtual-time-budget=5000",
        ]  # fmt: skip
        try:
            subprocess.run([*base, f"--screenshot={shot}", url], capture_output=True, timeout=timeout, check=False)  # fmt: skip
            dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, timeout=timeout, check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise RenderError(f"chromium took more than {timeout:g}s for {url}") from None
        except OSError as error:
            raise RenderError(f"cannot run {chromium}: {error}") from None
        if not shot.is_file() or not dom.stdout:
            detail = dom.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [
                "no output"
            ]
            raise RenderError(f"chromium rendered nothing for {url}: {detail[0][:200]}")
        return Rendered(shot.read_bytes(), dom.stdout)


def archive_rendering(
    store: WarcStore, url: str, rendered: Rendered, refers_to: str | None
) -> dict[str, Any]:
    """Write both captures; the post's `rendered` field."""
    view = store.write_resource(f"urn:view:{url}", "image/png", rendered.screenshot, refers_to=refers_to)  # fmt: skip
    dom = store.write_resource(f"urn:dom:{url}", "text/html; charset=utf-8", rendered.dom, refers_to=refers_to)  # fmt: skip
    return {
        "screenshot": view.record_id,
        "dom": dom.record_id,
        "warc": view.warc,
        "at": view.captured_at,
        "of": refers_to,
        "url": url,
    }
