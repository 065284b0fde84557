"""The embedded default: a real single-node Elasticsearch that spreadwatch runs itself.

Layout under `<data_dir>/elasticsearch/`: `dist/` holds unpacked distributions (shared, never
written by the node), `node/` the node's own config, data, logs, temp folder, pid file and a
`node.json` that later commands read to find (and reuse) the running node.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from psutil import pid_exists

from indexer import distribution
from indexer.jdk import Java, find_java
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)

NODE_USER = "spreadwatch-es"
#: How long `elasticsearch -d` may take to boot the node and detach.
DAEMONISE_SECONDS = 300.0


class EmbeddedNodeError(RuntimeError):
    """The embedded node cannot be started, found or stopped; the message says what to do."""


class NodeDownError(EmbeddedNodeError):
    """No healthy embedded node is running."""


@dataclass(frozen=True)
class NodeInfo:
    url: str
    pid: int
    port: int
    version: str
    java_home: str
    data_path: str
    started_at: float
    reused: bool = False


@dataclass(frozen=True)
class NodePaths:
    root: Path

    @classmethod
    def for_settings(cls, settings: Settings) -> NodePaths:
        return cls(settings.data_dir / "elasticsearch")

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def node(self) -> Path:
        return self.root / "node"

    @property
    def config(self) -> Path:
        return self.node / "config"

    @property
    def data(self) -> Path:
        return self.node / "data"

    @property
    def logs(self) -> Path:
        return self.node / "logs"

    @property
    def tmp(self) -> Path:
        return self.node / "tmp"

    @property
    def pid_file(self) -> Path:
        return self.node / "es.pid"

    @property
    def state_file(self) -> Path:
        return self.node / "node.json"

    @property
    def port_file(self) -> Path:
        """The HTTP port the node last used (kept when it stops, reused when it starts)."""
        return self.root / "port"

    @property
    def lock_file(self) -> Path:
        return self.root / "start.lock"


def ensure_running(settings: Settings) -> NodeInfo:
    """The running embedded node, started if needed. Safe to call from several processes."""
    paths = NodePaths.for_settings(settings)
    _prepare_root(paths)
    with _exclusive(paths.lock_file):
        running = _running_node(paths)
        if running is not None:
            return running
        return _start(settings, paths)


def stop(settings: Settings, timeout: float = 60.0) -> bool:
    """Stop the embedded node; False when none was running."""
    paths = NodePaths.for_settings(settings)
    if not paths.root.exists():
        return False
    with _exclusive(paths.lock_file):
        info = _read_state(paths)
        pid = info.pid if info else _read_pid(paths)
        if pid is None or not pid_exists(pid):
            _clear_state(paths)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pid_exists(pid):
            logger.warning("node pid %s ignored SIGTERM for %.0fs; killing it", pid, timeout)
            os.kill(pid, signal.SIGKILL)
        _clear_state(paths)
        return True


def status(settings: Settings) -> dict[str, Any]:
    """Health, version, heap and data path of the running node; raises `NodeDownError`."""
    paths = NodePaths.for_settings(settings)
    info = _read_state(paths)
    if info is None or not pid_exists(info.pid):
        raise NodeDownError(
            "the embedded Elasticsearch is not running (start it: spreadwatch es start)"
        )
    try:
        health = get_json(f"{info.url}/_cluster/health", timeout=5)
        nodes = get_json(f"{info.url}/_nodes/_local/stats/jvm", timeout=5)
    except (OSError, ValueError) as error:
        raise NodeDownError(
            f"the embedded Elasticsearch at {info.url} does not answer: {error}"
        ) from None
    node = next(iter(nodes["nodes"].values()))
    mem = node["jvm"]["mem"]
    return {
        "url": info.url,
        "status": health["status"],
        "version": info.version,
        "pid": info.pid,
        "java_home": info.java_home,
        "heap_used_mb": round(mem["heap_used_in_bytes"] / 2**20),
        "heap_max_mb": round(mem["heap_max_in_bytes"] / 2**20),
        "data_path": info.data_path,
        "healthy": health["status"] in ("green", "yellow"),
    }


# -- starting -------------------------------------------------------------------------------


def _start(settings: Settings, paths: NodePaths) -> NodeInfo:
    # No silent fall back to another major: the client's major must equal the server's.
    version = settings.es_version
    port = _choose_port(settings)
    java = find_java(int(version.split(".")[0]), settings.java_home)
    zip_path = distribution.fetch(version, settings.maven_command)
    home = distribution.unpack(zip_path, version, paths.dist)
    _write_config(paths, home, port)
    as_root = os.geteuid() == 0
    if as_root:
        hand_to_node_user(paths)
    started_at = time.time()
    launch(paths, home, java, settings.es_heap, as_root)
    url = f"http://127.0.0.1:{port}"
    _wait_healthy(url, paths, settings.es_start_timeout)
    pid = _read_pid(paths)
    if pid is None:
        raise EmbeddedNodeError(f"node answered but wrote no pid file ({paths.pid_file})")
    info = NodeInfo(
        url=url,
        pid=pid,
        port=port,
        version=version,
        java_home=str(java.home),
        data_path=str(paths.data),
        started_at=started_at,
    )
    paths.state_file.write_text(json.dumps(asdict(info)))
    paths.port_file.write_text(str(port))
    logger.info("embedded Elasticsearch %s ready at %s (pid %s)", version, url, pid)
    return info


def _prepare_root(paths: NodePaths) -> None:
    try:
        paths.root.mkdir(parents=True, exist_ok=True)
        # A probe of its own: processes starting together (the suite's workers, a scheduler
        # and a CLI command) removed each other's shared probe and read that as "not writable".
        with tempfile.TemporaryFile(dir=paths.root, prefix=".write-test-") as probe:
            probe.write(b"ok")
    except OSError as error:
        raise EmbeddedNodeError(
            f"data folder {paths.root} is not writable ({error.strerror}); "
            "fix its permissions or set SPREADWATCH_DATA_DIR"
        ) from None


def running_url(settings: Settings) -> str | None:
    """The URL `node.json` gives for a node whose process lives (no health check, no start):
    how a long-lived client finds its node again after the node restarted."""
    info = _read_state(NodePaths.for_settings(settings))
    return info.url if info is not None and pid_exists(info.pid) else None


def _choose_port(settings: Settings) -> int:
    """The port this node used last (clients and Kibana keep pointing at it), else the
    configured one, else any free one. The last port is remembered in `<root>/port`."""
    last = _last_port(NodePaths.for_settings(settings))
    if last is not None and "es_port" not in settings.model_fields_set and _port_free(last):
        return last
    if _port_free(settings.es_port):
        return settings.es_port
    if "es_port" in settings.model_fields_set:
        raise EmbeddedNodeError(
            f"port {settings.es_port} (SPREADWATCH_ES_PORT) is in use; free it or choose another"
        )
    port = _free_port()
    logger.info("port %s is taken; the embedded node uses %s", settings.es_port, port)
    return port


def _last_port(paths: NodePaths) -> int | None:
    try:
        return int(paths.port_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _port_free(port: int) -> bool:
    """Whether the node could bind `port`: with SO_REUSEADDR, as Elasticsearch binds it, so a
    port whose last connections linger in TIME_WAIT after a restart counts as free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    return free_ports(1)[0]


