"""A stance set by hand (`spreadwatch stance set`) is what the measures and alerts read, and it
stands over re-crawls of the same words and over `reclassify` until it is unset."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from alerts_support import index_posts, post
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from indexer.connection import IndexNames
from indexer.reclassify import Labeller, reclassify
from indexer.scope import OFFICIAL_DENIAL
from indexer.stance_human import HumanLabelError, human_fields, set_label, unset_label
from indexer.writer import BulkWriter
from spreadwatch.cli import cli
from spreadwatch.incident import Incident
from spreadwatch.label_files import LabelFileError, LabelRow, read_labels
from spreadwatch.settings import Settings

T = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
ID = "aurora-air"
INCIDENT_FILE = f"""\
id: {ID}
title: Aurora Air fleet grounding rumour
window: {{start: {(T - timedelta(days=1)).isoformat()}}}
queries:
  - {{name: grounding, any: ["Aurora Air"]}}
claims:
  - {{name: fleet, patterns: ["whole fleet"]}}
official:
  organisation: Aurora Air
  accounts: [{{platform: mastodon, handle: auroraair}}]
"""
#: A large account's post the classifier read as a rumour; a person reads it as a report.
BIG = "mastodon:big"
BIG_TEXT = "Aurora Air grounded the whole fleet, the BBC says, and the airline says it did not"


@pytest.fixture
def incident(tmp_path: Path) -> Incident:
    path = tmp_path / f"{ID}.yml"
    path.write_text(INCIDENT_FILE, encoding="utf-8")
    from spreadwatch.incident import load_incident

    return load_incident(path)


def machine_post(native_id: str, text: str, **fields: Any) -> dict[str, Any]:
    values = {
        "platform": "mastodon",
        "author": {"id": native_id, "handle": native_id, "followers": 2_000_000},
        "matched": {"queries": ["grounding"], "claims": ["fleet"]},
        "stance": "rumour",
        "stance_confidence": 0.62,
        "stance_source": "model",
        "stance_model": "ngram-lr-test",
        "text": text,
        "first_seen": T.isoformat(),
        "last_seen": T.isoformat(),
        **fields,
    }
    return post(native_id, T, incident=ID, **values)


def stored(client: Elasticsearch, names: IndexNames, doc_id: str) -> dict[str, Any]:
    client.indices.refresh(index=names.posts)
    return client.get(index=names.posts, id=doc_id)["_source"]


def recrawl(client: Elasticsearch, names: IndexNames, tmp: Path, doc: dict[str, Any]) -> None:
    """The same post stored again by a crawl, a day later, with the classifier's label."""
    later = (T + timedelta(days=1)).isoformat()
    writer = BulkWriter(client, names, tmp / "spool")
    writer.add_post({k: v for k, v in doc.items() if k != "_id"} | {"last_seen": later})
    writer.close()


def test_a_label_set_by_hand_says_who_decided_and_what_the_classifier_had_said(
    es_client, index_names, incident
):
    index_posts(es_client, index_names, [machine_post("big", BIG_TEXT)])
    change = set_label(es_client, index_names, incident, BIG, "report", note="BBC relay")
    doc = stored(es_client, index_names, BIG)
    assert (change.before, change.after) == ("rumour", "report")
    assert (doc["stance"], doc["stance_source"], doc["stance_confidence"]) == (
        "report",
        "human",
        1.0,
    )
    assert doc["stance_cues"] == ["human", "note: BBC relay", "was: model rumour 0.62"]
    assert doc.get("stance_model") is None
    assert doc["claim_stances"] == ["fleet:report"]


def test_an_official_post_labelled_denial_by_hand_is_the_official_denial(
    es_client, index_names, incident
):
    statement = machine_post("auroraair-1", "Aurora Air: the whole fleet is flying today",
                             stance="other", stance_confidence=0.55,
                             author={"id": "a", "handle": "auroraair", "official": True})  # fmt: skip
    index_posts(es_client, index_names, [statement])
    query = {"query": OFFICIAL_DENIAL.to_dict()}
    assert es_client.count(index=index_names.posts, body=query)["count"] == 0
    set_label(es_client, index_names, incident, "mastodon:auroraair-1", "denial")
    assert es_client.count(index=index_names.posts, body=query)["count"] == 1


