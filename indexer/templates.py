"""Index templates, versioned indices behind aliases, and their idempotent set-up.

Every kind of record lives in `<prefix>-<kind>-v<N>` behind the alias `<prefix>-<kind>`. A
mapping change bumps N: set-up creates the new index, copies the documents across client-side
(the embedded distribution has no `_reindex`), and swaps the alias in one atomic call.
"""

from __future__ import annotations

import contextlib
import logging
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError, helpers

from indexer.connection import ClusterFeatures, IndexNames
from indexer.documents import DOCUMENTS, KEYWORD_MAX_CHARS, MAPPING_VERSIONS
from spreadwatch.settings import Settings

logger = logging.getLogger(__name__)

#: Language subfields of text fields when the cluster has the analysis-common module.
LANGUAGE_SUBFIELDS = {
    "en": {"type": "text", "analyzer": "english"},
    "de": {"type": "text", "analyzer": "german"},
    "cjk": {"type": "text", "analyzer": "cjk"},
}
LANGUAGE_TEXT_FIELDS = ("text", "title")


def mapping_for(kind: str, language_analyzers: bool = False) -> dict[str, Any]:
    """The index mapping of `kind`, from its Document class; every keyword field bounded."""
    mapping: dict[str, Any] = deepcopy(DOCUMENTS[kind]._doc_type.mapping.to_dict())
    properties = mapping["properties"]
    _bound_keywords(properties)
    properties["@timestamp"] = properties.pop("timestamp")
    if language_analyzers and kind == "posts":
        for field in LANGUAGE_TEXT_FIELDS:
            properties[field]["fields"] = deepcopy(LANGUAGE_SUBFIELDS)
    mapping["_meta"] = {
        "spreadwatch_mapping_version": MAPPING_VERSIONS[kind],
        "language_subfields": language_analyzers and kind == "posts",
    }
    return mapping


def _bound_keywords(properties: dict[str, Any]) -> None:
    """`ignore_above` on every keyword field that has none: a value longer than that is kept in
    the source but not indexed, instead of the whole document being refused (Lucene's term
    limit, "immense term") and replayed from the spool forever."""
    for field in properties.values():
        if field.get("type") == "keyword":
            field.setdefault("ignore_above", KEYWORD_MAX_CHARS)
        _bound_keywords(field.get("properties") or {})
        _bound_keywords(field.get("fields") or {})


def keyword_paths(kind: str) -> list[str]:
    """Dotted paths of the keyword fields of `kind` (what the ingest cuts to length)."""
    paths: list[str] = []

    def walk(properties: dict[str, Any], prefix: str) -> None:
        for name, field in properties.items():
            if field.get("type") == "keyword":
                paths.append(prefix + name)
            walk(field.get("properties") or {}, f"{prefix}{name}.")

    walk(DOCUMENTS[kind]._doc_type.mapping.to_dict()["properties"], "")
    return sorted(paths)


@dataclass(frozen=True)
class ShardLayout:
    """Primary shards of new indices and replicas of every index (`SPREADWATCH_ES_SHARDS`,
    `SPREADWATCH_ES_REPLICAS`). No replica count means 0 on one node and 1 as soon as a second
    node joins (`auto_expand_replicas`), so one node is green and a cluster survives a loss."""

    shards: int = 1
    replicas: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ShardLayout:
        return cls(shards=settings.es_shards, replicas=settings.es_replicas)

    def replica_settings(self) -> dict[str, Any]:
        if self.replicas is None:
            return {"auto_expand_replicas": "0-1"}
        return {"auto_expand_replicas": "false", "number_of_replicas": self.replicas}


def index_settings(kind: str, layout: ShardLayout | None = None) -> dict[str, Any]:
    return {
        "number_of_shards": (layout or ShardLayout()).shards,
        **(layout or ShardLayout()).replica_settings(),
        "refresh_interval": "1s",
        "mapping.total_fields.limit": 200,
    }


def concrete_index(alias: str, version: int) -> str:
    return f"{alias}-v{version}"


def _kind_aliases(names: IndexNames) -> dict[str, str]:
    return {
        "posts": names.posts,
        "activity": names.activity,
        "runs": names.runs,
        "alerts": names.alerts,
        "monitors": names.monitors,
        "state": names.state,
    }


def put_templates(
    client: Elasticsearch,
    names: IndexNames,
    language_analyzers: bool,
    layout: ShardLayout | None = None,
) -> None:
    for kind, alias in _kind_aliases(names).items():
        client.indices.put_index_template(
            name=alias,
            index_patterns=[f"{alias}-v*"],
            priority=200,
            template={
                "settings": index_settings(kind, layout),
                "mappings": mapping_for(kind, language_analyzers),
            },
            meta={"managed_by": "spreadwatch"},
        )


