"""Fixture data of the social platforms, in each API's own shape (tests/fixtures/social/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "social"


def load(name: str) -> Any:
    """The fixture `name` (`hackernews.json`, `telegram.html`, ...): JSON decoded, HTML as text."""
    path = FIXTURES / name
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else text
