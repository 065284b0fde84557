"""The one place an Elasticsearch client is made.

No `SPREADWATCH_ES_URL` means the embedded node (started on demand), or the local cluster of
`spreadwatch es start --nodes N` while one runs; otherwise the configured cluster — one URL or a
comma-separated list of nodes, tried in turn when one is down — with an API key or basic auth
and the CA/verification settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from elastic_transport import NodeConfig
from elastic_transport.client_utils import url_to_node_config
from elasticsearch import ApiError, Elasticsearch, TransportError

from indexer import cluster, embedded
from spreadwatch.settings import Settings, without_password

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

    @property
    def state(self) -> str:
        return f"{self.prefix}-state"

    def all(self) -> list[str]:
        return [self.posts, self.activity, self.runs, self.alerts, self.monitors, self.state]


#: A node that answers these is busy or between roles (a node left, a primary is moving):
#: the client tries the request again, on another node when it has several.
RETRY_STATUSES = (502, 503, 504)


def es_hosts(settings: Settings) -> list[str]:
    """The node URLs these settings point at (starting the embedded node if needed)."""
    return _hosts(settings)[0]


def _hosts(settings: Settings) -> tuple[list[str], bool]:
    """The node URLs, and whether they are the embedded node's."""
    if settings.es_urls:
        return settings.es_urls, False
    local = cluster.running_cluster(settings)
    if local is not None:
        return local.urls, False
    return [embedded.ensure_running(settings).url], True


def es_url(settings: Settings) -> str:
    """The same as one `SPREADWATCH_ES_URL` value (comma-separated), for a child's environment."""
    return ",".join(es_hosts(settings))


def make_client(settings: Settings, url: str | None = None) -> Elasticsearch:
    """A client for the configured cluster; checks it answers before handing it out."""
    hosts, embedded_node = (url.split(","), False) if url else _hosts(settings)
    target = ", ".join(without_password(host) for host in hosts)
    options: dict[str, Any] = {
        "request_timeout": settings.es_request_timeout,
        "retry_on_timeout": True,
        "retry_on_status": RETRY_STATUSES,
        "max_retries": max(3, len(hosts)),
    }
    if settings.es_api_key is not None:
        options["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        options["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if any(host.startswith("https") for host in hosts):
        options["verify_certs"] = settings.es_verify_certs
        if settings.es_ca_certs is not None:
            options["ca_certs"] = str(settings.es_ca_certs)
    if embedded_node:
        options["sniff_on_node_failure"] = True  # see _follow_embedded_node
    client = Elasticsearch(hosts, **options)
    if embedded_node:
        _follow_embedded_node(client, settings)
    _check_reachable(client, target)
    return client


def _follow_embedded_node(client: Elasticsearch, settings: Settings) -> None:
    """After a connection error, look the embedded node up again (`node.json`): a node that
    restarted on another port is found, and a long-lived client (the monitor's) keeps working.

    The transport's sniffing hook is the place elastic-transport offers for "where are the
    nodes now"; its default asks a live node, which is exactly what is missing here.
    """

    def where_is_the_node(_transport: Any, _options: Any) -> list[NodeConfig]:
        found = embedded.running_url(settings)
        return [url_to_node_config(found)] if found else []

    client.transport._sniff_callback = where_is_the_node


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


def cluster_health(client: Elasticsearch) -> dict[str, Any]:
    """The cluster's health as `status` shows it: colour, nodes, shards not yet assigned."""
    health = client.cluster.health()
    return {
        "status": health["status"],
        "number_of_nodes": health["number_of_nodes"],
        "number_of_data_nodes": health["number_of_data_nodes"],
        "unassigned_shards": health["unassigned_shards"],
        "active_shards_percent": health["active_shards_percent_as_number"],
    }


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
