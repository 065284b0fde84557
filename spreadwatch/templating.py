"""The one Jinja setup every renderer (alert e-mails, the report) starts from, so a template
can never print a stranger's text raw: `finalize` passes every printed string through
`spreadwatch.display`. Apart from `display` because the CLI imports that on every start and
Jinja only where something is rendered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import BaseLoader, Environment, StrictUndefined

from spreadwatch.display import TEMPLATE_FILTERS, finalize
from spreadwatch.urls import link_url


def template_environment(
    loader: BaseLoader, autoescape: Callable[[str | None], bool], **filters: Callable[..., Any]
) -> Environment:
    """Every renderer's Jinja: a missing value is an error rather than a blank, hostile text
    is made visible wherever a template prints it (`finalize`), the display filters, and
    `safe_url` (a link only for http(s) addresses)."""
    env = Environment(
        loader=loader,
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=finalize,
    )
    env.filters.update(TEMPLATE_FILTERS, safe_url=link_url)
    env.filters.update(filters)
    return env