#: Where the kernel picks the local ports of outgoing connections (Linux), and how far below
#: it node ports are chosen.
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
NODE_PORT_SPAN = 8192


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports, below the ephemeral range where the system can tell
    it (all held open while choosing, so none repeats).

    A node binds its ports only once it boots, and again at each restart: a port from the
    ephemeral range may be taken meanwhile by any outgoing connection (a client's, another
    node's), and the node then cannot start. Ports below that range are only ever taken by a
    program that binds them by number.
    """
    sockets: list[socket.socket] = []
    try:
        for port in _candidate_ports():
            if len(sockets) == count:
                break
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _candidate_ports() -> Iterator[int]:
    """Ports below the ephemeral range in random order, then any (port 0: the kernel's pick)."""
    try:
        low = int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 0
    start = max(low - NODE_PORT_SPAN, 1024)
    below = list(range(start, low))
    random.shuffle(below)
    yield from below
    while True:
        yield 0


def _write_config(paths: NodePaths, home: Path, port: int) -> None:
    write_node_config(
        paths,
        home,
        {
            "cluster.name": "spreadwatch-embedded",
            "node.name": "spreadwatch-embedded",
            "discovery.type": "single-node",
            # Loopback only: that is what makes running without security acceptable.
            "network.host": "127.0.0.1",
            "http.port": port,
            "transport.port": 0,
            "path.data": str(paths.data),
            "path.logs": str(paths.logs),
            "xpack.security.enabled": False,
            # Our disks may be nearly full; flood-stage would make every index read-only.
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.destructive_requires_name": True,
        },
    )


def write_node_config(paths: NodePaths, home: Path, values: dict[str, Any]) -> None:
    """A private config folder (ES_PATH_CONF) so the shared distribution stays untouched."""
    for folder in (paths.node, paths.data, paths.logs, paths.tmp):
        folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(paths.config, ignore_errors=True)
    shutil.copytree(home / "config", paths.config)
    lines = [f"{key}: {json.dumps(value)}" for key, value in values.items()]
    (paths.config / "elasticsearch.yml").write_text("\n".join(lines) + "\n")


def hand_to_node_user(paths: NodePaths) -> None:
    """Elasticsearch refuses to run as root: give its folders to an unprivileged user."""
    _ensure_node_user()
    entry = pwd.getpwnam(NODE_USER)
    for top in (paths.node,):
        for folder, _dirs, files in os.walk(top):
            os.chown(folder, entry.pw_uid, entry.pw_gid)
            for name in files:
                os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid)
    blocked = [p for p in [paths.node, *paths.node.parents] if not os.stat(p).st_mode & 0o001]
    blocked = [p for p in blocked if p.stat().st_uid != entry.pw_uid]
    if blocked:
        raise EmbeddedNodeError(
            f"user {NODE_USER} cannot reach {paths.node}: {blocked[0]} is not traversable "
            "by others; set SPREADWATCH_DATA_DIR to a folder outside it (e.g. /var/lib/spreadwatch)"
        )


def _ensure_node_user() -> None:
    try:
        pwd.getpwnam(NODE_USER)
        return
    except KeyError:
        pass
    command = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", NODE_USER]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 and "already exists" not in result.stderr:
        raise EmbeddedNodeError(
            f"running as root, could not create the unprivileged user {NODE_USER} "
            f"that Elasticsearch needs: {result.stderr.strip()}"
        )


def launch(paths: NodePaths, home: Path, java: Java, heap: str, as_root: bool) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ES_JAVA_HOME": str(java.home),
        "ES_PATH_CONF": str(paths.config),
        "ES_TMPDIR": str(paths.tmp),
        "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}",
        "HOME": str(paths.node),
        "LANG": "C.UTF-8",
    }
    paths.pid_file.unlink(missing_ok=True)
    startup_log = paths.logs / "startup.log"
    command = [str(home / "bin" / "elasticsearch"), "-d", "-p", str(paths.pid_file)]
    with startup_log.open("wb") as log:
        try:
            result = subprocess.run(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=paths.node,
                user=NODE_USER if as_root else None,
                group=NODE_USER if as_root else None,
                extra_groups=[] if as_root else None,
                check=False,
                timeout=DAEMONISE_SECONDS,
            )
        except subprocess.TimeoutExpired:
            raise EmbeddedNodeError(
                f"Elasticsearch did not detach within {DAEMONISE_SECONDS:g} s: "
                f"{_boot_failure(paths)}"
            ) from None
        except OSError as error:
            raise EmbeddedNodeError(f"cannot run {command[0]}: {error}") from None
    if result.returncode != 0:
        raise EmbeddedNodeError(
            f"Elasticsearch did not start (exit {result.returncode}): {_boot_failure(paths)}"
        )


