"""The crawlers as a Scrapyd egg, built by scrapyd-client's `scrapyd-deploy --build-egg`.

The project is deployable as it is: `scrapy.cfg` names the settings module, pyproject.toml's
`scrapy` entry point tells Scrapyd where it is, and `setup.py` (a shim) lets scrapyd-deploy run
`bdist_egg` on the same metadata. The egg holds the whole package (the crawlers import the
indexer and the settings); a Scrapyd host needs spreadwatch's dependencies installed
(`pip install spreadwatch[scrapyd]`) and the same `SPREADWATCH_*` settings as the monitor.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from scrapy.utils.conf import closest_scrapy_cfg

from spreadwatch.locks import folder_lock


class DeployError(RuntimeError):
    """The egg cannot be built; the message says why."""


def project_root() -> Path:
    """The source tree to build from: the checkout this package runs from (an editable
    install), else the one around the working directory (an image with the sources in /app)."""
    candidates = [Path(__file__).resolve().parent.parent]
    closest = closest_scrapy_cfg()
    if closest:
        candidates.append(Path(closest).parent)
    for root in candidates:
        if (root / "scrapy.cfg").is_file() and (root / "setup.py").is_file():
            return root
    raise DeployError(
        "no scrapy.cfg and setup.py beside the package or around the working directory; "
        "deploy from a source checkout of spreadwatch"
    )


def build_egg(target: Path, root: Path | None = None) -> Path:
    """Build the project's egg into `target` with scrapyd-deploy; returns `target`.

    `bdist_egg` writes `build/` and the egg-info inside the source tree, so two builds from
    one checkout at once (two deploys, a deploy beside a test run) break each other: the
    tree is held for the build's length."""
    root = root or project_root()
    command = [*_scrapyd_deploy(), "--build-egg", str(target)]
    with folder_lock(root):
        try:
            result = subprocess.run(
                command, cwd=root, capture_output=True, text=True, check=False, timeout=300
            )
        except subprocess.TimeoutExpired:
            raise DeployError("scrapyd-deploy did not build the egg within 300 s") from None
        except OSError as error:
            raise DeployError(f"cannot run {command[0]}: {error}") from None
    if result.returncode != 0 or not target.is_file():
        lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
        raise DeployError(f"scrapyd-deploy could not build the egg: {lines[-1][:300]}")
    return target


def _scrapyd_deploy() -> list[str]:
    """scrapyd-deploy of this environment (beside this Python), else the one on PATH."""
    beside = Path(sys.executable).with_name("scrapyd-deploy")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("scrapyd-deploy")
    if found is None:
        raise DeployError("scrapyd-deploy not found; install scrapyd-client")
    return [found]
