"""Every record through the spider's parser and the ingest stages, compared with what
`crawlers.conformance.expected` reads from the record itself, tallied per platform; and what
the shipped stance labelling makes of the recorded posts, none of them about an incident."""

from __future__ import annotations

import hashlib
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawlers.conformance import corpus, expected, spiders
from crawlers.conformance.corpus import Record
from crawlers.conformance.expected import GATING, Expectation, Want, comparable
from crawlers.ingest import Dropped, IngestContext, run_stages
from crawlers.ingest.stages import PostDoc
from crawlers.items import Post
from indexer.stance import StanceInput
from indexer.stance_enrich import StanceEnricher, batch_parents, stance_inputs
from indexer.stance_model import StanceModel
from spreadwatch.incident import Incident
from spreadwatch.settings import Settings
from spreadwatch.urls import canonical_url, clean_url

#: How many examples of each wrong field the report shows.
EXAMPLES = 3
#: Labels that take a side on a rumour. The recorded posts are about no incident (the check's
#: incident has no claims): chatter, help threads, reactions, everyday news. Each one labelled
#: so is a post a keyword crawl's off-topic catch would add to a rumour's or a denial's reach.
SIDED = ("rumour", "denial", "debunk")
#: The largest share of the recorded posts, and of their `test` part alone, the stance labelling
#: may give a side before the check fails (docs/stance.md, "Posts about nothing"). A guard
#: against a head that reads more of them as sided than the one shipped (`…T0016`, the first
#: trained on the `train` part: 1.9 %, its `test` part 4.9 %; `…T1831` before it 9.6 % and
#: 11.7 %, `…T1504` 16.3 %, `…T0855` 36.3 %; the lexicon 0.8 %), with room for a folder of
#: other recordings, none of which a head has learned from: lower it when a head that reads
#: fewer so ships.
SIDED_BOUND = 0.08
#: Fewer labelled posts than this are reported, not judged: a share of a handful says nothing.
SIDED_JUDGED = 200
#: The parts of the recorded posts by a hash of their text (`part`), as shares of 256: a stance
#: head may learn from `train` (`indexer.stance_train`, posts about no incident read as
#: `other`), its choices may look at `dev`, and `test` is what neither saw. A text's copies
#: (the same toot recorded by many cassettes) fall in one part.
PARTS = (("train", 128), ("dev", 64), ("test", 64))


@dataclass
class Tally:
    platform: str
    records: int = 0
    right: int = 0
    documents: int = 0
    wrong: Counter[str] = field(default_factory=Counter)  # field → documents wrong or missing
    failing: Counter[str] = field(default_factory=Counter)  # the same, on current shapes only
    drops: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)  # field → documents compared
    examples: dict[str, list[str]] = field(default_factory=dict)
    stances: Counter[str] = field(default_factory=Counter)  # label → post documents
    unseen: Counter[str] = field(default_factory=Counter)  # the same, `test` part only

    @property
    def failed(self) -> bool:
        return bool(self.crashes) or any(self.failing[f] for f in GATING)


def context() -> IngestContext:
    """What the stages need: settings and an incident (a neutral one: which posts an incident
    wants is not what this check asks)."""
    incident = Incident.model_validate(
        {
            "id": "conformance",
            "title": "Recorded responses",
            "window": {"start": "1990-01-02T00:00:00Z"},
            "languages": ["en", "zh", "de", "fr", "ja"],
            "queries": [{"name": "any", "any": ["the"]}],
        }
    )
    return IngestContext.build(Settings(), incident, spider_name="conformance")


def run(folder: Path, model: StanceModel | None = None) -> list[Tally]:
    """`model`: the head that relabels each record's posts in one batch, as it labels a batch
    after indexing or a writer batch
    (None: the lexicon's labels stand, as when no head is installed)."""
    ctx = context()
    label = StanceEnricher(ctx.incident, model) if model is not None else None
    tallies = []
    for platform in corpus.platforms(folder):
        records = list(corpus.records(folder, platform))
        index = expected.mastodon_index(records) if platform == "mastodon" else {}
        tally = Tally(platform)
        for record in records:
            check_record(record, folder, index, ctx, tally, label=label)
        tallies.append(tally)
    return tallies