def init(
    client: Elasticsearch, names: IndexNames, layout: ShardLayout | None = None
) -> dict[str, str]:
    """Create or upgrade templates and indices; safe to run any number of times.

    `layout` (from the settings) also sets the replicas of existing indices; without one, the
    layout stored in the templates is kept. Returns what happened per alias: "created",
    "exists" or "migrated from vN".
    """
    features = ClusterFeatures(client)
    language = features.language_analyzers
    put_templates(client, names, language, layout or _stored_layout(client, names))
    outcome = {}
    for kind, alias in _kind_aliases(names).items():
        outcome[alias] = _ensure_index(client, kind, alias, MAPPING_VERSIONS[kind])
        if outcome[alias] == "exists":
            _add_new_fields(client, alias, mapping_for(kind, language))
            if layout is not None:
                client.indices.put_settings(index=alias, settings=layout.replica_settings())
    logger.info("indices ready: %s (language subfields: %s)", outcome, language)
    return outcome


def _ensure_index(client: Elasticsearch, kind: str, alias: str, version: int) -> str:
    target = concrete_index(alias, version)
    current = _alias_targets(client, alias)
    if current == [target]:
        return "exists"
    if not client.indices.exists(index=target):
        client.indices.create(index=target)
    if not current:
        client.indices.update_aliases(
            actions=[{"add": {"index": target, "alias": alias, "is_write_index": True}}]
        )
        return "created"
    _copy_documents(client, current, target)
    actions: list[dict[str, Any]] = [{"remove": {"index": old, "alias": alias}} for old in current]
    actions.append({"add": {"index": target, "alias": alias, "is_write_index": True}})
    client.indices.update_aliases(actions=actions)
    return f"migrated from {', '.join(current)}"


def _add_new_fields(client: Elasticsearch, alias: str, mapping: dict[str, Any]) -> None:
    """Additive mapping changes apply in place; a conflicting one needs a version bump."""
    try:
        client.indices.put_mapping(
            index=alias, properties=mapping["properties"], meta=mapping["_meta"]
        )
    except BadRequestError as error:
        raise RuntimeError(
            f"the mapping of {alias} changed incompatibly ({error.message}); "
            "bump its MAPPING_VERSIONS entry so init migrates it"
        ) from None


def _stored_layout(client: Elasticsearch, names: IndexNames) -> ShardLayout | None:
    """The layout a previous `init` with settings put in the posts template, if any."""
    try:
        found = client.indices.get_index_template(name=names.posts)["index_templates"]
    except NotFoundError:
        return None
    index = found[0]["index_template"]["template"].get("settings", {}).get("index", {})
    replicas = None
    if str(index.get("auto_expand_replicas", "false")) == "false":
        replicas = int(index.get("number_of_replicas", 1))
    return ShardLayout(int(index.get("number_of_shards", 1)), replicas)


def _alias_targets(client: Elasticsearch, alias: str) -> list[str]:
    try:
        return sorted(client.indices.get_alias(name=alias).keys())
    except NotFoundError:
        if client.indices.exists(index=alias):
            raise RuntimeError(
                f"{alias} is a concrete index, not an alias; rename or delete it, then run init"
            ) from None
        return []


def _copy_documents(client: Elasticsearch, sources: list[str], target: str) -> None:
    # Not helpers.reindex: it probes /_data_stream, which the integ-test distribution lacks.
    logger.info("migrating %s into %s", sources, target)
    hits = helpers.scan(client, index=",".join(sources), query={"query": {"match_all": {}}})
    actions = ({"_index": target, "_id": hit["_id"], "_source": hit["_source"]} for hit in hits)
    copied, errors = helpers.bulk(client, actions, chunk_size=1000, raise_on_error=False)
    if isinstance(errors, list) and errors:
        raise RuntimeError(f"migration into {target} refused {len(errors)} documents: {errors[0]}")
    client.indices.refresh(index=target)
    logger.info("migrated %s documents into %s", copied, target)


def delete_all(client: Elasticsearch, names: IndexNames) -> None:
    """Remove every index and template under a prefix (tests and `--reset`)."""
    for alias in names.all():
        existing = client.indices.get(index=f"{alias}-v*", allow_no_indices=True)
        if existing:
            client.indices.delete(index=",".join(existing.keys()))
        with contextlib.suppress(NotFoundError):
            client.indices.delete_index_template(name=alias)
