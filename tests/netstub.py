"""The network edge of a crawl process, for guard tests: stub DNS answers and a connect fence.

Written as a `sitecustomize` module into a folder put first on the crawl's PYTHONPATH. It
answers chosen names at the OS resolver's boundary (`socket.gethostbyname`, what Twisted's
threaded resolver calls) and, as a safety net should the guard ever fail, refuses any
connection to an address outside 127.0.0.0/8, writing the attempt to `fence.log` — so a test
of the private-network guard never sends traffic to a real private address, guard or not.
"""

from __future__ import annotations

from pathlib import Path

_TEMPLATE = """
import ipaddress, socket
_TABLE = {table!r}
_LOG = {log!r}
_real_lookup = socket.gethostbyname
socket.gethostbyname = lambda name: _TABLE.get(name) or _real_lookup(name)

def _fenced(address):
    try:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
    except (ValueError, TypeError, IndexError):
        return False
    mapped = getattr(ip, "ipv4_mapped", None) or ip
    if mapped.is_loopback:
        return False
    with open(_LOG, "a") as log:
        log.write(f"{{address[0]}}\\n")
    return True

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

def connect(self, address):
    if _fenced(address):
        raise OSError(101, "fenced by the test: not a loopback address")
    return _connect(self, address)

def connect_ex(self, address):
    return 101 if _fenced(address) else _connect_ex(self, address)

socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
"""


def network_edge(folder: Path, table: dict[str, str], root: Path) -> tuple[str, Path]:
    """A PYTHONPATH (stub first, then `root`) and the fence's log of refused connections."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "fence.log"
    log.touch()
    code = _TEMPLATE.format(table=table, log=str(log))
    (folder / "sitecustomize.py").write_text(code, encoding="utf-8")
    return f"{folder}:{root}", log
