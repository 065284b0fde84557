"""The one place an Elasticsearch client is made.

No `SPREADWATCH_ES_URL` means the embedded node (started on demand); otherwise the configured
cluster with an API key or basic auth and the CA/verification settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from indexer import embedded
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)

LANGUAGE_MODULE = "analysis-common"


class ConnectionFailedError(RuntimeError):
    """The cluster cannot be reached or refuses us; the message names the URL (never secrets)."""


@dataclass(frozen=True)
class IndexNames:
    """Alias names per kind of document; concrete indices are `<alias>-v<N>`."""

    prefix: str

    @property
    def posts(self) -> str:
        return f"{self.prefix}-posts"

    @property
    def activity(self) -> str:
        return f"{self.prefix}-activity"

    @property
    def runs(self) -> str:
        return f"{self.prefix}-runs"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}-alerts"

    @property
    def monitors(self) -> str:
        return f"{self.prefix}-monitors"

    def all(self) -> list[str]:
        return [self.posts, self.activity, self.runs, self.alerts, self.monitors]


def es_url(settings: Settings) -> str:
    """The URL of the cluster these settings point at (starting the embedded node if needed)."""
    if settings.es_url is not None:
        return settings.es_url
    return embedded.ensure_running(settings).url


def make_client(settings: Settings, url: str | None = None) -> Elasticsearch:
    """A client for the configured cluster; checks it answers before handing it out."""
    target = url or es_url(settings)
    options: dict[str, Any] = {
        "request_timeout": settings.es_request_timeout,
        "retry_on_timeout": True,
        "max_retries": 3,
    }
    if settings.es_api_key is not None:
        options["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        options["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if target.startswith("https"):
        options["verify_certs"] = settings.es_verify_certs
        if settings.es_ca_certs is not None:
            options["ca_certs"] = str(settings.es_ca_certs)
    client = Elasticsearch(target, **options)
    _check_reachable(client, target)
    return client


def _check_reachable(client: Elasticsearch, url: str) -> None:
    # `GET /` (info/ping) is absent from the integ-test distribution; cluster health is not.
    try:
        client.cluster.health(timeout="10s")
    except ApiError as error:
        raise ConnectionFailedError(
            f"Elasticsearch at {url} refused the request ({error.meta.status}: {error.message}); "
            "check SPREADWATCH_ES_API_KEY or SPREADWATCH_ES_USERNAME/PASSWORD"
        ) from None
    except TransportError as error:
        raise ConnectionFailedError(
            f"cannot reach Elasticsearch at {url}: {error.message}"
        ) from None


class ClusterFeatures:
    """What the connected cluster can do, read from `_nodes/plugins` (not guessed)."""

    def __init__(self, client: Elasticsearch) -> None:
        self._client = client

    @cached_property
    def modules(self) -> frozenset[str]:
        response = self._client.nodes.info(metric="plugins")
        nodes = list(response["nodes"].values())
        if not nodes:
            return frozenset()
        per_node = [
            {m["name"] for m in node.get("modules", [])}
            | {p["name"] for p in node.get("plugins", [])}
            for node in nodes
        ]
        return frozenset(set.intersection(*per_node))

    @property
    def language_analyzers(self) -> bool:
        """True when english/german/cjk analyzers exist on every node."""
        return LANGUAGE_MODULE in self.modules

    @cached_property
    def version(self) -> str:
        response = self._client.nodes.info(filter_path="nodes.*.version")
        versions = {node["version"] for node in response.get("nodes", {}).values()}
        return ",".join(sorted(versions))
