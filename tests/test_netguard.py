"""The private-network guard: a crawl never connects to a loopback, private, link-local or
reserved address unless the settings allow its network — not for a URL of the incident file,
not for a redirect target, not for a host name that resolves inward.

No traffic reaches such an address: refusals happen before connecting, and the one name that
must resolve inward (`intranet.test`) is answered by a stub at the OS resolver's boundary
(`socket.gethostbyname` in the crawl process), pointing at a listener the test watches; a fence
there refuses (and records) any connection off loopback, should the guard fail (`netstub.py`).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from netstub import network_edge
from social_crawl import ROOT, crawl, write_incident
from twisted.internet.address import IPv4Address, IPv6Address

from crawlers.netguard import GuardedResolver
from spreadwatch.netpolicy import AddressPolicy, PrivateAddressError
from spreadwatch.replay import ReplayServer, Reply
from spreadwatch.replay.feeds import FeedsData, FeedsReplay
from spreadwatch.settings import SettingsError, load_settings

#: Address → what the guard must call it (None: public, fetched). Written from RFC 6890's
#: registry by hand, not from the `ipaddress` module the guard uses.
KINDS = {
    "93.184.215.14": None,
    "1.1.1.1": None,
    "2606:4700:4700::1111": None,
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "::1": "loopback",
    "::ffff:127.0.0.1": "loopback",
    "::ffff:10.0.0.1": "private",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.178.1": "private",
    "fd00::1": "private",
    "169.254.169.254": "link-local",
    "fe80::1": "link-local",
    "224.0.0.251": "multicast",
    "0.0.0.0": "unspecified",
    "240.0.0.1": "reserved",
    "100.64.0.1": "reserved",
}


@pytest.mark.parametrize(("address", "kind"), KINDS.items())
def test_every_non_public_address_is_refused_by_default(address: str, kind: str | None) -> None:
    assert AddressPolicy().refusal(address) == kind


def test_an_allowed_network_passes_and_its_neighbours_do_not() -> None:
    settings = load_settings(allow_private_networks=" 10.20.0.0/16, 127.0.0.1 ")
    assert settings.allow_private_networks == "10.20.0.0/16,127.0.0.1/32"
    policy = AddressPolicy.from_settings(settings)
    assert [policy.refusal(a) for a in ("10.20.9.9", "127.0.0.1", "10.21.0.1", "127.0.0.2")] == [
        None, None, "private", "loopback",
    ]  # fmt: skip


def test_a_bad_network_is_a_settings_error_naming_the_variable() -> None:
    with pytest.raises(
        SettingsError, match=r"SPREADWATCH_ALLOW_PRIVATE_NETWORKS.*'10\.0\.0\.0/33'"
    ):
        load_settings(allow_private_networks="10.0.0.0/33")


class _Answers:
    """A stub system resolver: the boundary the guard wraps, answering from a table."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    def resolveHostName(self, receiver, name, port=0, types=None, semantics="TCP"):  # type: ignore[no-untyped-def]  # noqa: N802
        receiver.resolutionBegan(object())
        for host in self.table.get(name, []):
            kind = IPv6Address if ":" in host else IPv4Address
            receiver.addressResolved(kind("TCP", host, port))
        receiver.resolutionComplete()


class _Receiver:
    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.complete = False

    def resolutionBegan(self, resolution: object) -> None:  # noqa: N802
        pass

    def addressResolved(self, address: IPv4Address) -> None:  # noqa: N802
        self.addresses.append(address.host)

    def resolutionComplete(self) -> None:  # noqa: N802
        self.complete = True


