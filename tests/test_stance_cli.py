"""`spreadwatch stance eval` on files written for the test; expected figures worked out by hand
from each post's obvious lexicon label (see the comments), not from the code under test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.stance_eval import SCHEMES, read_labelled, stance_input
from spreadwatch.cli import cli
from spreadwatch.names import LABEL_SCHEMES

DATA = Path(__file__).parent / "data" / "stance"
INCIDENTS = Path(__file__).resolve().parent.parent / "data" / "stance"


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["stance", "eval", *args])


def test_json_figures_match_a_hand_count():
    # predicted: denial (denies), other (no cue), rumour (leaked), other, debunk (doctored)
    result = run(str(DATA / "small.jsonl"), "--format", "json", "--classifier", "lexicon")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    overall = figures["overall"]
    assert (overall["posts"], overall["accuracy"]) == (5, 0.8)
    denial, other = overall["classes"]["denial"], overall["classes"]["other"]
    assert (denial["precision"], denial["recall"], denial["f1"]) == (1.0, 0.5, 0.6667)
    assert (other["precision"], other["recall"], other["f1"]) == (0.5, 1.0, 0.6667)
    # classes present: denial, rumour, other, debunk (report neither labelled nor predicted)
    assert overall["macro_f1"] == round((2 / 3 + 1 + 2 / 3 + 1) / 4, 4)
    assert overall["confusion"]["denial"] == {
        "rumour": 0, "denial": 1, "debunk": 0, "report": 0, "other": 1,
    }  # fmt: skip
    assert {k: (v["posts"], v["macro_f1"]) for k, v in figures["languages"].items()} == {
        "de": (1, 0.0),
        "en": (4, 1.0),
    }


def test_the_table_shows_the_matrix_and_each_language():
    result = run(str(DATA / "small.jsonl"), "--classifier", "lexicon")
    assert result.exit_code == 0, result.output
    assert "posts 5 · accuracy 0.80 · macro-F1 0.83" in result.output
    assert "| denial | 0 | 1 | 0 | 0 | 1 |" in result.output
    assert "| de | 1 | 0.00 | 0.00 |" in result.output


def test_each_figure_stands_beside_always_answering_the_most_common_gold_label():
    # gold: denial 2, rumour 1, other 1, debunk 1 -> always denial: 2 of 5 right; its F1
    # 2·0.4·1/(0.4+1), the other three labelled classes 0 -> macro-F1 over four classes.
    # de: one denial, always denial is right. en: a four-way tie goes to rumour (first label):
    # 1 of 4 right, F1 2·0.25/1.25 over four classes.
    figures = json.loads(
        run(str(DATA / "small.jsonl"), "--format", "json", "--classifier", "lexicon").output
    )
    assert figures["overall"]["baseline"] == {
        "label": "denial", "accuracy": 0.4, "macro_f1": round(0.8 / 1.4 / 4, 4),
    }  # fmt: skip
    assert {k: v["baseline"] for k, v in figures["languages"].items()} == {
        "de": {"label": "denial", "accuracy": 1.0, "macro_f1": 1.0},
        "en": {"label": "rumour", "accuracy": 0.25, "macro_f1": round(0.5 / 1.25 / 4, 4)},
    }


def test_the_table_says_what_always_answering_the_most_common_label_scores():
    result = run(str(DATA / "small.jsonl"), "--classifier", "lexicon")
    assert "always `denial` (the most common gold label): accuracy 0.40 · macro-F1 0.14" in (
        result.output
    )
    assert "| en | 4 | 1.00 | 1.00 | rumour 0.25 |" in result.output


def test_rumoureval_labels_are_scored_as_support_deny_other():
    # the lexicon: denial (denies), other, rumour (heard … leaked), other, debunk (doctored);
    # read as support / deny / other: deny, other, support, other, deny. Gold comment, query,
    # support, comment, deny -> other, other, support, other, deny: 4 of 5, the first missed.
    # support P1 R1; deny P1/2 R1 (F1 2/3); other P1 R2/3 (F1 0.8). Always other: 3 of 5.
    result = run(
        str(DATA / "rumoureval-small.jsonl"), "--labels", "rumoureval",
        "--format", "json", "--classifier", "lexicon",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert (figures["labels"], figures["classes"]) == ("rumoureval", ["support", "deny", "other"])
    overall = figures["overall"]
    assert (overall["accuracy"], overall["macro_f1"]) == (0.8, round((1 + 2 / 3 + 0.8) / 3, 4))
    assert overall["confusion"]["other"] == {"support": 0, "deny": 1, "other": 2}
    assert overall["baseline"] == {
        "label": "other", "accuracy": 0.6, "macro_f1": round(1.2 / 1.6 / 3, 4),
    }  # fmt: skip
    assert [(m["line"], m["gold"], m["predicted"]) for m in figures["misses"]] == [
        (1, "comment", "denial")
    ]


def test_the_rumoureval_table_says_how_each_label_is_read():
    result = run(str(DATA / "rumoureval-small.jsonl"), "--labels", "rumoureval",
                 "--classifier", "lexicon")  # fmt: skip
    assert "gold support → support; deny → deny; query and comment → other" in result.output
    assert "rumour → support; denial and debunk → deny; report and other → other" in (result.output)
    assert "| gold \\ predicted | sup | den | oth |" in result.output


@pytest.mark.parametrize(
    ("labels", "file_label", "said"),
    [
        ("spreadwatch", "deny", "(a rumoureval label: read the file with --labels rumoureval)"),
        ("rumoureval", "rumour", "is not one of support, deny, query, comment"),
        ("rumoureval", "rumour", "(a spreadwatch label: read the file with --labels spreadwatch)"),
    ],
)
def test_a_label_of_the_other_scheme_is_an_error_naming_the_line(
    tmp_path: Path, labels: str, file_label: str, said: str
):
    labelled = tmp_path / "x.jsonl"
    labelled.write_text(json.dumps({"text": "no", "label": file_label}) + "\n", encoding="utf-8")
    result = run(str(labelled), "--labels", labels, "--classifier", "lexicon")
    assert result.exit_code != 0
    assert f"x.jsonl:1: label '{file_label}'" in result.output and said in result.output


def test_claims_of_the_incident_are_matched(tmp_path: Path):
    labelled = tmp_path / "x.jsonl"
    labelled.write_text(
        json.dumps({"text": "Es gab keine Festnahme", "lang": "de", "label": "denial"}) + "\n",
        encoding="utf-8",
    )
    incident = str(INCIDENTS / "xinghe-battery.yml")
    with_claims = json.loads(run(str(labelled), "--incident", incident, "--format", "json",
                                 "--classifier", "lexicon").output)  # fmt: skip
    without = json.loads(run(str(labelled), "--format", "json", "--classifier", "lexicon").output)
    assert (with_claims["overall"]["accuracy"], without["overall"]["accuracy"]) == (1.0, 0.0)


def test_posts_naming_an_incident_the_folder_lacks_are_scored_with_a_warning(tmp_path: Path):
    labelled = tmp_path / "x.jsonl"
    post = {"text": "Es gab keine Festnahme", "lang": "de", "label": "denial"}
    labelled.write_text(json.dumps({**post, "incident": "xinghe-battery"}) + "\n", "utf-8")
    found = run(str(labelled), "--incidents-dir", str(INCIDENTS), "--classifier", "lexicon")
    lacking = run(str(labelled), "--incidents-dir", str(tmp_path), "--classifier", "lexicon")
    assert (found.exit_code, lacking.exit_code) == (0, 0)
    assert "warning" not in found.stderr
    assert f"warning: no incident file in {tmp_path} for xinghe-battery" in lacking.stderr
    assert "accuracy 1.00" in found.stdout and "accuracy 0.00" in lacking.stdout


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "x", "label": "maybe"}', ":2: label 'maybe' is not one of"),
        ("not json", ":2: not JSON"),
        ('{"label": "other"}', ":2: no text"),
        ('{"text": "x", "stance": "other"}', ":2: no label (a `label` or `gold` key"),
        ("[1, 2]", ":2: a line must be a JSON object"),
        ('{"text": "x", "label": "other", "gold": "denial"}', ":2: label and gold disagree"),
    ],
)
def test_a_bad_line_is_an_error_naming_it(tmp_path: Path, line: str, message: str):
    labelled = tmp_path / "bad.jsonl"
    labelled.write_text('{"text": "ok", "label": "other"}\n' + line + "\n", encoding="utf-8")
    result = run(str(labelled))
    assert result.exit_code == 2
    assert message in result.output


def test_a_file_in_another_encoding_is_an_error_naming_its_line(tmp_path: Path):
    labelled = tmp_path / "gbk.jsonl"
    lines = ['{"text": "ok", "label": "other"}', '{"text": "字节跳动否认", "label": "denial"}']
    labelled.write_bytes("\n".join(lines).encode("gbk"))
    result = run(str(labelled))
    assert result.exit_code == 2
    assert f"{labelled}:2: not UTF-8" in result.output


def test_a_missing_file_is_a_usage_error(tmp_path: Path):
    result = run(str(tmp_path / "none.jsonl"))
    assert (result.exit_code, "no such file" in result.output) == (2, True)


@pytest.mark.parametrize(
    "rename",
    [
        {"label": "gold"},
        {"parent": "parent_text"},
    ],
    ids=["gold", "parent_text"],
)
def test_other_tools_field_names_give_the_same_figures(tmp_path: Path, rename: dict[str, str]):
    """A sample labelled with another tool's field names scores as the canonical file does."""
    records = [
        {"parent": "the post it answers", **json.loads(line)}
        for line in (DATA / "small.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    canonical = [json.dumps(record) for record in records]
    renamed = [json.dumps({rename.get(k, k): v for k, v in r.items()}) for r in records]
    files = {"canonical": canonical, "renamed": renamed}
    figures = {}
    for name, lines in files.items():
        (tmp_path / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = run(str(tmp_path / f"{name}.jsonl"), "--format", "json", "--classifier", "lexicon")
        assert result.exit_code == 0, result.output
        figures[name] = json.loads(result.output)
    assert figures["renamed"] == figures["canonical"]


def test_a_search_exports_stance_beside_the_gold_label_is_not_read_as_gold(tmp_path: Path):
    """The workflow of a team: export a sample with `spreadwatch search`, add the gold label."""
    labelled = tmp_path / "export.jsonl"
    record = {"text": "He denies it.", "stance": "other", "label": "denial"}
    labelled.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = run(str(labelled), "--format", "json", "--classifier", "lexicon")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["overall"]["classes"]["denial"]["support"] == 1


def test_a_label_is_read_whatever_its_case_and_spaces(tmp_path: Path):
    labelled = tmp_path / "x.jsonl"
    labelled.write_text(json.dumps({"text": "He denies it.", "label": " Denial "}) + "\n",
                        encoding="utf-8")  # fmt: skip
    figures = json.loads(run(str(labelled), "--format", "json", "--classifier", "lexicon").output)
    assert figures["overall"]["classes"]["denial"]["support"] == 1


def test_a_file_saved_with_a_byte_order_mark_scores_as_without_it(tmp_path: Path):
    """Notepad's and PowerShell's "UTF-8" (and this tool's own CSV) start with a BOM."""
    text = (DATA / "small.jsonl").read_text(encoding="utf-8")
    figures = []
    for name, encoding in (("plain.jsonl", "utf-8"), ("bom.jsonl", "utf-8-sig")):
        (tmp_path / name).write_text(text, encoding=encoding)
        result = run(str(tmp_path / name), "--format", "json", "--classifier", "lexicon")
        assert result.exit_code == 0, result.output
        figures.append(json.loads(result.output))
    assert figures[1] == figures[0]


def test_parent_text_reaches_the_classifier(tmp_path: Path):
    labelled = tmp_path / "x.jsonl"
    record = {"text": "false!", "label": "denial", "parent_text": "X leaked"}
    labelled.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (post,) = read_labelled(labelled)
    assert stance_input(post.record, None).parent_text == "X leaked"


def test_json_lists_each_miss_with_its_line_and_reasons():
    # the lexicon misses one post of small.jsonl: line 2, "Popcorn bereit" (no cue → other)
    result = run(str(DATA / "small.jsonl"), "--format", "json", "--classifier", "lexicon")
    misses = json.loads(result.output)["misses"]
    assert misses == [
        {
            "line": 2, "id": None, "lang": "de", "gold": "denial", "predicted": "other",
            "confidence": misses[0]["confidence"], "source": "lexicon", "claims": [],
            "cues": misses[0]["cues"], "text": "Popcorn bereit", "parent": None,
        }
    ]  # fmt: skip


def test_a_miss_names_the_claims_it_matched(tmp_path: Path):
    # "angeblich" hedges the arrest claim: the lexicon reads a rumour, the team says denial
    labelled = tmp_path / "x.jsonl"
    record = {"id": "p-7", "text": "Angeblich wurde der CEO festgenommen", "lang": "de",
              "label": "denial", "parent": "Stimmt das?"}  # fmt: skip
    labelled.write_text(json.dumps(record) + "\n", encoding="utf-8")
    incident = str(INCIDENTS / "xinghe-battery.yml")
    result = run(str(labelled), "--incident", incident, "--format", "json",
                 "--classifier", "lexicon")  # fmt: skip
    (miss,) = json.loads(result.output)["misses"]
    assert (miss["id"], miss["predicted"], miss["claims"], miss["parent"]) == (
        "p-7", "rumour", ["arrest"], "Stimmt das?",
    )  # fmt: skip


@pytest.mark.parametrize(("flag", "listed"), [((), False), (("--misses",), True)])
def test_the_tables_list_the_misses_only_when_asked(flag: tuple[str, ...], listed: bool):
    result = run(str(DATA / "small.jsonl"), "--classifier", "lexicon", *flag)
    assert result.exit_code == 0, result.output
    assert ("misses: 1 of 5 posts" in result.output) is listed
    assert ("| 2 | de | denial | other |" in result.output) is listed


def test_a_missed_posts_hostile_text_is_one_escaped_row(tmp_path: Path):
    labelled = tmp_path / "x.jsonl"
    text = "a | b\n\n# big\n[click](https://evil.example) \u202emoc.elgoog <b>x</b>"
    labelled.write_text(
        json.dumps({"text": text, "lang": "en", "label": "report"}) + "\n", encoding="utf-8"
    )
    result = run(str(labelled), "--classifier", "lexicon", "--misses")
    assert result.exit_code == 0, result.output
    (row,) = [line for line in result.output.splitlines() if line.startswith("| 1 |")]
    # the override is shown as the escape `\u202e`, its backslash escaped in turn
    assert row.endswith(
        "| a \\| b # big \\[click\\](https://evil.example) \\\\u202emoc.elgoog \\<b\\>x\\</b\\> |"
    )
    assert "\u202e" not in result.output


def test_the_option_offers_every_scheme_the_library_scores():
    assert tuple(SCHEMES) == LABEL_SCHEMES
