"""Which queries and claims a post matches, in Chinese, English and German."""

from __future__ import annotations

import pytest

from indexer.matching import Matcher, match_post
from spreadwatch.incident import Incident


@pytest.fixture(scope="module")
def incident() -> Incident:
    return Incident.model_validate(
        {
            "id": "bytedance-intern-2024",
            "title": "ByteDance intern GPU sabotage rumour",
            "window": {"start": "2024-10-01T00:00:00Z"},
            "languages": ["zh", "en", "de"],
            "queries": [
                {"name": "zh-intern", "lang": "zh", "any": ["字节跳动 实习生", "实习生 投毒"]},
                {
                    "name": "en-sabotage",
                    "lang": "en",
                    "any": ['"ByteDance intern"', "ByteDance sabotage"],
                    "exclude": ["hiring"],
                },
                {"name": "de-sabotage", "lang": "de", "any": ["ByteDance Praktikant"]},
                {"name": "de-prefix", "lang": "de", "any": ["Sabot* KI-Training"]},
                {"name": "handle", "any": ["JusticeFighter110"]},
                {
                    "name": "en-gpu",
                    "lang": "en",
                    "any": ["GPU"],
                    "all": ["ByteDance"],
                },
            ],
            "claims": [
                {"name": "8000-h100", "patterns": ["8000 H100", "8,000 H100", "re:8\\s*000\\s*张"]},
                {"name": "ten-million", "patterns": ["tens of millions", "千万美元"]},
            ],
        }
    )


@pytest.mark.parametrize(
    ("text", "queries"),
    [
        ("网传字节跳动实习生破坏大模型训练", ["zh-intern"]),
        ("字节跳动 的 实习生 被开除", ["zh-intern"]),
        ("某实习生投毒，损失巨大", ["zh-intern"]),
        ("A ByteDance intern sabotaged model training", ["en-sabotage"]),
        ("BYTEDANCE-INTERN story goes viral", ["en-sabotage"]),
        ("ByteDance says sabotage claims are exaggerated", ["en-sabotage"]),
        ("ByteDance Praktikanten sollen KI-Training sabotiert haben", ["de-sabotage", "de-prefix"]),
        ("Der ByteDance-Praktikant wurde entlassen", ["de-sabotage"]),
        ("two ByteDance interns were fired", ["en-sabotage"]),  # plural ending allowed
        ("the recording posted by justicefighter110", ["handle"]),
        ("ByteDance GPU cluster was attacked", ["en-gpu"]),
    ],
)
def test_posts_match_their_queries(incident, text, queries):
    assert match_post(incident, None, text).queries == queries


@pytest.mark.parametrize(
    "text",
    [
        "ByteDance is hiring an intern for sabotage testing",  # exclude wins
        "字节跳动发布新模型",  # only one term of the group
        "ByteDance internship programme opens",  # whole words: intern ≠ internship
        "GPU prices fall",  # `all` group missing
        "ByteDance and an intern walked into a bar",  # phrase words not adjacent
    ],
)
def test_posts_that_match_no_query(incident, text):
    assert match_post(incident, None, text).queries == []


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        ("据称破坏了８０００张H100的训练", ["8000-h100"]),  # fullwidth digits
        ("he sabotaged 8,000 h100 GPUs", ["8000-h100"]),
        ("8000 H100 and tens of millions of dollars", ["8000-h100", "ten-million"]),
        ("损失超过千万美元", ["ten-million"]),
        ("8 000 张卡", ["8000-h100"]),
        ("8000 A100", []),
    ],
)
def test_claim_patterns(incident, text, claims):
    assert match_post(incident, None, text).claims == claims


def test_title_and_text_are_matched_together(incident):
    result = Matcher(incident).match("字节跳动", "实习生被开除")
    assert result.queries == ["zh-intern"]


def test_a_post_matching_nothing_is_reported_as_unmatched(incident):
    assert not match_post(incident, "Weather", "sunny today").matched
