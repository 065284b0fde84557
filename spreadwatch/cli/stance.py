"""`spreadwatch stance eval`: how well stance labelling does on a sample someone labelled."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import click

from spreadwatch.cli.context import EXIT_BAD_INPUT, echo_error, format_option, incidents_dir_option
from spreadwatch.cli.params import Name

if TYPE_CHECKING:
    from spreadwatch.incident import Incident


@click.group("stance")
def stance() -> None:
    """Stance labelling: evaluate it on posts you labelled."""


@stance.command("eval")
@click.argument("labelled", metavar="FILE.jsonl", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--incident",
    "incident_ref",
    metavar="INCIDENT",
    help="Match claims with this incident's file (id or path); by default each line's own "
    "`incident`, looked up in --incidents-dir.",
)
@click.option(
    "--classifier",
    type=Name(("auto", "model", "lexicon"), "classifier"),
    default="auto",
    show_default=True,
    help="auto: the learned model when one is installed, else the lexicon rules.",
)
@click.option(
    "--misses",
    "show_misses",
    is_flag=True,
    help="Also list every post labelled other than its gold label: its line, the label given, "
    "how sure, the claims it matched, the cues (the JSON always carries them).",
)
@incidents_dir_option
@format_option("table", "json", help="Markdown tables for people, or JSON for scripts.")
def evaluate(
    labelled: Path,
    *,
    incident_ref: str | None,
    classifier: str,
    show_misses: bool,
    incidents_dir: Path,
    fmt: str,
) -> None:
    """Score the stance classifier on FILE.jsonl: one JSON object a line with `text` and its
    gold `label` (rumour, denial, debunk, report, other; also read as `gold`), and
    optionally `parent` (the text it replies to or quotes; also `parent_text`), `lang`,
    `platform`, `kind`, `domain`, `official`, `incident`.

    Prints the confusion matrix, per-class precision/recall/F1, macro-F1, and the same per
    language; with --misses, each post labelled wrong and why. A malformed line is an error
    naming it: nothing is skipped.
    """
    from indexer import stance_eval
    from spreadwatch.incident import ConfigFileError, resolve_incident

    if not labelled.is_file():
        echo_error(f"{labelled}: no such file")
        raise SystemExit(EXIT_BAD_INPUT)
    try:
        posts = stance_eval.read_labelled(labelled)
        incident = resolve_incident(incident_ref, [incidents_dir]) if incident_ref else None
    except (stance_eval.EvalFileError, ConfigFileError) as error:
        echo_error(str(error))
        raise SystemExit(EXIT_BAD_INPUT) from None

    unknown: set[str] = set()

    @cache
    def find(incident_id: str) -> Incident | None:
        if not incident_id:
            return None
        try:
            return resolve_incident(incident_id, [incidents_dir])
        except ConfigFileError:
            unknown.add(incident_id)
            return None

    inputs = stance_eval.inputs_for(posts, incident, find)
    if unknown:  # a mistyped folder must not silently change the figures
        click.echo(
            f"warning: no incident file in {incidents_dir} for {', '.join(sorted(unknown))}: "
            "those posts were scored without their incident's claims (see --incidents-dir)",
            err=True,
        )
    try:
        name, predict = stance_eval.predictor(classifier)
    except stance_eval.NoModelError as error:
        echo_error(str(error))
        raise SystemExit(EXIT_BAD_INPUT) from None
    result = stance_eval.evaluate(posts, inputs, predict, name)
    if fmt == "json":
        click.echo(stance_eval.as_json(result))
        return
    click.echo(stance_eval.table(result))
    if show_misses:
        click.echo("\n" + stance_eval.misses_table(result))


commands = [stance]
