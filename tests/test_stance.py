"""Stance rules, one behaviour per case: pinned statements, cues per language, negation, press."""

from __future__ import annotations

import pytest

from indexer import lexicons
from indexer.stance import Stance, StanceInput, classify
from spreadwatch.incident import Claim


def stance(text: str, **fields) -> Stance:
    return classify(StanceInput(text=text, **fields))


def with_claims(text: str, *claims: Claim, **fields) -> Stance:
    """Classified with the claims' patterns, as the ingest stage does."""
    names = tuple(c.name for c in claims)
    return stance(text, claims=names, claim_defs=claims, **fields)


def test_a_pinned_statement_is_the_official_denial_whatever_it_says():
    result = stance("Statement regarding the intern incident", pinned=True, kind="statement")
    assert (result.label, result.confidence, result.source) == ("denial", 1.0, "official")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Statement regarding the intern incident", "report"),
        ("Reports that we grounded our fleet are false. Our aircraft fly as scheduled.", "denial"),
        ("We are proud to open a new lounge in Oslo", "other"),
    ],
)
def test_an_official_account_is_judged_by_what_it_says(text, label):
    result = stance(text, official=True, kind="statement")
    assert (result.label, result.source) == (label, "lexicon")


@pytest.mark.parametrize("fields", [{"official": True}, {"kind": "statement"}])
def test_an_official_news_feed_item_is_the_organisation_speaking_not_press(fields):
    result = stance("Reports of a grounding are false", platform="feeds", **fields)
    assert (result.label, "news source" in result.cues) == ("denial", False)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("字节跳动辟谣：网传信息不实", "denial:辟谣"),
        ("Bytedance dementiert die Berichte", "denial:dementi*"),
        ("Bytedance weist die Darstellung zurück", "denial:weist ... zurück"),
        ("ByteDance denies the reports", "denial:denies"),
        ("The figure is not true", "denial:not true"),
    ],
)
def test_an_explicit_denial_cue_makes_a_denial_in_each_language(text, cue):
    result = stance(text)
    assert (result.label, cue in result.cues) == ("denial", True)


@pytest.mark.parametrize(
    "text",
    [
        "那段录音是假的，明显剪辑过",
        "Die Tonaufnahme ist eine Fälschung",
        "The confession recording is fake",
        "Fact check: the GitHub repo was created yesterday",
    ],
)
def test_calling_the_evidence_fake_or_fact_checking_is_a_debunk(text):
    assert stance(text).label == "debunk"


def test_fake_without_any_evidence_word_denies_the_claim_instead():
    assert stance("the 8,000 GPU story is fake", claims=("gpus-8000",)).label == "denial"


@pytest.mark.parametrize(
    "text",
    ["这不是谣言", "This is not fake", "Die Aufnahme ist keine Fälschung", "It isn't a hoax"],
)
def test_a_negated_counter_cue_supports_the_rumour(text):
    result = stance(text)
    assert result.label == "rumour"
    assert any(cue.startswith("negated:") for cue in result.cues)


def test_a_matched_claim_without_counter_cues_is_a_rumour():
    result = stance("8000张卡全部白跑了", claims=("gpus-8000",))
    assert (result.label, result.cues) == ("rumour", ["claim:gpus-8000"])


def test_a_denial_quoting_the_claims_stays_a_denial():
    result = stance("网传8000张卡、损失千万美元等信息严重夸大", claims=("gpus-8000", "losses-10m"))
    assert result.label == "denial"


def test_asking_whether_a_claim_is_true_is_not_repeating_it():
    assert stance("Is the 8,000 GPU thing true?", claims=("gpus-8000",)).label == "other"


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "article"},
        {"platform": "feeds"},
        {"domain": "www.heise.de"},
        {"domain": "news.sina.com.cn"},
    ],
)
def test_press_coverage_is_a_report_even_when_it_relays_a_denial(fields):
    result = stance("ByteDance denies reports of 8,000 GPUs", claims=("gpus-8000",), **fields)
    assert (result.label, "news source" in result.cues) == ("report", True)


