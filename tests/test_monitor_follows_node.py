"""The monitor follows its node: the embedded node keeps its port across restarts, a long-lived
client finds the node again after it moved, and jobs record their own failures."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.connection import make_client
from indexer.embedded import NodeInfo, NodePaths, _choose_port, _port_free, ensure_running
from spreadwatch.settings import Settings, load_settings

pytest_plugins = ["conftest_scheduler"]


def port_in_time_wait() -> int:
    """A loopback port whose last connection was closed by its listening side: TIME_WAIT.
    The listener sets SO_REUSEADDR, as Elasticsearch's HTTP server does (`http.tcp.reuse_address`)."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server side closes first: its end lingers in TIME_WAIT
        client.recv(1)
        client.close()
    return port


def test_a_port_whose_connections_linger_in_time_wait_is_free_for_the_node() -> None:
    assert _port_free(port_in_time_wait())


def test_a_restarted_node_takes_the_port_it_had(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    paths = NodePaths.for_settings(settings)
    paths.root.mkdir(parents=True)
    last = port_in_time_wait()  # the old node just went away
    paths.port_file.write_text(str(last))
    assert _choose_port(settings) == last


class Forwarder:
    """A TCP port that forwards to the real node: where `node.json` says the node is."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = int(self.listener.getsockname()[1])
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                inbound, _ = self.listener.accept()
            except OSError:
                return
            outbound = socket.create_connection(self.target)
            self.connections += [inbound, outbound]
            for a, b in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


class MovableNode:
    """An embedded-node data folder whose node.json points at a forwarder to the real node;
    `move()` takes the forwarder down and puts the node at another port, as a restart does."""

    def __init__(self, real: NodeInfo, data_dir: Path) -> None:
        self.real = real
        self.settings = load_settings(data_dir=data_dir)
        self.paths = NodePaths.for_settings(self.settings)
        self.paths.node.mkdir(parents=True)
        self.forwarders: list[Forwarder] = []
        self._place()

    def _place(self) -> None:
        forwarder = Forwarder(("127.0.0.1", self.real.port))
        self.forwarders.append(forwarder)
        state = {**asdict(self.real), "url": f"http://127.0.0.1:{forwarder.port}",
                 "port": forwarder.port}  # fmt: skip
        state.pop("reused")
        self.paths.state_file.write_text(json.dumps(state))

    def move(self) -> None:
        self.forwarders[-1].close()
        self._place()

    def close(self) -> None:
        for forwarder in self.forwarders:
            forwarder.close()


@pytest.fixture
def node(es_settings: Settings, tmp_path: Path) -> Iterator[MovableNode]:
    movable = MovableNode(ensure_running(es_settings), tmp_path)
    yield movable
    movable.close()


def test_a_long_lived_client_finds_the_node_again_after_it_moved(node: MovableNode) -> None:
    client = make_client(node.settings)
    node.move()  # the node went down and came back on another port
    assert client.cluster.health()["status"] in ("green", "yellow")


def test_a_job_whose_cluster_is_gone_logs_and_records_instead_of_raising(
    make_runtime, tmp_path, caplog
):
    from scheduler_support import write_incident

    from scheduler import jobs, runtime

    folder = tmp_path / "incidents"
    folder.mkdir()
    path = write_incident(folder)
    rt = make_runtime()
    rt.client = Elasticsearch("http://127.0.0.1:9", request_timeout=1, max_retries=0)
    runtime.install(rt)
    try:
        with caplog.at_level(logging.ERROR):
            jobs.alerts(str(path))  # raise_alerts meets a connection error
    finally:
        runtime.install(None)
    failures = [r for r in caplog.records if "alerts job for" in r.getMessage()]
    assert failures and failures[0].exc_info is not None
