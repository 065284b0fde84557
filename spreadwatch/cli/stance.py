"""`spreadwatch stance eval`: how well stance labelling does on a sample someone labelled."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import click

from spreadwatch.cli.context import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    AppContext,
    echo_error,
    format_option,
    incidents_dir_option,
    indices_needed,
)
from spreadwatch.cli.params import Name
from spreadwatch.names import LABEL_SCHEMES, STANCES

if TYPE_CHECKING:
    from spreadwatch.incident import Incident


@click.group("stance")
def stance() -> None:
    """Stance labelling: evaluate it on posts you labelled; set labels by hand."""


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
@click.option(
    "--labels",
    "scheme_name",
    type=Name(LABEL_SCHEMES, "labels"),
    default="spreadwatch",
    show_default=True,
    help="The file's gold labels: spreadwatch's five, or RumourEval's reply stances (support, "
    "deny, query, comment), scored as support / deny / other with the classifier's labels read "
    "so (rumour → support; denial, debunk → deny; report, other → other).",
)
@incidents_dir_option
@format_option("table", "json", help="Markdown tables for people, or JSON for scripts.")
def evaluate(
    labelled: Path,
    *,
    incident_ref: str | None,
    classifier: str,
    show_misses: bool,
    scheme_name: str,
    incidents_dir: Path,
    fmt: str,
) -> None:
    """Score the stance classifier on FILE.jsonl: one JSON object a line with `text` and its
    gold `label` (rumour, denial, debunk, report, other; also read as `gold`), and
    optionally `parent` (the text it replies to or quotes; also `parent_text`), `lang`,
    `platform`, `kind`, `domain`, `official`, `incident`.

    Prints the confusion matrix, per-class precision/recall/F1, macro-F1, and the same per
    language, beside always answering the most common gold label; with --misses, each post
    labelled wrong and why. With --labels rumoureval the file holds RumourEval's reply stances
    (support, deny, query, comment), as real labelled tweets do. A malformed line is an error
    naming it: nothing is skipped.
    """
    from indexer import stance_eval
    from spreadwatch.incident import ConfigFileError, resolve_incident

    if not labelled.is_file():
        echo_error(f"{labelled}: no such file")
        raise SystemExit(EXIT_BAD_INPUT)
    try:
        scheme = stance_eval.SCHEMES[scheme_name]
        posts = stance_eval.read_labelled(labelled, scheme)
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
    result = stance_eval.evaluate(posts, inputs, predict, name, scheme)
    if fmt == "json":
        click.echo(stance_eval.as_json(result))
        return
    click.echo(stance_eval.table(result))
    if show_misses:
        click.echo("\n" + stance_eval.misses_table(result))


commands = [stance]


@stance.command("set")
@click.argument("incident", metavar="INCIDENT")
@click.argument("post_id", metavar="POST_ID")
@click.argument("label", type=Name(STANCES, "stance"))
@click.option("--note", help="Why (kept with the label, shown in its cues).")
@incidents_dir_option
@click.pass_obj
def set_label(  # noqa: PLR0917 - click passes the arguments and options by name
    app: AppContext,
    incident: str,
    post_id: str,
    label: str,
    note: str | None,
    incidents_dir: Path,
) -> None:
    """Set the stance of POST_ID (its id as `spreadwatch search --format json` shows it) to
    LABEL by hand: rumour, denial, debunk, report or other.

    The measures, the alerts and the dashboards read it from now on. It has
    `stance_source: human` and stands over re-crawls of the same words and `spreadwatch
    reclassify`; a re-crawl that finds the text edited gives the post back to the classifier.
    Posts labelled by hand: `spreadwatch search 'stance_source:human' --incident INCIDENT`.
    """
    from indexer.stance_human import HumanLabelError
    from indexer.stance_human import set_label as set_human_label
    from spreadwatch.incident import resolve_incident

    model = resolve_incident(incident, [incidents_dir])
    with indices_needed(app):
        try:
            change = set_human_label(app.client, app.names, model, post_id, label, note=note)
        except HumanLabelError as error:
            echo_error(str(error))
            raise SystemExit(EXIT_BAD_INPUT) from None
    was = f"{change.before} ({change.before_source})" if change.before else "(none)"
    click.echo(f"{change.post_id}: stance {was} -> {change.after} (set by hand)")


@stance.command("unset")
@click.argument("incident", metavar="INCIDENT")
@click.argument("post_id", metavar="POST_ID")
@incidents_dir_option
@click.pass_obj
def unset_label(app: AppContext, incident: str, post_id: str, incidents_dir: Path) -> None:
    """Give POST_ID back to the classifier: drop the stance set by hand and label it as the
    current classifier reads it (the learned head unless SPREADWATCH_STANCE_MODEL=false)."""
    from indexer.reclassify import Labeller
    from indexer.stance_human import HumanLabelError
    from indexer.stance_human import unset_label as unset_human_label
    from indexer.stance_model import shipped
    from spreadwatch.incident import resolve_incident

    model = resolve_incident(incident, [incidents_dir])
    with indices_needed(app):
        head = shipped() if app.settings.stance_model else None
        relabel = Labeller(model, head, app.client, app.names)
        try:
            change = unset_human_label(app.client, app.names, model, post_id, relabel)
        except HumanLabelError as error:
            echo_error(str(error))
            raise SystemExit(EXIT_BAD_INPUT) from None
    click.echo(
        f"{change.post_id}: stance {change.before} (set by hand) -> {change.after} "
        f"({change.after_source})"
    )


@stance.command("label")
@click.argument("incident", metavar="INCIDENT")
@incidents_dir_option
@click.pass_obj
def label_pending_posts(app: AppContext, incident: str, incidents_dir: Path) -> None:
    """Label now the posts of INCIDENT still carrying the lexicon's provisional stance (written
    by a crawl or the stream, waiting for the learned head: the monitor's `stance:` job, a crawl
    and a stream run on their own label them within seconds; this catches up by hand)."""
    from indexer.stance_model import shipped
    from indexer.stance_pending import label_pending, pending_count
    from spreadwatch.incident import resolve_incident

    model = resolve_incident(incident, [incidents_dir])
    head = shipped() if app.settings.stance_model else None
    if head is None:
        echo_error(
            "no learned stance head to label with (SPREADWATCH_STANCE_MODEL, docs/stance.md)"
        )
        raise SystemExit(1)
    with indices_needed(app):
        run = label_pending(app.client, app.names, model, head)
        left = pending_count(app.client, app.names, model.id)
    click.echo(
        f"{model.id}: labelled {run.labelled} with {head.version} in {run.seconds:.1f}s; "
        f"still provisional {left} (changed meanwhile {run.conflicts}, failed {run.failed}, "
        f"kept the lexicon's as the head cannot read them {run.unlabelled})"
    )
    if run.failed:
        raise SystemExit(1)


@stance.command("import")
@click.argument("incident", metavar="INCIDENT")
@click.argument("labels", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False))
@incidents_dir_option
@click.pass_obj
def import_labels(app: AppContext, incident: str, labels: Path, incidents_dir: Path) -> None:
    """Set by hand the labels of FILE: a `spreadwatch search --format csv` or `--format xlsx`
    export whose `stance` column a person corrected (a `note` column may say why), or JSONL
    (`{"id": …, "label": …, "note": …}` a line).

    Only rows whose label differs from the post's stored one are set (as `stance set` does);
    the rest are left as they are. The whole file is checked before anything is written. A
    row that cannot be set (no such post, not INCIDENT's) is listed and the others are still
    set; the command then exits 1.
    """
    from indexer.stance_human import import_labels as import_human_labels
    from spreadwatch.incident import resolve_incident
    from spreadwatch.label_files import LabelFileError, read_labels

    try:
        rows = read_labels(labels)
    except LabelFileError as error:
        echo_error(str(error))
        raise SystemExit(EXIT_BAD_INPUT) from None
    model = resolve_incident(incident, [incidents_dir])
    with indices_needed(app):
        result = import_human_labels(app.client, app.names, model, rows)
    for change in result.changed:
        click.echo(f"{change.post_id}: stance {change.before or '(none)'} -> {change.after}")
    for where, reason in result.refused:
        click.echo(f"{where}: not set: {reason}", err=True)
    click.echo(
        f"{len(result.changed)} set by hand, {result.unchanged} unchanged, "
        f"{len(result.refused)} refused"
    )
    if result.refused:
        raise SystemExit(EXIT_FAILED)