def test_a_recrawl_of_the_same_words_keeps_the_label(es_client, index_names, incident, tmp_path):
    doc = machine_post("big", BIG_TEXT)
    index_posts(es_client, index_names, [dict(doc)])
    set_label(es_client, index_names, incident, BIG, "report")
    recrawl(es_client, index_names, tmp_path, doc | {"engagement": {"likes": 5}})
    kept = stored(es_client, index_names, BIG)
    assert (kept["stance"], kept["stance_source"], kept["engagement"]) == ("report", "human", {"likes": 5})  # fmt: skip


def test_a_recrawl_that_finds_the_text_edited_gives_the_post_back_to_the_classifier(
    es_client, index_names, incident, tmp_path
):
    doc = machine_post("big", BIG_TEXT)
    index_posts(es_client, index_names, [dict(doc)])
    set_label(es_client, index_names, incident, BIG, "report")
    recrawl(
        es_client, index_names, tmp_path, doc | {"text": "Aurora Air grounded the whole fleet!"}
    )
    edited = stored(es_client, index_names, BIG)
    assert (edited["stance"], edited["stance_source"]) == ("rumour", "model")
    assert edited["versions"][0]["text"] == BIG_TEXT


def test_reclassify_keeps_a_label_set_by_hand_and_counts_it(es_client, index_names, incident):
    index_posts(es_client, index_names, [machine_post("big", BIG_TEXT),
                                         machine_post("small", "Aurora Air grounded the whole fleet")])  # fmt: skip
    set_label(es_client, index_names, incident, BIG, "other")
    result = reclassify(es_client, index_names, incident)
    assert result.human == 1
    assert stored(es_client, index_names, BIG)["stance"] == "other"
    assert stored(es_client, index_names, "mastodon:small")["stance_source"] == "lexicon"


def test_unset_gives_the_post_back_to_the_classifier(es_client, index_names, incident):
    index_posts(
        es_client, index_names, [machine_post("big", "Aurora Air grounded the whole fleet")]
    )
    set_label(es_client, index_names, incident, BIG, "other")
    relabel = Labeller(incident, None, es_client, index_names)
    change = unset_label(es_client, index_names, incident, BIG, relabel)
    doc = stored(es_client, index_names, BIG)
    assert (change.before, change.after) == ("other", "rumour")
    assert (doc["stance"], doc["stance_source"]) == ("rumour", "lexicon")


@pytest.mark.parametrize(
    ("post_id", "incident_of_post", "message"),
    [
        ("mastodon:nobody", ID, "no post 'mastodon:nobody'"),
        (BIG, "another-case", f"post {BIG!r} is not one of {ID}'s posts"),
    ],
)
def test_a_post_that_is_not_the_incidents_is_refused(  # noqa: PLR0917 (fixtures)
    es_client, index_names, incident, post_id, incident_of_post, message
):
    index_posts(es_client, index_names, [machine_post("big", BIG_TEXT) | {"incident": [incident_of_post]}])  # fmt: skip
    with pytest.raises(HumanLabelError, match=message):
        set_label(es_client, index_names, incident, post_id, "report")


def test_unset_of_a_label_no_person_set_is_refused(es_client, index_names, incident):
    index_posts(es_client, index_names, [machine_post("big", BIG_TEXT)])
    relabel = Labeller(incident, None, es_client, index_names)
    with pytest.raises(HumanLabelError, match="no label set by hand"):
        unset_label(es_client, index_names, incident, BIG, relabel)


def test_a_label_that_is_no_stance_is_refused() -> None:
    with pytest.raises(HumanLabelError, match="unknown stance 'fake'"):
        human_fields("fake", {}, None)


def test_a_second_label_by_hand_remembers_what_the_classifier_said() -> None:
    first = human_fields("report", {"stance": "rumour", "stance_source": "lexicon"}, None)
    assert human_fields("other", first, None)["stance_cues"] == ["human", "was: lexicon rumour"]


# ------------------------------------------------------------------------------------ the CLI


def run(names: IndexNames, settings: Settings, *args: str):  # type: ignore[no-untyped-def]
    env = {
        "SPREADWATCH_INDEX_PREFIX": names.prefix,
        "SPREADWATCH_DATA_DIR": str(settings.data_dir),
        "SPREADWATCH_ES_URL": settings.es_url or "",
        "SPREADWATCH_STANCE_MODEL": "false",
    }
    return CliRunner().invoke(cli, list(args), env=env)


