"""Regular expressions from incident files, compiled with RE2: matching time linear in the text.

A claim pattern (`re:...`) runs over every post. Python's backtracking engine lets a pattern
such as `re:(a+)+$` take seconds on one hostile post — long enough to push a crawl into its
timeout. RE2 guarantees linear time by leaving out what needs backtracking (backreferences,
lookaround); a pattern using those is refused when the file is loaded, with the reason.
Plain module: the incident model validates with it, `indexer.matching` matches with it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

#: RE2 refuses patterns whose compiled program would take more memory than this.
MAX_MEMORY = 8 << 20


class UnsafeRegexError(ValueError):
    """A pattern RE2 cannot run in linear time (or cannot parse)."""


@lru_cache(maxsize=4096)
def compile_safe(pattern: str, ignore_case: bool = True) -> Any:
    """The RE2 program for `pattern`; `UnsafeRegexError` says why it is refused."""
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False
    options.max_mem = MAX_MEMORY
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise UnsafeRegexError(
            f"{reason} (patterns run with RE2 in linear time: no backreferences or lookaround)"
        ) from None
