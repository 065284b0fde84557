"""Counting the requests Scrapy gives up on for redirecting too often.

Scrapy ends a redirect loop quietly: a redirect back to a URL already fetched is dropped by
the duplicate filter, a long chain after `REDIRECT_MAX_TIMES` by RedirectMiddleware, each with a
DEBUG line only. A source whose only list URL loops ended `ok` with nothing fetched and nothing
counted — how a monitor goes silently blind. This middleware counts both as
`spreadwatch/dropped/redirect_loop`, with a warning: it sits just before RedirectMiddleware
(nearer the downloader) for the chains, and listens for dropped redirects.
"""

from __future__ import annotations

import logging

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

logger = logging.getLogger(__name__)

#: Just nearer the downloader than RedirectMiddleware (600): sees the 3xx it is about to drop.
PRIORITY = 610
#: The statuses Scrapy's RedirectMiddleware follows.
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class RedirectLoopCounter:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_times = crawler.settings.getint("REDIRECT_MAX_TIMES", 20)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectLoopCounter:
        counter = cls(crawler)
        crawler.signals.connect(counter._dropped, signal=signals.request_dropped)
        return counter

    def _dropped(self, request: Request, spider: object = None) -> None:
        """The scheduler refused a request; one that came from a redirect is a loop."""
        if request.meta.get("redirect_urls"):
            self._count(request.url, "redirects back to a URL already fetched")

    def process_response(self, request: Request, response: Response) -> Response:
        if (
            response.status in REDIRECT_STATUSES
            and b"Location" in response.headers
            and not request.meta.get("dont_redirect")
            and response.status not in request.meta.get("handle_httpstatus_list", ())
            and request.meta.get("redirect_times", 0) + 1 > self.max_times
        ):
            self._count(request.url, f"redirected more than {self.max_times} times")
        return response

    def _count(self, url: str, why: str) -> None:
        logger.warning("dropped (redirect_loop): %s %s", url, why)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("spreadwatch/dropped/redirect_loop")