def test_a_news_fact_check_is_a_debunk():
    assert stance("Fact check: the audio was spliced", kind="article").label == "debunk"


def test_a_relay_of_news_with_a_reporting_verb_is_a_report():
    assert stance("According to Reuters, the intern's university was notified").label == "report"


def test_a_post_without_any_cue_is_other_with_confidence_zero():
    assert stance("Grabbing popcorn") == Stance("other", 0.0, [])


def test_conflicting_cues_lower_the_confidence():
    clean = stance("ByteDance denies it")
    mixed = stance("ByteDance denies it, which is a cover-up, they deny everything")
    assert (clean.label, mixed.label) == ("denial", "denial")
    assert 0.5 < mixed.confidence < clean.confidence <= 1.0


def test_latin_cues_match_whole_words_only():
    assert stance("The fakeness debate continues").label == "other"


@pytest.mark.parametrize("lang", lexicons.LANGUAGES)
def test_every_lexicon_has_every_category(lang):
    lexicon = lexicons.load(lang)
    assert [category for category in lexicons.CATEGORIES if not lexicon[category]] == []


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "?"])
def test_an_empty_post_is_other(text):
    assert stance(text).label == "other"


def test_the_title_counts_like_the_text():
    assert stance("", title="ByteDance denies the 8,000 GPU claim").label == "denial"


@pytest.mark.parametrize("text", ["真的假的？字节实习生的事", "等官方回应吧，字节实习生"])
def test_idioms_holding_a_cue_word_take_no_side(text):
    assert stance(text).label == "other"


def test_hearsay_does_not_outweigh_an_explicit_fake():
    result = stance("听说字节实习生那个录音是假的")
    assert (result.label, result.confidence) == ("debunk", 0.5)


@pytest.mark.parametrize(
    "text",
    [
        "ByteDance intern case: company disputes scale of damage",
        "Commercial products were not affected, ByteDance says",
        "Die kommerziellen Modelle sind nicht betroffen",
    ],
)
def test_disputing_the_scale_or_the_impact_is_a_denial(text):
    assert stance(text).label == "denial"


ARREST = Claim(name="arrest", patterns=["Festnahme", "festgenommen", "arrested", "被捕"])
LEAK = Claim(name="leak", patterns=["leak"])
FLAG = Claim(name="flag", patterns=["isis flag"])
FLEET = Claim(name="fleet", patterns=["re:(whole|entire) fleet", "fleet grounded"])


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("字節跳動否認了網傳消息", "denial:否认"),
        ("損失千萬美元純屬捏造", "denial:纯属捏造"),
        ("官方闢謠了", "denial:辟谣"),
    ],
)
def test_traditional_chinese_reads_like_simplified(text, cue):
    result = stance(text)
    assert (result.label, cue in result.cues) == ("denial", True)


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("Es gab keine Festnahme, sagt die Polizei", ARREST),
        ("no leak. The company confirmed it", LEAK),
        ("That is NOT the ISIS flag, look closer", FLAG),
        ("他没有被捕，别乱说", ARREST),
    ],
)
def test_a_claim_right_after_a_negation_denies_it(text, claim):
    result = with_claims(text, claim)
    assert (result.label, f"negated claim:{claim.name}" in result.cues) == ("denial", True)


SALMONELLA_TRADITIONAL = Claim(name="salmonella", patterns=["沙門氏菌"])


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("北光奶粉並未驗出沙門氏菌", "denial"),  # the claim after a negation, both traditional
        ("北光奶粉并未验出沙门氏菌", "denial"),
        ("北光奶粉驗出沙門氏菌了", "rumour"),
    ],
)
def test_a_claim_written_in_traditional_chinese_is_found_where_it_stands(text, label):
    assert with_claims(text, SALMONELLA_TRADITIONAL).label == label


