"""A local multi-node cluster: `spreadwatch es start --nodes 3` for development and tests.

Several nodes of the same distribution as the embedded node, on 127.0.0.1, forming one cluster
through `discovery.seed_hosts` (their fixed transport ports) — the way a production cluster
forms, so replicas, shard allocation and node loss behave as they do there. Production points
`SPREADWATCH_ES_URL` at a real cluster instead.

Layout under `<root>` (default `<data_dir>/elasticsearch/cluster/`): `cluster.json` names the
nodes and their ports (chosen once, kept across restarts so the seed list stays true), and one
folder per node laid out like the embedded node's (`<node>/node/{config,data,logs,tmp}`). The
first start bootstraps the cluster (`cluster.initial_master_nodes`); a node restarted with data
simply rejoins. Nodes start in parallel (each `bin/elasticsearch -d` blocks until its node is up).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from psutil import pid_exists

from indexer import distribution, embedded
from indexer.embedded import EmbeddedNodeError, NodeDownError, NodePaths
from indexer.jdk import Java, find_java
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)

CLUSTER_NAME = "spreadwatch-local"


@dataclass(frozen=True)
class ClusterNode:
    name: str
    http_port: int
    transport_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


class LocalCluster:
    """The nodes of one local cluster, found through `<root>/cluster.json`."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings

    @classmethod
    def for_settings(cls, settings: Settings) -> LocalCluster:
        return cls(settings.data_dir / "elasticsearch" / "cluster", settings)

    @property
    def state_file(self) -> Path:
        return self.root / "cluster.json"

    def nodes(self) -> list[ClusterNode]:
        """The nodes this cluster was created with (empty before the first start)."""
        try:
            raw = json.loads(self.state_file.read_text())
            return [ClusterNode(**node) for node in raw["nodes"]]
        except (OSError, ValueError, KeyError, TypeError):
            return []

    def paths(self, node: ClusterNode) -> NodePaths:
        return NodePaths(self.root / node.name)

    def pid(self, node: ClusterNode) -> int | None:
        try:
            pid = int(self.paths(node).pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_exists(pid) else None

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes()]

    def live_urls(self) -> list[str]:
        """URLs of the nodes whose process is alive (not necessarily healthy)."""
        return [node.url for node in self.nodes() if self.pid(node) is not None]

    # -- starting and stopping ----------------------------------------------------------------

    def start(self, count: int) -> list[str]:
        """Start every node that is not running (creating the cluster with `count` nodes the
        first time) and wait until all have joined; returns the nodes' URLs."""
        nodes = self.nodes() or self._create(count)
        if len(nodes) != count:
            raise EmbeddedNodeError(
                f"the local cluster in {self.root} has {len(nodes)} nodes, not {count}; "
                f"start it with --nodes {len(nodes)}, or stop it and delete that folder"
            )
        fresh = not any((self.paths(n).data / "_state").exists() for n in nodes)
        down = [node for node in nodes if self.pid(node) is None]
        if down:
            home, java = self._distribution()  # once: unpacking is not safe in parallel
            with ThreadPoolExecutor(max_workers=len(down)) as pool:
                starts = {n: pool.submit(self._launch, n, home, java, fresh) for n in down}
                failed = {n: error for n, f in starts.items() if (error := f.exception())}
            for node, error in failed.items():
                # Booting side by side on a small machine, a node can give up before the
                # others answer; once they are up it starts alone (a second failure raises).
                logger.warning("cluster node %s did not start (%s); starting it again", node.name, error)  # fmt: skip
                self._launch(node, home, java, fresh)
        self.wait_for_nodes(len(nodes))
        return [node.url for node in nodes]

    def start_node(self, node: ClusterNode) -> None:
        """Start one node again (it rejoins its cluster with its data)."""
        home, java = self._distribution()
        self._launch(node, home, java, bootstrap=False)

    def _distribution(self) -> tuple[Path, Java]:
        version = self.settings.es_version
        java = find_java(int(version.split(".")[0]), self.settings.java_home)
        zip_path = distribution.fetch(version, self.settings.maven_command)
        home = distribution.unpack(
            zip_path, version, self.settings.data_dir / "elasticsearch" / "dist"
        )
        return home, java

    def _launch(self, node: ClusterNode, home: Path, java: Java, bootstrap: bool) -> None:
        """Start one node; `bootstrap` only on the cluster's very first start."""
        paths = self.paths(node)
        self._write_config(paths, home, node, bootstrap)
        as_root = os.geteuid() == 0
        if as_root:
            embedded.hand_to_node_user(paths)
        embedded.launch(paths, home, java, self.settings.es_heap, as_root)
        logger.info("cluster node %s started at %s", node.name, node.url)

    def wait_for_nodes(self, count: int, timeout: float | None = None) -> dict[str, Any]:
        """Cluster health once `count` nodes have joined and every shard is at least yellow."""
        limit = timeout if timeout is not None else self.settings.es_start_timeout
        deadline = time.monotonic() + limit
        last_error = "no node answered"
        while time.monotonic() < deadline:
            for url in self.live_urls():
                query = f"wait_for_nodes=>={count}&wait_for_status=yellow&timeout=5s"
                try:
                    health = embedded.get_json(f"{url}/_cluster/health?{query}", timeout=10)
                except (OSError, ValueError) as error:
                    last_error = f"{url}: {error}"
                    continue
                if not health.get("timed_out") and health.get("number_of_nodes", 0) >= count:
                    return health
                last_error = f"{health.get('number_of_nodes')} of {count} nodes joined"
            time.sleep(1)
        raise EmbeddedNodeError(
            f"the local cluster did not reach {count} nodes within {limit:.0f}s: {last_error} "
            f"(logs: {self.root}/*/node/logs)"
        )

    def stop(self, timeout: float = 60.0) -> bool:
        """SIGTERM every node and wait for them to exit; False when none was running."""
        running = [(node, pid) for node in self.nodes() if (pid := self.pid(node)) is not None]
        for _node, pid in running:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for node, pid in running:
            while pid_exists(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if pid_exists(pid):
                logger.warning("node %s ignored SIGTERM for %.0fs; killing it", node.name, timeout)
                os.kill(pid, signal.SIGKILL)
            self.paths(node).pid_file.unlink(missing_ok=True)
        return bool(running)

    def kill_node(self, node: ClusterNode) -> None:
        """SIGKILL one node, as a crashed host would go (tests, drills)."""
        pid = self.pid(node)
        if pid is None:
            raise NodeDownError(f"node {node.name} is not running")
        os.kill(pid, signal.SIGKILL)
        while pid_exists(pid):
            time.sleep(0.05)

    # -- status -------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Health and node count as a live node reports them; raises `NodeDownError`."""
        nodes = self.nodes()
        live = self.live_urls()
        if not nodes or not live:
            raise NodeDownError(
                "the local cluster is not running (start it: spreadwatch es start --nodes 3)"
            )
        for url in live:
            try:
                health = embedded.get_json(f"{url}/_cluster/health", timeout=5)
            except (OSError, ValueError):
                continue
            return {
                "urls": [node.url for node in nodes],
                "status": health["status"],
                "number_of_nodes": health["number_of_nodes"],
                "configured_nodes": len(nodes),
                "version": self.settings.es_version,
                "unassigned_shards": health["unassigned_shards"],
                "healthy": health["status"] in ("green", "yellow"),
            }
        raise NodeDownError(f"no node of the local cluster answers (tried {', '.join(live)})")

    # -- config -------------------------------------------------------------------------------

    def _create(self, count: int) -> list[ClusterNode]:
        if count < 2:
            raise EmbeddedNodeError("a local cluster needs at least 2 nodes (one is `es start`)")
        ports = embedded.free_ports(2 * count)
        nodes = [ClusterNode(f"node-{i + 1}", ports[2 * i], ports[2 * i + 1]) for i in range(count)]
        self.root.mkdir(parents=True, exist_ok=True)
        payload = {"cluster": CLUSTER_NAME, "nodes": [asdict(node) for node in nodes]}
        self.state_file.write_text(json.dumps(payload, indent=2))
        return nodes

    def _write_config(
        self, paths: NodePaths, home: Path, node: ClusterNode, bootstrap: bool
    ) -> None:
        seeds = [f"127.0.0.1:{other.transport_port}" for other in self.nodes()]
        values: dict[str, Any] = {
            "cluster.name": CLUSTER_NAME,
            "node.name": node.name,
            # Loopback only: that is what makes running without security acceptable.
            "network.host": "127.0.0.1",
            "http.port": node.http_port,
            "transport.port": node.transport_port,
            "discovery.seed_hosts": seeds,
            "path.data": str(paths.data),
            "path.logs": str(paths.logs),
            "xpack.security.enabled": False,
            # Our disks may be nearly full; flood-stage would make every index read-only.
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.destructive_requires_name": True,
        }
        if bootstrap:  # only ever on the first start: a node with data rejoins its cluster
            values["cluster.initial_master_nodes"] = [other.name for other in self.nodes()]
        embedded.write_node_config(paths, home, values)


def running_cluster(settings: Settings) -> LocalCluster | None:
    """The local cluster of this data folder when any of its nodes is alive."""
    cluster = LocalCluster.for_settings(settings)
    return cluster if cluster.live_urls() else None
