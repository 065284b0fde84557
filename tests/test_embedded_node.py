"""The embedded node: a real Elasticsearch, reused when running, honest about being down."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer import distribution, embedded
from indexer.embedded import ensure_running
from indexer.jdk import JavaNotFoundError
from spreadwatch.settings import Settings, load_settings

CLI = [sys.executable, "-m", "spreadwatch"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


def test_the_node_is_real_elasticsearch(es_client: Elasticsearch) -> None:
    response = es_client.perform_request("GET", "/_cluster/health")
    assert response.meta.headers["X-Elastic-Product"] == "Elasticsearch"
    assert response.body["status"] in ("green", "yellow")


def test_starting_twice_reuses_the_running_node(es_settings: Settings) -> None:
    if not es_settings.embedded:
        pytest.skip("SPREADWATCH_ES_URL points at an external cluster")
    first = ensure_running(es_settings)
    result = run_cli("es", "start")
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout
    assert first.url in result.stdout
    assert ensure_running(es_settings).pid == first.pid


def test_status_reports_version_heap_and_data_path(es_settings: Settings) -> None:
    if not es_settings.embedded:
        pytest.skip("SPREADWATCH_ES_URL points at an external cluster")
    ensure_running(es_settings)
    result = run_cli("es", "status")
    assert result.returncode == 0, result.stderr
    assert es_settings.es_version in result.stdout
    assert "heap" in result.stdout
    assert str(es_settings.data_dir) in result.stdout


def test_status_exits_non_zero_when_no_node_runs(tmp_path: Path) -> None:
    result = run_cli("es", "status", env={"SPREADWATCH_DATA_DIR": str(tmp_path / "empty")})
    assert result.returncode != 0
    assert "not running" in result.stdout


def test_an_unwritable_data_folder_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_cli("es", "start", env={"SPREADWATCH_DATA_DIR": str(blocker / "data")})
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: data folder")
    assert "Traceback" not in result.stderr


def test_an_explicit_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_cli(
            "es",
            "start",
            env={"SPREADWATCH_DATA_DIR": str(tmp_path / "d"), "SPREADWATCH_ES_PORT": str(port)},
        )
    assert result.returncode == 1
    assert f"port {port} (SPREADWATCH_ES_PORT) is in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_es_url_is_a_one_line_error() -> None:
    result = run_cli("init", env={"SPREADWATCH_ES_URL": "127.0.0.1:9200"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "SPREADWATCH_ES_URL" in result.stderr


def test_a_corrupt_cached_distribution_is_caught_by_its_checksum(tmp_path: Path) -> None:
    archive = tmp_path / "elasticsearch-0.0.0.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("elasticsearch-0.0.0/bin/elasticsearch", "#!/bin/sh\n" + "x" * 4096)
    data = bytearray(archive.read_bytes())
    data[200] ^= 0xFF  # flip a byte inside the stored file
    archive.write_bytes(bytes(data))
    with pytest.raises(distribution.DistributionError, match="delete it and run again"):
        distribution.unpack(archive, "0.0.0", tmp_path / "dist")


def _maven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> str:
    """A `mvn` on the way to an empty local repository (nothing cached), doing `script`."""
    monkeypatch.setenv("MAVEN_OPTS", f"-Dmaven.repo.local={tmp_path / 'm2'}")
    maven = tmp_path / "mvn"
    maven.write_text("#!/bin/sh\n" + script)
    maven.chmod(0o755)
    return str(maven)


def test_maven_that_cannot_resolve_is_named_with_its_last_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    maven = _maven(tmp_path, monkeypatch, "echo '[ERROR] Could not transfer artifact'; exit 1\n")
    with pytest.raises(distribution.DistributionError, match="Could not transfer artifact"):
        distribution.fetch("0.0.0", maven)


def test_maven_that_hangs_is_given_up_on_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distribution, "MAVEN_SECONDS", 0.2)
    maven = _maven(tmp_path, monkeypatch, "exec sleep 5\n")
    with pytest.raises(distribution.DistributionError, match=r"did not resolve .* within 0\.2 s"):
        distribution.fetch("0.0.0", maven)


def test_a_truncated_cached_distribution_is_caught(tmp_path: Path) -> None:
    archive = tmp_path / "elasticsearch-0.0.0.zip"
    archive.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(distribution.DistributionError, match="corrupt"):
        distribution.verify(archive)


def test_the_node_refuses_what_it_cannot_start(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "d", java_home=tmp_path / "nojdk")
    with pytest.raises(JavaNotFoundError, match="SPREADWATCH_JAVA_HOME"):
        ensure_running(settings)


def test_processes_starting_together_each_find_the_data_folder_writable(tmp_path: Path) -> None:
    """Three suite workers (or a scheduler and a CLI command) prepare the same folder at once;
    a shared probe file once made one of them read "not writable"."""
    paths = embedded.NodePaths(root=tmp_path / "elasticsearch")

    def prepare_many(_: int) -> None:
        for _ in range(300):
            embedded._prepare_root(paths)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(prepare_many, range(4)))  # raises what a worker raised
    assert list(paths.root.iterdir()) == []


def test_node_ports_are_chosen_below_the_ephemeral_range() -> None:
    """A node binds its ports when it boots (and again at each restart): a port the kernel may
    hand any outgoing connection meanwhile would keep it from starting."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = embedded.free_ports(6)
    assert len(set(ports)) == 6
    assert all(1024 <= port < low for port in ports)


@pytest.mark.parametrize("server_log", ["spreadwatch-embedded.log", "spreadwatch-local.log"])
def test_a_node_that_cannot_boot_is_reported_with_its_fatal_exception(
    tmp_path: Path, server_log: str
) -> None:
    paths = embedded.NodePaths(root=tmp_path / "node")
    paths.logs.mkdir(parents=True)
    cause = "org.elasticsearch.transport.BindTransportException: Failed to bind to 127.0.0.1:9301"
    (paths.logs / "startup.log").write_text("[WARN ][o.e.c.c.JoinHelper] failed to join node-1\n")
    (paths.logs / server_log).write_text(
        "[ERROR][o.e.b.Elasticsearch] [node-2] fatal exception while booting Elasticsearch\n"
        f"{cause}\n\tat org.elasticsearch.transport.TcpTransport.bindToPort(TcpTransport.java:1)\n"
    )
    assert embedded._boot_failure(paths) == cause