def check_record(
    record: Record,
    folder: Path,
    index: dict[tuple[str, str], str],
    ctx: IngestContext,
    tally: Tally,
    *,
    label: StanceEnricher | None = None,
) -> None:
    tally.records += 1
    try:
        parsed = spiders.read(record, folder)
        docs, drops, dropped = _stages(parsed.items, ctx)
        want = expected.expect(record, folder, index)
        stances = _stances(docs, label)
        tally.stances.update(stance for stance, _ in stances)
        tally.unseen.update(stance for stance, where in stances if where == "test")
    except Exception as error:
        where = traceback.extract_tb(error.__traceback__)[-1]
        tally.crashes.append(f"{record.id}: {type(error).__name__}: {error} ({where.filename}:{where.lineno})")  # fmt: skip
        return
    tally.drops.update(parsed.drops)
    tally.drops.update(drops)
    tally.skipped.update(parsed.skipped)
    tally.documents += len(docs)
    problems = compare(want, docs, dropped)
    for wanted in want.wants:
        if wanted.doc_id in docs:
            tally.checked.update(list(wanted.fields))
    for name, detail in problems:
        tally.wrong[name] += 1
        if want.current:
            tally.failing[name] += 1
        shown = tally.examples.setdefault(name, [])
        if len(shown) < EXAMPLES:
            shown.append(f"{record.id}: {detail}")
    if not problems:
        tally.right += 1


def _stages(items: list[Any], ctx: IngestContext) -> tuple[dict[str, Any], Counter[str], set[str]]:
    """Documents by id after every ingest stage, the stages' drops by reason, and the ids of
    the items dropped. Whether a post is the incident's is not this check's question: every
    post is kept the way a spider keeps context posts (`always_keep`), so the match, stance and
    fingerprint stages run on all of them."""
    docs: dict[str, Any] = {}
    drops: Counter[str] = Counter()
    dropped: set[str] = set()
    for item in items:
        if isinstance(item, Post):
            item.always_keep = True
        try:
            doc = run_stages(item, ctx)
        except Dropped as drop:
            drops[drop.reason] += 1
            dropped.add(f"{item.platform}:{item.native_id}")
            continue
        # The first of one id wins, as in the spiders (a feed's guid is marked seen).
        docs.setdefault(f"{doc['platform']}:{doc.get('native_id', '')}", doc)
    return docs, drops, dropped


def _stances(docs: dict[str, Any], label: StanceEnricher | None) -> list[tuple[str, str]]:
    """The stance and `part` of each post document, labelled as the writer labels a batch (one
    record's posts, parents looked up among them); copies, so the compared documents stay as
    the stages left them."""
    posts = _posts(docs)
    if label is not None:
        label(posts)
    return [(str(post["stance"]), part(post.get("title"), post.get("text"))) for post in posts]


