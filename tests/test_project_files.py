"""Project files that cannot run here (no Docker engine) are still checked: versions agree."""

from __future__ import annotations

import re
from pathlib import Path

import elasticsearch
import yaml

from spreadwatch.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, object]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def image_version(service: str) -> str:
    image = compose()["services"][service]["image"]  # type: ignore[index]
    return str(image).rsplit(":", 1)[1]


def test_compose_elasticsearch_and_kibana_match_the_embedded_node() -> None:
    embedded = Settings.model_fields["es_version"].default
    assert image_version("elasticsearch") == embedded
    assert image_version("kibana") == embedded


def test_compose_server_major_equals_the_client_major() -> None:
    client_major = elasticsearch.__versionstr__.split(".")[0]
    assert image_version("elasticsearch").split(".")[0] == client_major


def test_compose_keeps_security_on_with_passwords_from_env() -> None:
    services = compose()["services"]  # type: ignore[index]
    es_env = services["elasticsearch"]["environment"]  # type: ignore[index]
    assert "xpack.security.enabled=true" in es_env
    assert any(e.startswith("ELASTIC_PASSWORD=${") for e in es_env)
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"PASSWORD=[A-Za-z0-9]", text), "a literal password in compose"


def test_every_compose_service_has_a_healthcheck_or_is_a_one_shot() -> None:
    services = compose()["services"]  # type: ignore[index]
    for name, service in services.items():  # type: ignore[union-attr]
        assert "healthcheck" in service or service.get("restart") == "no", name


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / "env.example").read_text()
    for field in Settings.model_fields:
        assert f"SPREADWATCH_{field.upper()}=" in text, field


def test_docker_stop_leaves_the_monitor_time_to_stop_its_crawls() -> None:
    """`docker stop` SIGKILLs after stop_grace_period (default 10 s): the monitor must get its
    shutdown grace (crawls and streams saving their work) plus a running alert job."""
    from crawlers.launch import TERM_GRACE
    from scheduler.runtime import SHUTDOWN_GRACE

    service = compose()["services"]["spreadwatch"]  # type: ignore[index]
    period = str(service.get("stop_grace_period", "10s"))
    seconds = int(period.removesuffix("s"))
    assert seconds >= SHUTDOWN_GRACE + TERM_GRACE + 15, period
