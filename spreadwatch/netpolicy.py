"""Which addresses spreadwatch may fetch from: public ones, plus the networks the settings allow.

An incident file names page, feed and instance URLs, and any site may redirect anywhere: without
a rule, a crawl (or the evidence browser) could be made to read a cloud metadata service
(169.254.169.254), an intranet admin page or the machine's own services. The rule is applied to
*resolved* addresses (`crawlers.netguard` filters every resolution a crawl's connection makes),
so neither a redirect nor a host name pointing inward gets past it. Replays, tests and intranet
sources are allowed explicitly with `SPREADWATCH_ALLOW_PRIVATE_NETWORKS`.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from spreadwatch.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The word a refusal is counted and logged under (`spreadwatch/dropped/private_network`).
DROP_REASON = "private_network"


class PrivateAddressError(ValueError):
    """A URL whose host is, or resolves to, an address the policy refuses."""


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses pass; any other passes only inside an allowed network."""

    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressPolicy:
        text = settings.allow_private_networks
        return cls(tuple(ipaddress.ip_network(p) for p in text.split(",") if p))

    def refusal(self, host: str) -> str | None:
        """Why the address `host` may not be fetched (its kind), or None when it may.

        A host that is not an address literal is not judged here (None): resolve it first.
        """
        address = _address(host)
        if address is None:
            return None
        kind = address_kind(address)
        if kind is None or any(address in network for network in self.allowed):
            return None
        return kind

    def check_url(self, url: str) -> None:
        """Refuse `url` when its host resolves to a refused address (any of them).

        For tools that connect on their own (the evidence browser): the name is resolved here,
        before the tool resolves it again, so this narrows the door rather than closing it;
        crawls are guarded per connection instead (`crawlers.netguard`).
        """
        host = urlsplit(url).hostname or ""
        addresses = [host] if _address(host) is not None else _resolve(host)
        for address in addresses:
            kind = self.refusal(address)
            if kind is not None:
                raise PrivateAddressError(
                    f"{url} resolves to {address} ({kind}); "
                    "allow it with SPREADWATCH_ALLOW_PRIVATE_NETWORKS"
                )


def address_kind(address: Address) -> str | None:
    """The kind of a non-public address (loopback, private, ...); None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "reserved"  # 100.64.0.0/10 (shared) and the like


def _address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _resolve(host: str) -> list[str]:
    """Every address `host` resolves to (none when it does not resolve: nothing to reach)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})
