"""The learned stance head's data card, as Markdown, from `indexer/models/stance-training.json`
(what `python -m indexer.stance_train` measured): sources, sizes, the designs compared and the
scores. `docs/stance.md` includes it; `indexer/models/stance-card.md` is the same text.

    .venv/bin/python -m indexer.stance_card [--write]
"""

from __future__ import annotations

import json
import sys
from typing import Any

from indexer.stance_model import HEAD, META, MODEL_DIR

REPORT = MODEL_DIR / "stance-training.json"
CARD = MODEL_DIR / "stance-card.md"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _f(value: float) -> str:
    return f"{value:.2f}"


def card(report: dict[str, Any]) -> str:
    data = report["data"]
    re_events = data["rumoureval"]["events"]
    lines = [
        f"Head: design **{report['final']}**, trained {report['started']}; "
        f"{(HEAD.stat().st_size + META.stat().st_size) / 1024:.0f} KiB "
        "(`indexer/models/stance-head.npz` + `.json`).",
        "",
        "Training data:",
        f"- RumourEval 2017 subtask A train + dev: {data['rumoureval']['tweets']} real tweets, "
        f"{len(re_events)} events ({', '.join(f'{k} {v}' for k, v in sorted(re_events.items()))}); "
        f"labels {_counts(data['rumoureval']['labels'])}. "
        f"{data['rumoureval']['with_claims']} of them match a claim of their event "
        "(`data/stance/rumoureval/`, matched as the ingest does). "
        "Mapped for the shipped head: support → "
        "rumour, deny → denial, query and comment → other (RumourEval does not tell a denial "
        "from a debunk of the evidence, nor press from comment).",
        f"- spreadwatch's own `data/stance/train.jsonl`: {data['own_train']['posts']} posts "
        f"({_counts(data['own_train']['languages'])}; {_counts(data['own_train']['labels'])}), "
        f"{_incidents(data['own_train'])}; weighted {_own_weight(report)}× in the final fit, "
        "shared so that each class weighs the same among the replies and among the other posts "
        "(`indexer.stance_corpus.own_weights`).",
        *_recorded(data),
        *_claimless_share(report),
        f"- Held-out `data/stance/holdout.jsonl`: {data['own_holdout']['posts']} posts, sha256 "
        f"`{data['own_holdout']['sha256'][:16]}…`, scored once by the final head.",
        "",
        "Designs compared (macro-F1; RumourEval leave-one-event-out: trained on seven events, "
        'tested on the eighth, averaged over the eight; "as shipped": the same, trained as the '
        "shipped head is, on the seven events mapped to spreadwatch's labels + all own posts "
        "(+ the recorded posts' `train` part since 2026-12-07), its "
        "five labels read as three (rumour / denial or debunk / the rest); own: "
        "leave-one-incident-out, trained on the other incidents + all of RumourEval, tested on "
        "each in turn, averaged over the incidents):",
        "",
        _row(
            [
                "design",
                "RumourEval 4-class",
                "RumourEval 3-class (merged / trained)",
                "RumourEval 3-class as shipped",
                "RumourEval pooled 4-class",
                "RumourEval pooled accuracy",
                "own 5-class",
                "own zh",
                "own de",
                "own en",
                "seconds",
            ]
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lexicon = report["lexicon"]
    lines.append(
        _row(
            [
                "lexicon (rules)",
                _f(lexicon["rumoureval_4"]["mean"]),
                _f(lexicon["rumoureval_3"]["mean"]),
                "–",
                "–",
                "–",
                _f(lexicon["own_loio"]["mean"]),
                "–",
                "–",
                "–",
                "–",
            ]
        )
    )
    for name, d in report["designs"].items():
        per = d["own_loio_per_language"]
        lines.append(
            _row(
                [
                    _design_name(name, d),
                    _f(d["rumoureval_loeo_4"]["mean"]),
                    f"{_f(d['rumoureval_loeo_3']['mean'])} / "
                    f"{_f(d['rumoureval_loeo_3_trained']['mean'])}",
                    _f(d["rumoureval_loeo_3_as_shipped"]["mean"])
                    if "rumoureval_loeo_3_as_shipped" in d
                    else "–",
                    _f(d["rumoureval_pooled_4"]),
                    _f(d["rumoureval_pooled_accuracy"]),
                    _f(d["own_loio"]["mean"]),
                    _f(per.get("zh", 0)),
                    _f(per.get("de", 0)),
                    _f(per.get("en", 0)),
                    d["seconds"],
                ]
            )
        )
    lines += _accuracy_line(report)
    lines += _claimless_line(report)
    lines += _as_shipped_line(report)
    lines += ["", "RumourEval leave-one-event-out per event (macro-F1, 4-class / 3-class):", ""]
    events = sorted(
        k for k in next(iter(report["designs"].values()))["rumoureval_loeo_4"] if k != "mean"
    )
    lines.append(_row(["design", *events]))
    lines.append("|---|" + "---:|" * len(events))
    for name, d in report["designs"].items():
        lines.append(
            _row(
                [
                    name,
                    *(
                        f"{d['rumoureval_loeo_4'][e]:.2f} / {d['rumoureval_loeo_3'][e]:.2f}"
                        for e in events
                    ),
                ]
            )
        )
    if "head" in report:
        head = report["head"]
        offsets = ", ".join(f"{k} {v:+.2f}" for k, v in head.get("offsets", {}).items())
        chosen = (
            f"kept from `{head['offsets_kept_from']}`"
            if head.get("offsets_kept_from")
            else "chosen on inner folds"
        )
        lines += [
            "",
            f"Final head: {head['fit']}"
            + (f", C {head['C']}" if "C" in head else "")
            + (f"; per-class score offsets ({chosen}): {offsets}" if offsets else "")
            + ".",
        ]
    if "holdout" in report:
        held = report["holdout"]
        lines += ["", f"Held-out set, final head ({report['final']}), 5-class:", ""]
        lines.append(_row(["", "posts", "accuracy", "macro-F1"]))
        lines.append("|---|---:|---:|---:|")
        lines.append(
            _row(
                [
                    "all",
                    held["overall"]["posts"],
                    _f(held["overall"]["accuracy"]),
                    _f(held["overall"]["macro_f1"]),
                ]
            )
        )
        for lang, s in held["languages"].items():
            lines.append(_row([lang, s["posts"], _f(s["accuracy"]), _f(s["macro_f1"])]))
    return "\n".join(lines)


def _design_name(name: str, figures: dict[str, Any]) -> str:
    """A design's row name; a carried row says when, and on how many own posts, it was measured
    (a head refitted on more posts keeps the last comparison's figures until it is re-run)."""
    if "measured" not in figures:
        return name
    posts = figures.get("measured_own_posts")
    on = f" on {posts:,} own posts" if posts else ""
    return f"{name} (measured {figures['measured'][:10]}{on})"


def _own_weight(report: dict[str, Any]) -> str:
    weight = float(report.get("head", {}).get("own_weight", 3.0))
    return f"{weight:g}"


def _incidents(own: dict[str, Any]) -> str:
    incidents: dict[str, int] = own["incidents"]
    return f"{len(incidents)} invented incidents ({_counts(incidents)})"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def _accuracy_line(report: dict[str, Any]) -> list[str]:
    """Accuracy against the majority baseline: what an outside check of real tweets saw first
    (the lexicon below always answering `other`)."""
    shipped = report["designs"].get(report.get("final", ""), {})
    lexicon = report["lexicon"]
    if "rumoureval_as_shipped_accuracy_3" not in shipped or "rumoureval_accuracy_3" not in lexicon:
        return []
    return [
        "",
        "Accuracy on RumourEval's three classes (support / deny / other), unseen events pooled: "
        f"the shipped configuration ({report['final']}, as shipped) "
        f"{_f(shipped['rumoureval_as_shipped_accuracy_3'])}, the lexicon "
        f"{_f(lexicon['rumoureval_accuracy_3'])}, always `other` (the majority baseline) "
        f"{_f(lexicon['rumoureval_majority_accuracy_3'])}. The head is fitted for macro-F1 "
        "(classes balanced), not for accuracy.",
    ]


def _recorded(data: dict[str, Any]) -> list[str]:
    """The recorded real posts trained on (none before the heads of 2026-12-07)."""
    real = data.get("recorded") or {}
    if not real.get("posts"):
        return []
    return [
        f"- Recorded real posts (`../shared/data/real-responses`, read as `python -m "
        f"crawlers.conformance` reads them; about no incident, so `other`): the `train` part, "
        f"{real['posts']} distinct texts ({_counts(real['platforms'])}), "
        f"weighted {real['weight']:g} each. The `dev` part chose the weight; the `test` part is "
        "never trained on or chosen by, and the conformance check reports it apart."
    ]


def _claimless_share(report: dict[str, Any]) -> list[str]:
    share = report.get("head", {}).get("claimless_share")
    if not share:
        return []
    return [
        f"- Every training post with a matched claim is, with probability {share:g} (by a hash "
        "of its incident and text), read as if no claim had matched (`indexer.stance_corpus.claims_dropped`), "
        "so that a rumour is found by its words as well as by the incident's claims."
    ]


def _claimless_line(report: dict[str, Any]) -> list[str]:
    """How the shipped configuration does when an incident's claims match none of the posts."""
    shipped = report["designs"].get(report.get("final", ""), {})
    if "rumoureval_loeo_3_as_shipped_claimless" not in shipped:
        return []
    return [
        "",
        "Read with no claim matched (an incident whose claims miss its replies' words, or no "
        "incident file), the unseen events' 3-class macro-F1 as shipped is "
        f"{_f(shipped['rumoureval_loeo_3_as_shipped_claimless']['mean'])}, against "
        f"{_f(shipped['rumoureval_loeo_3_as_shipped']['mean'])} with their claims.",
    ]


def _as_shipped_line(report: dict[str, Any]) -> list[str]:
    """The shipped head's own "as shipped" figures, when measured after its fit (the design
    rows above may be carried from a comparison on fewer posts)."""
    measured = report.get("as_shipped")
    if not measured:
        return []
    posts = measured["measured_own_posts"]
    trained_on = report.get("data", {}).get("own_train", {}).get("posts", posts)
    other_data = (
        f" — not the {trained_on:,} the head was trained on: measure again" if posts != trained_on
        else ""
    )  # fmt: skip
    return [
        "",
        f"The shipped head's configuration ({measured['design']}) on the unseen events, "
        f"measured {measured['measured'][:10]} on {posts:,} own posts{other_data} "
        "(`python -m indexer.stance_train --as-shipped`, "
        f"{round(measured['seconds'] / 60)} minutes): 3-class macro-F1 as shipped "
        f"{_f(measured['rumoureval_loeo_3_as_shipped']['mean'])}, accuracy "
        f"{_f(measured['rumoureval_as_shipped_accuracy_3'])}, read with no claim matched "
        f"{_f(measured['rumoureval_loeo_3_as_shipped_claimless']['mean'])}.",
        *_classes_line(measured.get("rumoureval_as_shipped_classes_3")),
    ]


def _classes_line(classes: dict[str, dict[str, int]] | None) -> list[str]:
    """Where the unseen events' macro-F1 comes from: per class, how often the head gave it and
    how often rightly (absent from figures measured before 2026-12-07's second session)."""
    if not classes:
        return []
    parts = [
        f"`{name}` {c['gold']:,} tweets, given {c['read']:,} times, {c['right']:,} rightly "
        f"(precision {_f(c['right'] / c['read'] if c['read'] else 0.0)}, "
        f"recall {_f(c['right'] / c['gold'] if c['gold'] else 0.0)})"
        for name, c in classes.items()
    ]
    return ["", "Per RumourEval class, the unseen events pooled: " + "; ".join(parts) + "."]


def main() -> int:
    text = card(json.loads(REPORT.read_text(encoding="utf-8")))
    if "--write" in sys.argv[1:]:
        CARD.write_text("# Stance head: data card\n\n" + text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