def _posts(docs: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies of the post documents the stance stage labelled."""
    return [dict(doc) for doc in docs.values() if isinstance(doc, PostDoc) and doc.get("stance")]


def part(title: str | None, text: str | None) -> str:
    """The part of `PARTS` a recorded post with this title and text falls in."""
    left = hashlib.sha256(f"{title or ''}\n{text or ''}".encode()).digest()[0]
    for name, share in PARTS:
        if left < share:
            return name
        left -= share
    raise AssertionError("PARTS must share out all 256 values")


def recorded_posts(folder: Path) -> list[tuple[str, StanceInput]]:
    """(platform, what the head reads) of every recorded post in `folder`, read as `run` reads
    them: through the spiders' parsers and the ingest stages, parents looked up among the
    record's posts, with the check's neutral incident (no claims). A record the parsers cannot
    read raises: `run` reports it; a head is not trained on half a corpus."""
    ctx = context()
    read: list[tuple[str, StanceInput]] = []
    for platform in corpus.platforms(folder):
        for record in corpus.records(folder, platform):
            docs, _, _ = _stages(spiders.read(record, folder).items, ctx)
            posts = _posts(docs)
            found, _ = batch_parents(posts)
            parents = {p: text for p, text in found.items() if text}
            read += [(platform, post) for post in stance_inputs(posts, ctx.incident, parents)]
    return read


def sided_share(tallies: list[Tally], test_part: bool = False) -> tuple[int, int]:
    """(posts labelled one of `SIDED`, posts labelled), every platform together (`test_part`:
    the posts of the `test` part only)."""
    total: Counter[str] = Counter()
    for t in tallies:
        total.update(t.unseen if test_part else t.stances)
    return sum(total[s] for s in SIDED), total.total()


def stance_failed(tallies: list[Tally]) -> bool:
    """Every post, or the `test` part alone, given a side above `SIDED_BOUND` (each judged from
    `SIDED_JUDGED` posts up)."""
    for sided, labelled in (sided_share(tallies), sided_share(tallies, test_part=True)):
        if labelled >= SIDED_JUDGED and sided / labelled > SIDED_BOUND:
            return True
    return False


def stance_line(tallies: list[Tally], model: StanceModel | None) -> str:
    """The sided share of `run`'s tallies, naming what labelled them (`run`'s `model`)."""
    sided, labelled = sided_share(tallies)
    share = sided / labelled if labelled else 0.0
    by = f"the learned head {model.version}" if model is not None else "the lexicon (no head installed)"  # fmt: skip
    judged = f"bound {SIDED_BOUND:.0%}" if labelled >= SIDED_JUDGED else f"not judged: under {SIDED_JUDGED}"  # fmt: skip
    unseen, tested = sided_share(tallies, test_part=True)
    return (
        f"stance by {by}: {sided} of {labelled} recorded posts (about no incident) labelled "
        f"{'/'.join(SIDED)}: {share:.1%} ({judged}); of the test part, which no head learns "
        f"from: {unseen} of {tested}, {unseen / tested if tested else 0.0:.1%}"
    )


def compare(want: Expectation, docs: dict[str, Any], dropped: set[str]) -> list[tuple[str, str]]:
    """(field, what is wrong) for every field of every wanted document that is wrong; an
    `empty` document is right to be among the `dropped` ids."""
    problems: list[tuple[str, str]] = []
    for wanted in want.wants:
        doc = docs.get(wanted.doc_id)
        if doc is None:
            if not (wanted.empty and wanted.doc_id in dropped):
                how = "dropped" if wanted.doc_id in dropped else "not produced"
                problems.append(("id", f"{wanted.doc_id} {how}"))
            continue
        problems += [(name, f"{wanted.doc_id}: {detail}") for name, detail in _fields(wanted, doc)]
    wanted_ids = {w.doc_id for w in want.wants}
    if want.wants or not want.activities:
        for key, doc in docs.items():
            if isinstance(doc, PostDoc) and key not in wanted_ids and want.current:
                problems.append(("id", f"{key} produced but not in the record"))
    return problems


def _fields(wanted: Want, doc: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name, value in wanted.fields.items():
        got, truth = _stored(name, doc), _as_stored(name, value)
        if name == "engagement":
            got = _engagement(doc, value)
        if name == "text" and doc.get("truncated"):
            continue
        if got != truth:
            found.append((name, f"{name} is {_short(got)}, the record says {_short(truth)}"))
    return found


def _stored(name: str, doc: dict[str, Any]) -> Any:
    if name == "time":
        return datetime.fromisoformat(doc["@timestamp"])
    if name in ("text", "title"):
        return comparable(doc.get(name))
    if name == "links":
        return sorted(set(doc.get("links") or []))
    if name == "author":
        return (doc.get("author") or {}).get("handle")
    return doc.get(name)


def _engagement(doc: dict[str, Any], wanted: dict[str, int]) -> dict[str, int]:
    """The stored counts the record names (others, such as Reddit's reply count from
    `num_comments`, are not this record's to check)."""
    stored = doc.get("engagement") or {}
    return {key: stored[key] for key in wanted if key in stored}


def _as_stored(name: str, value: Any) -> Any:
    if name in ("text", "title"):
        return comparable(value)
    if name in ("url", "via"):
        return clean_url(value) if isinstance(value, str) else None
    if name == "links":
        return sorted({c for c in (canonical_url(v) for v in value or []) if c})
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


# -- the table -----------------------------------------------------------------------------------


def table(tallies: list[Tally]) -> str:
    head = ("platform", "records", "all right", "docs", "wrong/missing by field", "drops by reason", "crashes")  # fmt: skip
    rows = [head]
    for t in tallies:
        rows.append(
            (
                t.platform,
                str(t.records),
                str(t.right),
                str(t.documents),
                _counts(t.wrong, t.failing) or "-",
                _counts(t.drops) or "-",
                str(len(t.crashes)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]  # fmt: skip
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _counts(counts: Counter[str], failing: Counter[str] | None = None) -> str:
    parts = []
    for key, count in sorted(counts.items()):
        if not count:
            continue
        current = failing[key] if failing is not None else count
        note = f" ({current} current)" if failing is not None and current != count else ""
        parts.append(f"{key} {count}{note}")
    return ", ".join(parts)


def details(tallies: list[Tally]) -> str:
    lines: list[str] = []
    for t in tallies:
        for name, shown in sorted(t.examples.items()):
            gate = "FAIL" if name in GATING and t.failing[name] else "note"
            lines += [f"{gate} {t.platform} {name}: {example}" for example in shown]
        if t.checked:
            lines.append(f"info {t.platform} fields compared: {_counts(t.checked)}")
        if t.skipped:
            lines.append(f"info {t.platform} not posts: {_counts(t.skipped)}")
        if t.stances:
            lines.append(f"info {t.platform} stances: {_counts(t.stances)}")
        lines += [f"CRASH {t.platform} {crash}" for crash in t.crashes]
    return "\n".join(lines)