def test_the_cli_sets_and_unsets_a_label(es_client, es_settings, index_names, tmp_path, incident):
    index_posts(es_client, index_names, [machine_post("big", BIG_TEXT)])
    where = ["--incidents-dir", str(tmp_path)]
    done = run(
        index_names, es_settings, "stance", "set", ID, BIG, "report", "--note", "BBC", *where
    )
    assert (done.exit_code, done.output) == (0, f"{BIG}: stance rumour (model) -> report (set by hand)\n")  # fmt: skip
    listed = run(index_names, es_settings, "search", "stance_source:human", "--incident", ID,
                 "--format", "json")  # fmt: skip
    assert [row["id"] for row in json.loads(listed.output)["posts"]] == [BIG]
    undone = run(index_names, es_settings, "stance", "unset", ID, BIG, *where)
    assert undone.exit_code == 0, undone.output
    assert undone.output.startswith(f"{BIG}: stance report (set by hand) -> ")
    assert stored(es_client, index_names, BIG)["stance_source"] == "lexicon"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", ID, "mastodon:nobody", "report"], "no post 'mastodon:nobody'"),
        (["set", ID, BIG, "fake"], "fake"),
        (["unset", ID, BIG], "no label set by hand"),
    ],
)
def test_the_cli_refuses_what_cannot_be_done_with_a_usage_error(  # noqa: PLR0917 (fixtures)
    es_client, es_settings, index_names, tmp_path, incident, args, message
):
    index_posts(es_client, index_names, [machine_post("big", BIG_TEXT)])
    result = run(index_names, es_settings, "stance", *args, "--incidents-dir", str(tmp_path))
    assert result.exit_code == 2
    assert message in result.output


# ------------------------------------------------------------------ a reviewed export, imported


def _two_posts(client: Elasticsearch, names: IndexNames) -> None:
    index_posts(client, names, [machine_post("big", BIG_TEXT),
                                machine_post("small", "Aurora Air grounded the whole fleet")])  # fmt: skip


def test_a_reviewed_csv_export_sets_only_the_corrected_rows(
    es_client, es_settings, index_names, tmp_path, incident
):
    _two_posts(es_client, index_names)
    export = tmp_path / "review.csv"
    done = run(index_names, es_settings, "search", "*", "--incident", ID, "--out", str(export))
    assert done.exit_code == 0, done.output
    with export.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:  # the reviewer corrects the large account's post and says why
        row["note"] = "relays the BBC" if row["id"] == BIG else ""
        row["stance"] = "report" if row["id"] == BIG else row["stance"]
    with export.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = run(index_names, es_settings, "stance", "import", ID, str(export),
                 "--incidents-dir", str(tmp_path))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "1 set by hand, 1 unchanged, 0 refused"
    human = {"query": {"term": {"stance_source": "human"}}}
    assert es_client.count(index=index_names.posts, body=human)["count"] == 1  # searchable at once
    big, small = (stored(es_client, index_names, f"mastodon:{n}") for n in ("big", "small"))
    assert (big["stance"], big["stance_source"], big["stance_cues"][1]) == ("report", "human", "note: relays the BBC")  # fmt: skip
    assert (small["stance"], small["stance_source"]) == ("rumour", "model")


def test_a_reviewed_xlsx_export_is_read_as_the_csv_is(
    es_client, es_settings, index_names, tmp_path, incident
):
    _two_posts(es_client, index_names)
    export = tmp_path / "review.xlsx"
    done = run(index_names, es_settings, "search", "*", "--incident", ID, "--format", "xlsx",
               "--out", str(export))  # fmt: skip
    assert done.exit_code == 0, done.output
    book = openpyxl.load_workbook(export)
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    for cells in sheet.iter_rows(min_row=2):
        if cells[header.index("id")].value == BIG:
            cells[header.index("stance")].value = "other"
    book.save(export)
    result = run(index_names, es_settings, "stance", "import", ID, str(export),
                 "--incidents-dir", str(tmp_path))  # fmt: skip
    assert result.output.splitlines()[-1] == "1 set by hand, 1 unchanged, 0 refused"
    assert stored(es_client, index_names, BIG)["stance"] == "other"


def import_jsonl(names: IndexNames, settings: Settings, folder: Path, records: list[dict]):  # type: ignore[no-untyped-def]
    """`spreadwatch stance import` of a JSONL file holding `records`, one a line."""
    labels = folder / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return run(names, settings, "stance", "import", ID, str(labels), "--incidents-dir", str(folder))


def test_a_row_that_cannot_be_set_is_listed_and_the_others_are_still_set(
    es_client, es_settings, index_names, tmp_path, incident
):
    _two_posts(es_client, index_names)
    records = [{"id": "mastodon:gone", "label": "denial"}, {"id": BIG, "stance": "Report"}]
    result = import_jsonl(index_names, es_settings, tmp_path, records)
    assert result.exit_code == 1
    assert "labels.jsonl row 1: not set: no post 'mastodon:gone'" in result.stderr
    assert result.stdout.splitlines()[-1] == "1 set by hand, 0 unchanged, 1 refused"
    assert stored(es_client, index_names, BIG)["stance"] == "report"


