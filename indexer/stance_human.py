"""Stance labels set by a person, which no classifier run overwrites.

The incident's measures rest on a few posts: the reach ratio weighs each post by its author's
followers, so one large account read the wrong way moves it more than a thousand small ones, and
the official-denial alert fires on one post. A comms team that sees such a post mislabelled sets
its label by hand (`spreadwatch stance set`); the label has `stance_source` "human", confidence
1, and cues that say who decided and what the classifier had said. It stands:

- a re-crawl of the same words keeps it (`indexer.merge.merge_post`); a re-crawl that finds the
  text edited drops it, since the person judged other words;
- `spreadwatch reclassify` keeps it (`indexer.reclassify`);
- `spreadwatch stance unset` gives the post back to the classifier.

`spreadwatch stance import` sets many at once from a reviewed export (`import_labels`).

The write is conditional on the version read, as every other writer's is, so a crawl storing the
post meanwhile is never undone: the person is told to try again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from indexer.claims import with_claim_stances
from indexer.connection import IndexNames
from indexer.documents import HUMAN, PENDING, STANCE_FIELDS, STANCES, is_human
from spreadwatch.incident import Incident

#: The cue that marks a human label; the others say what the classifier had said.
HUMAN_CUE = "human"


class HumanLabelError(ValueError):
    """A label that cannot be set or unset as asked (no such post, not of the incident, …)."""


@dataclass(frozen=True)
class LabelChange:
    post_id: str
    before: str | None
    before_source: str | None
    after: str
    after_source: str


def human_fields(label: str, previous: dict[str, Any], note: str | None) -> dict[str, Any]:
    """The stance fields of a label set by a person over `previous` (the stored post)."""
    if label not in STANCES:
        raise HumanLabelError(f"unknown stance {label!r}; one of: {', '.join(STANCES)}")
    was = _machine_label(previous)
    cues = [HUMAN_CUE]
    if note:
        cues.append(f"note: {note.strip()}")
    if was:
        cues.append(f"was: {was}")
    return {
        "stance": label,
        "stance_confidence": 1.0,
        "stance_source": HUMAN,
        "stance_cues": cues,
        "stance_model": None,
    }


def _machine_label(previous: dict[str, Any]) -> str | None:
    """What the classifier had said (or, over an earlier human label, what it had said then)."""
    if is_human(previous):
        return next(
            (
                cue[len("was: ") :]
                for cue in previous.get("stance_cues") or []
                if cue.startswith("was: ")
            ),
            None,
        )
    if not previous.get("stance"):
        return None
    source = previous.get("stance_source") or "unknown"
    confidence = previous.get("stance_confidence")
    sure = f" {confidence:.2f}" if isinstance(confidence, int | float) else ""
    return f"{source} {previous['stance']}{sure}"


def set_label(
    client: Elasticsearch,
    names: IndexNames,
    incident: Incident,
    post_id: str,
    label: str,
    *,
    note: str | None = None,
) -> LabelChange:
    """Set `post_id`'s stance to `label` by hand; the measures and alerts read it from now on."""
    stored = _stored(client, names, incident, post_id)
    return _set_on(client, names, incident, stored, label=label, note=note)


class Labelled(Protocol):
    """A row of a file of labels (`spreadwatch.label_files.LabelRow`)."""

    @property
    def where(self) -> str: ...
    @property
    def post_id(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def note(self) -> str | None: ...


@dataclass
class ImportResult:
    changed: list[LabelChange] = field(default_factory=list)
    #: Rows whose label the post already had (a reviewed export's rows left as they were).
    unchanged: int = 0
    #: (row, why) for rows that could not be set: no such post, not the incident's, a conflict.
    refused: list[tuple[str, str]] = field(default_factory=list)


def import_labels(
    client: Elasticsearch, names: IndexNames, incident: Incident, rows: Sequence[Labelled]
) -> ImportResult:
    """Set by hand each row's label that differs from its post's stored one.

    A row whose label the post already has is left alone, so a reviewed export with a few
    corrections turns only those into labels set by hand; a row that cannot be set is refused
    with its reason and the others are still set.
    """
    result = ImportResult()
    try:
        for row in rows:
            try:
                stored = _stored(client, names, incident, row.post_id)
                if stored["_source"].get("stance") == row.label:
                    result.unchanged += 1
                    continue
                change = _set_on(
                    client, names, incident, stored, label=row.label, note=row.note, refresh=False
                )
                result.changed.append(change)
            except HumanLabelError as error:
                result.refused.append((row.where, str(error)))
    finally:  # one refresh for the whole file, not one per row
        if result.changed:
            client.indices.refresh(index=names.posts)
    return result


def _set_on(
    client: Elasticsearch,
    names: IndexNames,
    incident: Incident,
    stored: dict[str, Any],
    *,
    label: str,
    note: str | None,
    refresh: bool = True,
) -> LabelChange:
    source = stored["_source"]
    fields = human_fields(label, source, note)
    fields["claim_stances"] = with_claim_stances({**source, **fields}, incident)["claim_stances"]
    if source.get(PENDING):  # a person's label ends the wait for the head's
        fields[PENDING] = False
    _write(client, names, stored, fields, refresh)
    return LabelChange(
        stored["_id"], source.get("stance"), source.get("stance_source"), label, HUMAN
    )


def unset_label(
    client: Elasticsearch,
    names: IndexNames,
    incident: Incident,
    post_id: str,
    relabel: Callable[[list[dict[str, Any]]], None],
) -> LabelChange:
    """Give `post_id` back to the classifier: `relabel` (the reclassify labeller) sets its stance
    fields as the current classifier reads it."""
    stored = _stored(client, names, incident, post_id)
    source = stored["_source"]
    if not is_human(source):
        raise HumanLabelError(
            f"{post_id} has no label set by hand (its stance is the classifier's)"
        )
    doc = {**source, "stance_source": None}
    relabel([doc])
    fields = {name: doc.get(name) for name in STANCE_FIELDS}
    fields["claim_stances"] = doc.get("claim_stances") or None
    _write(client, names, stored, fields)
    return LabelChange(post_id, source.get("stance"), HUMAN, doc["stance"], doc["stance_source"])


def _stored(
    client: Elasticsearch, names: IndexNames, incident: Incident, post_id: str
) -> dict[str, Any]:
    try:
        found = client.get(index=names.posts, id=post_id)
    except NotFoundError:
        cut = (
            " (it looks cut: the search table shortens long ids, `--format json` shows them whole)"
        )
        hint = cut if post_id.endswith("…") else ""
        raise HumanLabelError(f"no post {post_id!r} in {names.posts}{hint}") from None
    incidents = found["_source"].get("incident") or []
    if incident.id not in (incidents if isinstance(incidents, list) else [incidents]):
        raise HumanLabelError(f"post {post_id!r} is not one of {incident.id}'s posts")
    return dict(found)


def _write(
    client: Elasticsearch,
    names: IndexNames,
    stored: dict[str, Any],
    fields: dict[str, Any],
    refresh: bool = True,
) -> None:
    try:
        client.update(
            index=names.posts,
            id=stored["_id"],
            doc=fields,
            if_seq_no=stored["_seq_no"],
            if_primary_term=stored["_primary_term"],
            refresh=refresh,
        )
    except ConflictError:
        raise HumanLabelError(
            f"{stored['_id']} was written by a crawl while its label was being set; try again"
        ) from None
