"""The private-network guard of every crawl: refused addresses are never connected to.

Checked where it cannot be gone around: on the addresses a connection is about to use. Scrapy's
HTTP handler connects through Twisted's `HostnameEndpoint`, which asks the reactor's name
resolver for every new connection — the first request, each redirect target, robots.txt, a host
whose DNS answer changed since. `GuardedResolver` wraps that resolver and hands on only the
addresses `spreadwatch.netpolicy.AddressPolicy` lets through; a host left with none cannot be
connected to. `GuardedDownloadHandler` (Scrapy's HTTP/1.1 handler, for http and https) installs
the resolver before its first download and turns "nothing left to connect to" into
`PrivateAddressRefused`: an `IgnoreRequest` (not retried; the checkpoint counts it as done),
counted as `spreadwatch/dropped/private_network` and logged with the URL, the address and the
redirect chain that led there. A URL whose host is a refused address literal is refused before
any lookup. Behind a proxy (`meta["proxy"]`) the guard judges the proxy's address: the proxy
resolves the target.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, NoReturn
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import Response
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
)
from zope.interface import implementer

from spreadwatch.netpolicy import DROP_REASON, AddressPolicy
from spreadwatch.settings import Settings, load_settings

logger = logging.getLogger(__name__)

HANDLER = "crawlers.netguard.GuardedDownloadHandler"


class PrivateAddressRefused(IgnoreRequest):
    """A request whose host is, or resolves only to, addresses the policy refuses."""


@implementer(IHostnameResolver)
class GuardedResolver:
    """The reactor's resolver, passing on only the addresses the policy allows.

    `refused` keeps, per host name, what its latest resolution refused when nothing was left,
    so the download handler can tell a refusal from a name that does not exist.
    """

    def __init__(self, inner: IHostnameResolver, policy: AddressPolicy) -> None:
        # Any: zope interfaces type their methods without `self`, which mypy cannot call.
        self.inner: Any = inner
        self.policy = policy
        self.refused: dict[str, tuple[str, str]] = {}

    def resolveHostName(  # noqa: N802 - Twisted's interface
        self,
        resolutionReceiver: IResolutionReceiver,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Sequence[type[IAddress]] | None = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ) -> IHostResolution:
        receiver = _FilteringReceiver(resolutionReceiver, hostName, self)
        resolution: IHostResolution = self.inner.resolveHostName(
            receiver, hostName, portNumber, addressTypes, transportSemantics
        )
        return resolution


@implementer(IResolutionReceiver)
class _FilteringReceiver:
    def __init__(self, receiver: IResolutionReceiver, host: str, guard: GuardedResolver) -> None:
        self.receiver: Any = receiver
        self.host = host.lower()
        self.guard = guard
        self.passed = 0
        self.refused: list[tuple[str, str]] = []

    def resolutionBegan(self, resolutionInProgress: IHostResolution) -> None:  # noqa: N802,N803
        self.receiver.resolutionBegan(resolutionInProgress)

    def addressResolved(self, address: IAddress) -> None:  # noqa: N802
        host = str(getattr(address, "host", ""))
        kind = self.guard.policy.refusal(host)
        if kind is None:
            self.passed += 1
            self.receiver.addressResolved(address)
        else:
            self.refused.append((host, kind))

    def resolutionComplete(self) -> None:  # noqa: N802
        if self.refused and not self.passed:
            self.guard.refused[self.host] = self.refused[0]
        else:
            self.guard.refused.pop(self.host, None)
            if self.refused:
                logger.info("%s: skipped its non-public addresses %s", self.host, self.refused)
        self.receiver.resolutionComplete()


def install(policy: AddressPolicy) -> GuardedResolver:
    """The reactor's guard with `policy`: installed over the current resolver unless it is one
    already (Scrapy installs its own resolver when the reactor starts; this runs after)."""
    from twisted.internet import reactor  # noqa: PLC0415 - the process's own, installed by then

    current: Any = reactor
    resolver = current.nameResolver
    if isinstance(resolver, GuardedResolver):
        resolver.policy = policy
        return resolver
    guard = GuardedResolver(resolver, policy)
    current.installNameResolver(guard)
    return guard


class GuardedDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler behind the guard: see the module's docstring."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        given = crawler.settings.get("SPREADWATCH_SETTINGS")
        settings = given if isinstance(given, Settings) else load_settings()
        self.policy = AddressPolicy.from_settings(settings)
        self.stats = crawler.stats
        self.guard = install(self.policy)

    async def download_request(self, request: Request) -> Response:
        host = urlsplit(request.url).hostname or ""
        kind = self.policy.refusal(host)
        if kind is not None:
            self._refuse(request, host, kind)
        self.guard = install(self.policy)  # replaced since? (another resolver installed later)
        try:
            return await super().download_request(request)
        except CannotResolveHostError:
            host = _resolver_host(request)
            refused = self.guard.refused.get(host) or self.guard.refused.get(_unicode(host))
            if refused is None:
                raise
            self._refuse(request, *refused)

    def _refuse(self, request: Request, address: str, kind: str) -> NoReturn:
        chain = request.meta.get("redirect_urls") or []
        via = f" (redirected from {' -> '.join(chain)})" if chain else ""
        if not _is_robots(request):  # robots.txt goes with the page it was fetched for
            if self.stats is not None:
                self.stats.inc_value(f"spreadwatch/dropped/{DROP_REASON}")
            logger.warning(
                "dropped (%s): %s resolves to %s (%s)%s; allow it with "
                "SPREADWATCH_ALLOW_PRIVATE_NETWORKS",
                DROP_REASON,
                request.url,
                address,
                kind,
                via,
            )
        raise PrivateAddressRefused(f"{request.url}: {address} is {kind}")


def _resolver_host(request: Request) -> str:
    """The name the connection resolved: the proxy's when one is used."""
    proxy = request.meta.get("proxy")
    return (urlsplit(proxy).hostname if proxy else urlsplit(request.url).hostname) or ""


def _unicode(host: str) -> str:
    """An IDNA host as Twisted names it to the resolver (`xn--bcher-kva` → `bücher`)."""
    try:
        return host.encode("ascii").decode("idna").lower()
    except (UnicodeError, ValueError):
        return host


def _is_robots(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith("/robots.txt")
