"""Scoring the stance classifier on the labelled set tests/data/stance_eval.yml.

Shared by the evaluation test and `bench`-style reporting: claims are matched with
`indexer.matching` exactly as the crawl pipeline does, then `indexer.stance.classify` runs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from indexer.documents import STANCES
from indexer.matching import claim_matches, fold
from indexer.stance import StanceInput, classify
from spreadwatch.incident import Claim

if TYPE_CHECKING:
    from crawlers.ingest.context import IngestContext
    from crawlers.ingest.stages import PostDoc
    from spreadwatch.demo.dataset import Entry

EVAL_FILE = Path(__file__).parent / "data" / "stance_eval.yml"


@dataclass(frozen=True)
class ClassScore:
    label: str
    support: int
    precision: float
    recall: float


def load_set(path: Path = EVAL_FILE) -> tuple[list[Claim], list[dict[str, Any]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Claim(**c) for c in data["claims"]], data["posts"]


def stance_input(post: dict[str, Any], claims: list[Claim]) -> StanceInput:
    folded = fold(f"{post.get('title') or ''}\n{post['text']}")
    return StanceInput(
        text=post["text"],
        title=post.get("title"),
        lang=post["lang"],
        platform=post["platform"],
        kind=post.get("kind", "post"),
        official=post.get("official", False),
        claims=tuple(c.name for c in claims if claim_matches(c, folded)),
        domain=post.get("domain"),
        pinned=post.get("pinned", False),
        claim_defs=tuple(c for c in claims if claim_matches(c, folded)),
    )


def predictions(path: Path = EVAL_FILE) -> list[tuple[dict[str, Any], str]]:
    claims, posts = load_set(path)
    return [(post, classify(stance_input(post, claims)).label) for post in posts]


def scores(pairs: list[tuple[dict[str, Any], str]]) -> dict[str, ClassScore]:
    """Precision and recall per class (a class never predicted has precision 0)."""
    confusion = Counter((post["label"], predicted) for post, predicted in pairs)
    result = {}
    for label in STANCES:
        tp = confusion[(label, label)]
        predicted = sum(n for (_, p), n in confusion.items() if p == label)
        actual = sum(n for (t, _), n in confusion.items() if t == label)
        result[label] = ClassScore(
            label,
            actual,
            tp / predicted if predicted else 0.0,
            tp / actual if actual else 0.0,
        )
    return result


def table(result: dict[str, ClassScore]) -> str:
    lines = ["| class | posts | precision | recall |", "|---|---:|---:|---:|"]
    lines += [
        f"| {s.label} | {s.support} | {s.precision:.2f} | {s.recall:.2f} |" for s in result.values()
    ]
    return "\n".join(lines)


def demo_predictions(classifier: str = "lexicon") -> list[tuple[dict[str, Any], str]]:
    """The demo's reconstructed corpus (matching posts), labelled by the demo's generator with its
    own reading of the stances (each with its record, `entry`); a third, independent check of
    agreement. `classifier`: the rules (`lexicon`) or the shipped learned head (`model`). The
    corpus is read as the demo's ingest reads it: a record the spiders' parsers read goes
    through the ingest stages, and the head labels all of them in one batch, each with the post
    it replies to, quotes or reposts when that post is indexed too; a page or feed record (read
    by spiders that give no parent) is read alone."""
    from crawlers.ingest.context import IngestContext
    from crawlers.ingest.stages import Dropped, PostDoc, run_stages
    from indexer.stance_enrich import StanceEnricher
    from indexer.stance_model import StanceModel
    from spreadwatch.demo.dataset import INCIDENT_FILE, all_entries, spider_posts
    from spreadwatch.incident import load_incident
    from spreadwatch.settings import load_settings

    incident = load_incident(INCIDENT_FILE)
    context = IngestContext(load_settings(), incident, "stance-eval", "stance-eval")
    scored: list[tuple[Entry, str | None]] = []  # each scored record, its own post's id
    indexed: dict[str, PostDoc] = {}
    for entry in all_entries():
        posts = spider_posts(entry)
        for post in posts:
            try:
                doc = run_stages(post, context)
            except Dropped:
                continue
            if isinstance(doc, PostDoc):
                indexed[post.doc_id] = doc
        if entry.matches and entry.meta.get("stance"):
            scored.append((entry, posts[-1].doc_id if posts else None))
    enricher = StanceEnricher(incident, StanceModel.load()) if classifier == "model" else None
    parents = enricher.parent_texts(list(indexed.values())) if enricher else {}
    inputs = [_demo_input(entry, indexed.get(own or ""), parents, context) for entry, own in scored]
    gold = [{"label": e.meta["stance"], "lang": e.meta.get("lang"), "entry": e} for e, _ in scored]
    if enricher is not None:
        labels = [s.label for s in enricher.model.classify_batch(inputs)]
    else:
        labels = [classify(post).label for post in inputs]
    return list(zip(gold, labels, strict=True))


def _demo_input(
    entry: Entry, doc: PostDoc | None, parents: dict[str, str], context: IngestContext
) -> StanceInput:
    """What the classifier sees of one demo record: its indexed document (`doc`) with its
    parent's text when a spider reads it, else its visible text as the pages and feeds spiders
    do."""
    import dataclasses

    from indexer.stance_enrich import parent_id
    from spreadwatch.demo.dataset import visible_text

    incident = context.incident
    if doc is not None:
        return dataclasses.replace(
            StanceInput.from_doc(doc, claim_defs=incident.claims),
            parent_text=parents.get(parent_id(doc) or ""),
        )
    title, text = visible_text(entry)
    official = bool(entry.meta.get("official")) or bool(
        incident.official and incident.official.is_official_url(entry.url)
    )
    return StanceInput(
        text=text,
        title=title,
        lang=entry.meta.get("lang"),
        platform=entry.platform,
        kind="article" if entry.platform == "feeds" else "post",
        official=official,
        claims=tuple(context.matcher.match(title, text).claims),
        pinned=bool(incident.official and incident.official.is_statement(entry.url)),
        claim_defs=tuple(incident.claims),
    )


#: The line above each demo-corpus table, naming its classifier (`tests/test_demo.py` finds the
#: table of the classifier the demo runs with by it).
DEMO_CAPTION = "Demo corpus, labelled by the {classifier}:"
DEMO_CLASSIFIERS = {"lexicon": "lexicon", "model": "learned head"}


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--demo"]:
        chosen = sys.argv[2] if len(sys.argv) > 2 else "lexicon"
        print(DEMO_CAPTION.format(classifier=DEMO_CLASSIFIERS[chosen]) + "\n")
        found = demo_predictions(chosen)
    else:
        found = predictions(Path(sys.argv[1]) if len(sys.argv) > 1 else EVAL_FILE)
    correct = sum(post["label"] == label for post, label in found)
    print(table(scores(found)))
    print(f"accuracy {correct}/{len(found)} = {correct / len(found):.2f}")
