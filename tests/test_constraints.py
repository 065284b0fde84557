"""The pinned versions a fresh machine installs (constraints.txt, constraints-tools.txt) stay
inside the ranges the project declares, and pin everything it declares.

scripts/bootstrap and the Dockerfile install through the constraints files, so what CI tested is
what a clean clone gets. A requirement added to pyproject.toml without a pin would float again;
a pin outside its range would make pip refuse to install. The truth here is the declarations
themselves (pyproject.toml, the bootstrap script), read with `packaging`, pip's own parser.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
#: The extras a fresh machine installs: the tests' and a Scrapyd host's. `stance-train` is for
#: retraining the stance head and is installed by hand (docs/stance.md).
INSTALLED_EXTRAS = ("test", "scrapyd")


def pins(path: Path) -> dict[str, Version]:
    """name → pinned version of a constraints file; every line a comment or `name==version`."""
    pinned = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line.strip())
        assert match, f"{path.name}:{number}: not an exact pin: {line!r}"
        pinned[canonicalize_name(match.group(1))] = Version(match.group(2))
    return pinned


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    lines = [*project["dependencies"], *(r for e in INSTALLED_EXTRAS for r in extras[e])]
    return [Requirement(line) for line in lines]


PINS = pins(ROOT / "constraints.txt")


@pytest.mark.parametrize("requirement", declared(), ids=str)
def test_every_declared_requirement_is_pinned_inside_its_range(requirement: Requirement) -> None:
    name = canonicalize_name(requirement.name)
    assert name in PINS, f"{requirement} is not pinned in constraints.txt"
    assert requirement.specifier.contains(PINS[name], prereleases=True), (
        f"constraints.txt pins {name}=={PINS[name]}, outside {requirement}"
    )


def test_the_tools_venv_pins_pywb_inside_the_range_bootstrap_asks_for() -> None:
    bootstrap = (ROOT / "scripts" / "bootstrap").read_text(encoding="utf-8")
    quoted = re.search(r'"(pywb[^"]+)"', bootstrap)
    assert quoted, "scripts/bootstrap no longer installs pywb by a quoted requirement"
    asked = Requirement(quoted.group(1))
    tools = pins(ROOT / "constraints-tools.txt")
    assert asked.specifier.contains(tools["pywb"])


@pytest.mark.parametrize("line", ["scrapy>=2", "scrapy == 2.1", "scrapy"])
def test_a_line_that_is_not_an_exact_pin_is_refused(tmp_path: Path, line: str) -> None:
    path = tmp_path / "constraints.txt"
    path.write_text(f"# header\n{line}\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="not an exact pin"):
        pins(path)
