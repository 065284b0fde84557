"""Which queries and claims a post matches, in Chinese, English and German."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.matching import (
    Matcher,
    claim_matches,
    claim_spans,
    fold,
    hashtag_readings,
    match_post,
)
from spreadwatch.incident import Claim, Incident, load_incident

NORDLICHT = Path(__file__).resolve().parent.parent / "data" / "stance" / "nordlicht-formula.yml"


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


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("ill", "Putin is ill, say reports", True),
        ("ill", "he will be back, still in charge", False),  # a word starts where it starts
        ("ISIS", "an ISIS flag in the window", True),
        ("ISIS", "surge pricing during a hostage crisis", False),
        ("identified", "the flag remains unidentified", False),
        ("8,000 H100", "an H100 costs $28,000 H100 money", False),  # a number too
        ("8000", "18000 GPUs", False),
        ("8,000", "8,000,000 users", False),  # and ends where it ends
        ("H100", "H1000 chips", False),
        ("8,000", "8,000 GPUs, reportedly", True),
        ("H100", "H100s were idle", True),
        ("arrest", "the CEO was arrested", True),  # a word may go on
        ("Rückruf", "der Rückrufbrief ist echt", True),
        ("lubitz", "#AndreasLubitz had an episode", True),  # a hashtag glues words
        ("attack", "#ParisAttack", True),
        ("8000卡", "据说用了8000卡训练", True),  # CJK edges touch anything
        ("8000卡", "用了18000卡", False),
        ("千万美元", "损失上千万美元", True),
        ("$10m", "a $10m loss", True),
    ],
)
def test_a_claim_pattern_starts_at_a_word_and_a_number_is_whole(pattern, text, matches):
    claim = Claim(name="c", patterns=[pattern])
    assert claim_matches(claim, fold(text)) is matches


HASHTAG_QUERIES = [
    {"name": "words", "any": ["ByteDance intern"]},
    {"name": "phrase", "any": ['"ByteDance intern"']},
    {"name": "hashtag", "any": ["ByteDanceIntern"]},
    {"name": "city", "any": ["Sydney"]},
    {"name": "place", "any": ['"Martin Place"'], "exclude": ["#MartinPlaceHoax"]},
    {"name": "isis", "any": ["ISIS attack"]},
]


@pytest.mark.parametrize(
    ("text", "queries"),
    [
        # a CamelCase hashtag's words, in every grouping of its parts
        ("#ByteDanceIntern sabotaged the run", ["words", "phrase", "hashtag"]),
        ("a ByteDance intern sabotaged the run", ["words", "phrase"]),
        ("Praying for everyone #SydneySiege", ["city"]),
        ("Police at #MartinPlace now", ["place"]),
        ("Stop sharing #MartinPlaceHoax", []),  # the exclusion reads the hashtag too
        ("Not again #ISISAttack", ["isis"]),
        ("#ByteDance #Intern", ["words", "phrase"]),  # two hashtags in a row, as before
        # case is a hashtag's only word break: lowercase stays one word
        ("Praying for everyone #sydneysiege", []),
        ("#bytedanceintern", ["hashtag"]),
        # parts are whole words as well: no `intern` in #TheInternship, no `Sydney` in #Sydneys1
        ("Watching #TheInternship again", []),
        ("#SydneysiderLife", []),
    ],
)
def test_a_camelcase_hashtag_is_read_as_its_words(text, queries):
    incident = Incident.model_validate(
        {
            "id": "hashtags",
            "title": "t",
            "window": {"start": "2024-10-01T00:00:00Z"},
            "queries": HASHTAG_QUERIES,
        }
    )
    assert match_post(incident, None, text).queries == queries


def test_a_hashtags_readings_do_not_move_the_claim_spans(incident):
    text = "#ByteDanceIntern 8000 H100"
    claim = next(c for c in incident.claims if c.name == "8000-h100")
    assert claim_spans(claim, fold(text)) == [(17, 26)]


def test_a_post_of_many_long_hashtags_is_read_within_bounds():
    text = " ".join(f"#A{n}BcDeFgHiJkLmNo" for n in range(1000))
    assert len(hashtag_readings(text)) < 200 * 30


def test_title_and_text_are_matched_together(incident):
    result = Matcher(incident).match("字节跳动", "实习生被开除")
    assert result.queries == ["zh-intern"]


def test_a_post_matching_nothing_is_reported_as_unmatched(incident):
    assert not match_post(incident, "Weather", "sunny today").matched


# -- traditional Chinese (Hong Kong, Taiwan) reads as simplified --------------------------------

#: Hand-written pairs: the same words in traditional and in simplified characters.
SCRIPTS = [
    ("字節跳動實習生", "字节跳动实习生"),
    ("星河汽車", "星河汽车"),
    ("驗出沙門氏菌", "验出沙门氏菌"),
    ("網傳嬰兒奶粉被召回", "网传婴儿奶粉被召回"),
]


@pytest.fixture(scope="module")
def both_scripts() -> Incident:
    """The same queries and claims written once in simplified and once in traditional."""
    return Incident.model_validate(
        {
            "id": "scripts",
            "title": "one incident, two scripts",
            "window": {"start": "2025-01-01T00:00:00Z"},
            "queries": [
                {"name": "simplified", "any": ["字节跳动 实习生", "星河汽车"]},
                {"name": "traditional", "any": ["字節跳動 實習生", "星河汽車"]},
            ],
            "claims": [
                {"name": "simplified", "patterns": ["沙门氏菌"]},
                {"name": "traditional", "patterns": ["沙門氏菌"]},
            ],
        }
    )


@pytest.mark.parametrize(("traditional", "simplified"), SCRIPTS)
def test_the_fold_reads_traditional_chinese_as_simplified(traditional, simplified):
    assert fold(traditional) == fold(simplified) == simplified


@pytest.mark.parametrize(
    "text",
    [
        "字節跳動實習生破壞了模型訓練",  # Taiwan / Hong Kong
        "字节跳动实习生破坏了模型训练",
        "星河汽車全面召回",
        "星河汽车全面召回",
        "字節跳動 的 實習生 被開除",
    ],
)
def test_a_query_in_either_script_matches_a_post_in_either_script(both_scripts, text):
    assert match_post(both_scripts, None, text).queries == ["simplified", "traditional"]


@pytest.mark.parametrize("text", ["北光嬰兒奶粉驗出沙門氏菌", "北光婴儿奶粉验出沙门氏菌"])
def test_a_claim_in_either_script_matches_a_post_in_either_script(both_scripts, text):
    assert match_post(both_scripts, None, text).claims == ["simplified", "traditional"]


def test_a_hong_kong_post_makes_the_claim_of_an_incident_file_written_in_simplified():
    incident = load_incident(NORDLICHT)  # claim patterns 沙门氏菌, 沙门菌, ...
    result = match_post(incident, None, "北光嬰兒奶粉驗出沙門氏菌")
    assert (result.queries, result.claims) == (["brand"], ["salmonella"])


@pytest.mark.parametrize("text", ["驗出了沙門氏菌", "验出了沙门氏菌"])
def test_a_regex_claim_pattern_reads_the_post_in_simplified(text):
    claim = Claim(name="found", patterns=["re:验出.{0,3}沙门"])
    assert claim_matches(claim, fold(text))


def test_claim_spans_are_positions_in_the_folded_text():
    claim = Claim(name="salmonella", patterns=["沙门氏菌"])
    folded = fold("網傳：北光奶粉驗出沙門氏菌！")
    assert [folded[a:b] for a, b in claim_spans(claim, folded)] == ["沙门氏菌"]


#: Characters a reader does not see, that pages and posts carry inside words: the soft hyphen
#: (German press writes `&shy;` into long words), zero-width space, non-joiner and joiner, the
#: word joiner, the Mongolian vowel separator and the byte-order mark.
INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\u180e", "\ufeff"]


@pytest.mark.parametrize("mark", INVISIBLE)
@pytest.mark.parametrize(
    ("text", "queries", "claims"),
    [
        ("字节跳|动实习生破坏了8|000张H100", ["zh-intern"], ["8000-h100"]),
        (
            "Der ByteDance-Prakti|kant soll KI-Training sabotiert haben",
            ["de-sabotage", "de-prefix"],
            [],
        ),
        (
            "A Byte|Dance intern wiped tens of mil|lions in GPU time",
            ["en-sabotage", "en-gpu"],
            ["ten-million"],
        ),
    ],
)
def test_characters_a_reader_does_not_see_do_not_hide_a_match(
    incident, mark, text, queries, claims
):
    """`|` marks where the invisible character sits; without it the text matches as listed."""
    result = match_post(incident, None, text.replace("|", mark))
    assert (result.queries, result.claims) == (queries, claims)
