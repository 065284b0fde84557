"""Near-duplicate signatures: copies match, different posts do not."""

from __future__ import annotations

import pytest

from indexer.fingerprint import NEAR_DISTANCE, distance, fingerprint_fields, simhash

EN = (
    "A ByteDance intern allegedly sabotaged the training of a large model on 8,000 H100 GPUs, "
    "costing tens of millions of dollars, according to posts circulating on Chinese forums."
)
ZH = "网传字节跳动实习生恶意攻击集群，篡改代码破坏大模型训练，涉及8000多张卡，损失上千万美元。"


def sign(text: str) -> str:
    signature = simhash(text)
    assert signature is not None
    return signature.hex


@pytest.mark.parametrize(
    ("original", "copy"),
    [
        (EN, EN + " https://t.co/AbC123"),
        (EN, "@someone " + EN),
        (EN, EN.upper()),
        (EN, EN.replace(" ", "  \n ")),
        (EN, EN.replace(",", "").replace(".", "!!!")),
        (ZH, ZH.replace("，", ",")),
        (ZH, "@微博用户: " + ZH + " http://weibo.cn/abc"),
        (ZH, ZH.replace("8000", "８０００")),
    ],
)
def test_copies_with_noise_are_near_duplicates(original, copy):
    assert distance(sign(original), sign(copy)) <= NEAR_DISTANCE


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (EN, "ByteDance says reports of an intern's sabotage are exaggerated and inaccurate."),
        (ZH, "字节跳动官方回应：实习生确实存在恶意干扰行为，但相关报道严重夸大。"),
        (EN, ZH),
    ],
)
def test_different_posts_are_far_apart(first, second):
    assert distance(sign(first), sign(second)) > NEAR_DISTANCE * 3


def test_near_duplicates_share_a_band():
    first = fingerprint_fields(None, EN)
    second = fingerprint_fields(None, EN + " via @reuters https://example.com/x?utm_source=tw")
    assert set(first["fingerprint_bands"]) & set(second["fingerprint_bands"])


def test_signature_is_64_bits_as_16_hex_digits_with_four_bands():
    fields = fingerprint_fields("title", EN)
    assert len(fields["fingerprint"]) == 16
    assert [band.split(":")[0] for band in fields["fingerprint_bands"]] == ["0", "1", "2", "3"]


@pytest.mark.parametrize("text", ["", "   ", "https://t.co/x @someone !!!"])
def test_text_with_nothing_to_sign_has_no_fingerprint(text):
    assert fingerprint_fields(None, text) == {}


def test_signature_is_stable_across_runs():
    assert sign("字节跳动实习生") == sign("字节跳动实习生")