def test_a_file_with_one_bad_row_writes_nothing(
    es_client, es_settings, index_names, tmp_path, incident
):
    _two_posts(es_client, index_names)
    records = [{"id": BIG, "label": "report"}, {"id": "mastodon:small", "label": "fake news"}]
    result = import_jsonl(index_names, es_settings, tmp_path, records)
    assert result.exit_code == 2
    assert "labels.jsonl row 2: 'fake news' is no stance" in result.output
    assert stored(es_client, index_names, BIG)["stance_source"] == "model"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("labels.txt", b"id,stance\nx,report\n", "a file of labels is one of .csv"),
        ("labels.csv", b"id,stance\n,report\n", "labels.csv row 2: a label without a post id"),
        ("labels.csv", b"id,stance\n\xff\xfe,report\n", "not UTF-8 text"),
        ("labels.csv", b"id,stance\n,\n", "no row with an id and a label"),
        ("labels.jsonl", b"[1, 2]\n", "labels.jsonl:1: a line must be a JSON object"),
        ("labels.jsonl", b'{"id": "a:1", "label": "rumour"\n', "labels.jsonl:1: not JSON"),
        ("labels.xlsx", b"not a workbook", "not a workbook"),
    ],
)
def test_a_file_that_is_no_file_of_labels_is_refused_naming_the_row(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LabelFileError, match=re.escape(message)):
        read_labels(path)


def test_blank_rows_of_a_spreadsheet_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("id,stance,note\n\na:1, Denial ,official reply\n,,\n", encoding="utf-8")
    assert read_labels(path) == [LabelRow("labels.csv row 3", "a:1", "denial", "official reply")]


@pytest.mark.parametrize(
    "content",
    [
        "id;stance;note\na:1;Denial;official reply\n",  # Excel where the comma is the decimal mark
        "id\tstance\tnote\na:1\tdenial\tofficial reply\n",
        "\ufeffid,stance,note\na:1,denial,official reply\n",
    ],
)
def test_a_csv_is_read_whatever_its_spreadsheet_separated_columns_with(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(content, encoding="utf-8")
    assert read_labels(path) == [LabelRow("labels.csv row 2", "a:1", "denial", "official reply")]


@pytest.mark.parametrize(
    ("content", "missing"),
    [
        ("post,stance\na:1,denial\n", "no id column (its columns: 'post', 'stance')"),
        ("id,verdict\na:1,denial\n", "no stance or label column"),
    ],
)
def test_a_table_without_the_columns_says_which_it_lacks(
    tmp_path: Path, content: str, missing: str
) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelFileError, match=re.escape(missing)):
        read_labels(path)


def test_an_id_cut_by_the_search_table_is_named_as_such(es_client, index_names, incident):
    with pytest.raises(HumanLabelError, match="it looks cut"):
        set_label(es_client, index_names, incident, "github:repo:justicefighter110/byte…", "other")


@pytest.mark.parametrize(
    ("head", "exit_code", "said", "source"),
    [("true", 0, f"{ID}: labelled 1 with ngram-lr-", "model"),
     ("false", 1, "no learned stance head to label with", "lexicon")],
)  # fmt: skip
def test_the_cli_labels_what_waits_for_the_head(  # noqa: PLR0917 - fixtures and cases
    es_client, es_settings, index_names, tmp_path, incident, head, exit_code, said, source
):
    waiting = machine_post("a", BIG_TEXT, stance_source="lexicon", stance_model="lexicon-3",
                           stance_pending=True)  # fmt: skip
    index_posts(es_client, index_names, [waiting])
    env = {"SPREADWATCH_INDEX_PREFIX": index_names.prefix, "SPREADWATCH_ES_URL": es_settings.es_url or "",
           "SPREADWATCH_DATA_DIR": str(es_settings.data_dir), "SPREADWATCH_STANCE_MODEL": head}  # fmt: skip
    done = CliRunner().invoke(
        cli, ["stance", "label", ID, "--incidents-dir", str(tmp_path)], env=env
    )
    assert done.exit_code == exit_code, done.output
    assert said in done.output
    doc = stored(es_client, index_names, "mastodon:a")
    assert (doc["stance_source"], doc["stance_pending"]) == (source, head == "false")