def test_the_resolver_hands_on_only_allowed_addresses_and_remembers_refused_hosts() -> None:
    answers = _Answers({
        "metadata.test": ["169.254.169.254"],
        "mixed.test": ["10.0.0.8", "93.184.215.14"],
        "Public.test": ["93.184.215.14"],
    })  # fmt: skip
    guard = GuardedResolver(answers, AddressPolicy())  # type: ignore[arg-type]
    seen = {}
    for name in ("metadata.test", "mixed.test", "Public.test", "nowhere.test"):
        receiver = _Receiver()
        guard.resolveHostName(receiver, name, 80)  # type: ignore[arg-type]
        assert receiver.complete
        seen[name] = receiver.addresses
    assert seen == {
        "metadata.test": [],
        "mixed.test": ["93.184.215.14"],
        "Public.test": ["93.184.215.14"],
        "nowhere.test": [],
    }
    assert guard.refused == {"metadata.test": ("169.254.169.254", "link-local")}
    answers.table["metadata.test"] = ["93.184.215.14"]  # its DNS changed: judged afresh
    guard.resolveHostName(_Receiver(), "metadata.test", 80)  # type: ignore[arg-type]
    assert guard.refused == {}


def test_check_url_judges_literals_and_names() -> None:
    policy = AddressPolicy()
    with pytest.raises(PrivateAddressError, match=r"169\.254\.169\.254 \(link-local\)"):
        policy.check_url("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(PrivateAddressError, match="loopback"):
        policy.check_url("http://localhost:8080/")  # resolved by /etc/hosts, no traffic
    policy.check_url("http://[2606:4700:4700::1111]/")


def test_without_an_allowance_a_crawl_of_a_loopback_source_sends_nothing(tmp_path: Path) -> None:
    """The default: the replay on 127.0.0.1, named by address and by name, is never reached."""
    with ReplayServer(FeedsReplay(FeedsData(feeds={}))) as server:
        by_name = server.url.replace("127.0.0.1", "localhost")
        feeds = {"feeds": [{"url": f"{server.url}/a.xml"}, {"url": f"{by_name}/b.xml"}]}
        result = crawl("feeds", write_incident(tmp_path, {"feeds": feeds}), tmp_path,
                       SPREADWATCH_ALLOW_PRIVATE_NETWORKS="")  # fmt: skip
        assert server.requests == []
    assert result.stat("dropped/private_network") == 2


class _Listener:
    """A TCP port on 127.0.0.2 standing for an intranet service: counts who connects."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.2", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def intranet() -> Iterator[_Listener]:
    listener = _Listener()
    yield listener
    listener.close()


def test_redirects_into_a_private_network_are_refused_and_the_rest_is_crawled(
    tmp_path: Path, intranet: _Listener
) -> None:
    """Only the replay's address is allowed; its redirects to a metadata address and to a name
    resolving into the intranet are counted refusals, and the intranet sees no connection."""
    guids = ["N1", "N2", "N3"]
    items = [
        {"title": f"ByteDance intern story {g}", "link": f"https://news.example/{g}",
         "guid": {"text": g, "isPermaLink": "false"}, "pubDate": "Sat, 19 Oct 2024 08:00:00 GMT",
         "description": "ByteDance intern"}
        for g in guids
    ]  # fmt: skip
    path, fence = network_edge(tmp_path / "edge", {"intranet.test": "127.0.0.2"}, ROOT)
    data = FeedsData(feeds={"/news.xml": {"title": "News", "link": "https://news.example/", "items": items}})  # fmt: skip
    with ReplayServer(FeedsReplay(data)) as server:
        server.script(r"^/meta\.xml", [Reply(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}, etag=False)])  # fmt: skip
        server.script(r"^/inward\.xml", [Reply(status=301, headers={"Location": f"http://intranet.test:{intranet.port}/admin"}, etag=False)])  # fmt: skip
        feeds = [{"url": f"{server.url}{p}"} for p in ("/meta.xml", "/inward.xml", "/news.xml")]
        result = crawl("feeds", write_incident(tmp_path, {"feeds": {"feeds": feeds}}), tmp_path,
                       SPREADWATCH_ALLOW_PRIVATE_NETWORKS="127.0.0.1/32",
                       PYTHONPATH=path)  # fmt: skip
    assert intranet.connections == 0 and fence.read_text() == ""
    assert result.stat("dropped/private_network") == 2
    assert result.stat("dropped/redirect_loop") == 0
    assert len(result.ids()) == len(guids)
