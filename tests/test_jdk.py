"""Finding a JDK for the embedded node: clear errors that name what was tried."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer import jdk
from indexer.jdk import REQUIRED_MODULES, JavaNotFoundError, find_java

JAVA_17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")


def test_a_missing_java_home_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(JavaNotFoundError, match=r"SPREADWATCH_JAVA_HOME=.*no bin/java"):
        find_java(9, tmp_path / "no-such-jdk")


@pytest.mark.skipif(not (JAVA_17 / "bin" / "java").exists(), reason="needs Debian's Java 17")
def test_a_too_old_java_is_refused_with_the_version_needed() -> None:
    with pytest.raises(JavaNotFoundError, match=r"Java 17 is too old \(needs 21\+\)"):
        find_java(9, JAVA_17)


def test_a_jdk_without_the_needed_modules_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "tiny-jdk"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\nexit 0\n")
    (home / "bin" / "java").chmod(0o755)
    (home / "release").write_text('JAVA_VERSION="25.0.1"\nMODULES="java.base java.logging"\n')
    with pytest.raises(JavaNotFoundError, match="lacks module"):
        find_java(9, home)


def _jdk_without_release(tmp_path: Path, script: str) -> Path:
    """A JDK home that only `java` itself can describe (no `release` file)."""
    home = tmp_path / "bare-jdk"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n" + script)
    (home / "bin" / "java").chmod(0o755)
    return home


def test_without_a_release_file_java_is_asked_its_version_and_modules(tmp_path: Path) -> None:
    modules = "\\n".join(f"{name}@25.0.1" for name in REQUIRED_MODULES)
    home = _jdk_without_release(
        tmp_path,
        'case "$1" in\n'
        """  -version) echo 'openjdk version "25.0.1" 2025-10-21' >&2 ;;\n"""
        f"  --list-modules) printf '{modules}\\n' ;;\n"
        "esac\n",
    )
    java = find_java(9, home)
    assert (java.home, java.version) == (home, 25)


def test_without_a_release_file_missing_modules_are_named(tmp_path: Path) -> None:
    home = _jdk_without_release(
        tmp_path,
        'case "$1" in\n'
        """  -version) echo 'openjdk version "25.0.1" 2025-10-21' >&2 ;;\n"""
        "  --list-modules) printf 'java.base@25.0.1\\n' ;;\n"
        "esac\n",
    )
    with pytest.raises(JavaNotFoundError, match=r"lacks module\(s\) jdk\.jdi"):
        find_java(9, home)


def test_a_java_that_hangs_is_passed_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jdk, "ASK_JAVA_SECONDS", 0.2)
    home = _jdk_without_release(tmp_path, "exec sleep 5\n")
    with pytest.raises(JavaNotFoundError, match="cannot tell its version"):
        find_java(9, home)


def test_nothing_found_lists_every_candidate(tmp_path: Path) -> None:
    with pytest.raises(JavaNotFoundError, match=r"no JDK found anywhere.*SPREADWATCH_JAVA_HOME"):
        find_java(9, None, system_roots=[tmp_path], use_environment=False)


def test_the_machine_jdk_is_found_for_elasticsearch_9() -> None:
    java = find_java(9, None)
    assert java.version >= 21
    assert java.executable.exists()