def _wait_healthy(url: str, paths: NodePaths, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            health = get_json(f"{url}/_cluster/health?wait_for_status=yellow&timeout=2s", 5)
            if health.get("status") in ("green", "yellow"):
                return
        except (OSError, ValueError):
            pass
        pid = _read_pid(paths)
        if pid is not None and not pid_exists(pid):
            break
        time.sleep(0.5)
    raise EmbeddedNodeError(
        f"Elasticsearch at {url} was not healthy within {timeout:.0f}s: "
        f"{_boot_failure(paths)} (logs: {paths.logs})"
    )


def _boot_failure(paths: NodePaths) -> str:
    """The cause of a failed boot: the server log's fatal exception, else the launcher's output.

    The server log is named after the cluster (`spreadwatch-embedded.log`, a local cluster's
    `spreadwatch-local.log`), so every log of the node is searched."""
    for server_log in sorted(paths.logs.glob("*.log")):
        lines = server_log.read_text(errors="replace").splitlines()
        fatal = [i for i, line in enumerate(lines) if "fatal exception" in line]
        if fatal and fatal[-1] + 1 < len(lines):
            return lines[fatal[-1] + 1].strip()[:400]
    return _log_tail(paths.logs / "startup.log")


def _log_tail(path: Path) -> str:
    if not path.is_file():
        return "no log"
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    interesting = [line for line in lines if "ERROR" in line or "Exception" in line]
    return (interesting or lines or ["empty log"])[-1].strip()[:400]


# -- finding a running node ------------------------------------------------------------------


def _running_node(paths: NodePaths) -> NodeInfo | None:
    info = _read_state(paths)
    if info is None:
        return None
    if not pid_exists(info.pid):
        _clear_state(paths)
        return None
    try:
        health = get_json(f"{info.url}/_cluster/health?wait_for_status=yellow&timeout=30s", 35)
    except (OSError, ValueError):
        return None
    if health.get("status") not in ("green", "yellow"):
        return None
    return NodeInfo(**{**asdict(info), "reused": True})


def _read_state(paths: NodePaths) -> NodeInfo | None:
    try:
        raw = json.loads(paths.state_file.read_text())
        return NodeInfo(**{**raw, "reused": False})
    except (OSError, ValueError, TypeError):
        return None


def _read_pid(paths: NodePaths) -> int | None:
    try:
        return int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _clear_state(paths: NodePaths) -> None:
    paths.state_file.unlink(missing_ok=True)
    paths.pid_file.unlink(missing_ok=True)


def get_json(url: str, timeout: float) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        data: dict[str, Any] = json.loads(response.read())
        return data


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = [
    "EmbeddedNodeError",
    "NodeDownError",
    "NodeInfo",
    "NodePaths",
    "ensure_running",
    "status",
    "stop",
]
