"""How Scrapy's own event messages are logged in spreadwatch.

A dropped item is logged with its reason only, at INFO: Scrapy's default logs the whole item at
WARNING, which floods the log on a crawl with thousands of off-topic posts and copies untrusted
post text into it. The records still go through `spreadwatch.logs.StructuredFormatter` (the run
entry point installs it on the root logger; Scrapy is told not to install its own handler).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure


class SpreadwatchLogFormatter(LogFormatter):
    def dropped(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        level = getattr(exception, "log_level", None) or logging.INFO
        if isinstance(level, str):
            level = getattr(logging, level.upper(), logging.INFO)
        return {
            "level": level,
            "msg": "dropped %(kind)s: %(exception)s",
            "args": {"kind": type(item).__name__, "exception": exception},
        }
