"""What the learned head reads of a post besides its words: here, a "no" that bears on nothing."""

from __future__ import annotations

import pytest

from indexer.matching import claim_matches
from indexer.stance import StanceInput, stance_text
from indexer.stance_features import CONTEXT_COLUMNS, context_features
from spreadwatch.incident import Claim

KILLED = Claim(name="killed", patterns=["killed", "died", "死亡", "getötet"])
BARE = CONTEXT_COLUMNS.index("negation_bare")


def features(text: str) -> list[float]:
    names = ("killed",) if claim_matches(KILLED, stance_text(None, text)) else ()
    return context_features(StanceInput(text=text, claims=names, claim_defs=(KILLED,)))


@pytest.mark.parametrize(
    ("text", "bare"),
    [
        # Replies whose "no" is about nothing the rules know: RumourEval's comments read as denials.
        ("@SkyNewsBreak no shit #JeSuisCharlie", 1.0),
        ("not good news at all", 1.0),
        ("Nicht schon wieder, echt nicht", 1.0),
        ("不是吧，我人还在地铁上", 1.0),
        # A negation that bears on a claim, or a denial's own words: not bare.
        ("nobody was killed, police said the airbag deployed normally", 0.0),
        ("@user that's not true, it's fake", 0.0),
        # No negation at all.
        ("thinking of the families tonight", 0.0),
    ],
)
def test_a_negation_is_bare_when_no_claim_and_no_counter_cue_stands_near(
    text: str, bare: float
) -> None:
    assert features(text)[BARE] == bare