def test_a_negation_in_another_sentence_leaves_the_claim_standing():
    assert with_claims("Not again. The whole fleet is down!", FLEET).label == "rumour"


@pytest.mark.parametrize(
    "text",
    [
        "字节回应了",
        "ByteDance will clarify the matter tomorrow",
        "false",
        "The company confirmed it",
        "Die Firma hat es klargestellt",
    ],
)
def test_a_weak_cue_alone_decides_nothing(text):
    assert stance(text).label == "other"


def test_a_weak_cue_counts_next_to_a_strong_one():
    alone = stance("ByteDance denies it")
    both = stance("ByteDance denies it and will clarify the details")
    assert (both.label, len(both.cues), both.confidence > alone.confidence) == ("denial", 2, True)


@pytest.mark.parametrize(
    ("text", "label", "cue"),
    [
        ("These hoaxes keep coming", "debunk", "debunk:hoax*"),
        ("Baseless, as everyone in the field knows", "denial", "denial:baseless"),
        ("ByteDance rejects the claims", "denial", "denial:reject*"),
        ("Reports of a grounding are false", "denial", "denial:are false"),
        ("网传消息毫无根据", "denial", "denial:毫无根据"),
        ("Die Vorwürfe sind haltlos", "denial", "denial:haltlos"),
    ],
)
def test_cues_that_were_missing(text, label, cue):
    result = stance(text)
    assert (result.label, cue in result.cues) == (label, True)


@pytest.mark.parametrize(
    "text",
    [
        "Bytedance weist die Berichte zurück",
        "Bytedance weist die Berichte über eine angebliche Sabotage durch einen Praktikanten zurück",
    ],
)
def test_a_german_separable_verb_spans_the_words_between(text):
    assert stance(text).cues == ["denial:weist ... zurück"]


def test_a_separable_verb_never_spans_two_sentences():
    assert stance("Er weist den Weg. Zurück zum Thema").label == "other"


def test_a_question_at_the_end_does_not_cancel_a_claim_stated_before_it():
    result = with_claims("The whole fleet is grounded. Why is nobody talking about this?", FLEET)
    assert result.label == "rumour"


def test_a_claim_asked_about_is_not_repeated():
    assert with_claims("Is the whole fleet grounded?", FLEET).label == "other"


@pytest.mark.parametrize(
    "text", ['Oh sure, they "deny" it. lol', "呵呵，“辟谣”了，懂的都懂", "Ja klar, „dementiert“."]
)
def test_a_denial_word_in_scare_quotes_of_a_sarcastic_post_backs_the_rumour(text):
    assert stance(text).label == "rumour"


def test_a_quoted_denial_without_sarcasm_is_a_denial():
    assert stance('The airline called the reports "false claims"').label == "denial"


def test_weak_cues_must_belong_to_a_category():
    for lang in lexicons.LANGUAGES:
        lexicon = lexicons.load(lang)
        every = {cue for category in lexicons.CATEGORIES for cue in lexicon[category]}
        assert set(lexicon[lexicons.WEAK]) <= every


def test_a_hedge_framing_a_denial_does_not_weaken_it():
    """The demo's statement: 传闻 and 网传 frame what it denies; the denial stays confident
    enough to be the official denial (indexer.scope.DENIAL_CONFIDENCE)."""
    from indexer.scope import DENIAL_CONFIDENCE

    result = stance(
        "近期有消息称大模型训练被实习生攻击。网传“涉及8000多卡”严重夸大，不涉及其他业务。",
        title="关于“大模型训练被实习生攻击”传闻的说明",
        official=True,
        kind="statement",
    )
    assert (result.label, result.confidence >= DENIAL_CONFIDENCE) == ("denial", True)


@pytest.mark.parametrize(
    "text", ["网传字节实习生的事", "Reportedly something happened", "Angeblich"]
)
def test_a_hedge_alone_decides_nothing(text):
    assert stance(text).label == "other"
