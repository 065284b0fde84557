"""The Elasticsearch server distribution, fetched through Maven and unpacked once.

Elastic publishes a runnable server tree to Maven Central as
`org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>:zip`. Going through Maven's
own resolver means no repository host is written here and a user's mirrors and proxies apply;
the zip is cached in Maven's local repository like any other artifact.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

logger = logging.getLogger(__name__)

GROUP = "org.elasticsearch.distribution.integ-test-zip"
ARTIFACT = "elasticsearch"

#: How long Maven may take to download the distribution (hundreds of MB) on a slow link.
MAVEN_SECONDS = 1800.0


class DistributionError(RuntimeError):
    """The distribution cannot be fetched or is damaged; the message says what to do."""


def maven_local_repository() -> Path:
    """Maven's local repository (honours `-Dmaven.repo.local` given via MAVEN_OPTS)."""
    for option in os.environ.get("MAVEN_OPTS", "").split():
        if option.startswith("-Dmaven.repo.local="):
            return Path(option.split("=", 1)[1])
    return Path.home() / ".m2" / "repository"


def cached_zip(version: str) -> Path:
    group_path = GROUP.replace(".", "/")
    return maven_local_repository() / group_path / ARTIFACT / version / f"{ARTIFACT}-{version}.zip"


def fetch(version: str, maven: str = "mvn") -> Path:
    """The distribution zip for `version`, from Maven's cache or resolved through Maven."""
    target = cached_zip(version)
    if target.is_file():
        return target
    if shutil.which(maven) is None:
        raise DistributionError(
            f"Maven ({maven!r}) is not installed; install it (Debian: apt-get install maven) "
            "or point SPREADWATCH_ES_URL at an existing cluster"
        )
    coordinates = f"{GROUP}:{ARTIFACT}:{version}:zip"
    logger.info("fetching Elasticsearch %s through Maven (%s)", version, coordinates)
    try:
        result = subprocess.run(
            [
                maven,
                "-B",
                "-q",
                "dependency:get",
                f"-Dartifact={coordinates}",
                "-Dtransitive=false",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=MAVEN_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise DistributionError(
            f"Maven did not resolve {coordinates} within {MAVEN_SECONDS:g} s"
        ) from None
    except OSError as error:
        raise DistributionError(f"cannot run Maven ({maven}): {error}") from None
    if result.returncode != 0 or not target.is_file():
        last = _last_error_line(result.stdout + result.stderr)
        raise DistributionError(f"Maven could not resolve {coordinates}: {last}")
    return target


def _last_error_line(output: str) -> str:
    errors = [line for line in output.splitlines() if "ERROR" in line]
    return errors[0].strip() if errors else "no output"


def verify(zip_path: Path) -> None:
    """Check every entry's CRC, so a truncated or corrupt cached download is caught."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError) as error:
        raise DistributionError(
            f"cached distribution {zip_path} is corrupt ({error}); delete it and run again"
        ) from None
    if bad is not None:
        raise DistributionError(
            f"cached distribution {zip_path} fails its checksum at {bad}; delete it and run again"
        )


def unpack(zip_path: Path, version: str, dist_root: Path) -> Path:
    """Unpack the distribution once into `dist_root`; return its home folder."""
    home = dist_root / f"elasticsearch-{version}"
    marker = home / ".spreadwatch-unpacked"
    if marker.is_file():
        return home
    verify(zip_path)
    staging = dist_root / f".unpacking-{version}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(staging)
        for info in archive.infolist():
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                (staging / info.filename).chmod(mode)
    inner = staging / f"elasticsearch-{version}"
    if not (inner / "bin" / "elasticsearch").is_file():
        shutil.rmtree(staging, ignore_errors=True)
        raise DistributionError(f"{zip_path} holds no bin/elasticsearch; delete it and run again")
    shutil.rmtree(home, ignore_errors=True)
    inner.rename(home)
    shutil.rmtree(staging, ignore_errors=True)
    marker.write_text(version)
    return home


def modules(home: Path) -> list[str]:
    """The server modules this distribution carries (the integ-test zip lacks many)."""
    return sorted(p.name for p in (home / "modules").iterdir() if p.is_dir())
