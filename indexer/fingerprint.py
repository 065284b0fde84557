"""Near-duplicate signatures, so copy-paste spread can be grouped.

A 64-bit SimHash over character shingles of the post's text, after removing what changes between
copies without changing the message: URLs, @mentions, whitespace, punctuation, letter case and
character width. Character shingles (not words) make it work for Chinese, which has no spaces.
`fingerprint_bands` cuts the hash into 4 bands of 16 bits: two signatures within 3 bits of each
other share at least one band, so an exact `terms` query on the bands finds the candidates.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import numpy as np

BITS = 64
BANDS = 4
SHINGLE = 4
#: Hamming distance at or below which two texts count as near-duplicates.
NEAR_DISTANCE = 3

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@[\w.-]+")
_NOISE = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Fingerprint:
    value: int

    @property
    def hex(self) -> str:
        return f"{self.value:016x}"

    @property
    def bands(self) -> list[str]:
        """`<band index>:<4 hex digits>` per band, for exact-term candidate lookup."""
        width = BITS // BANDS
        mask = (1 << width) - 1
        return [f"{i}:{(self.value >> (i * width)) & mask:04x}" for i in range(BANDS)]


def canonical_text(text: str) -> str:
    """The text with URLs, mentions, punctuation and spacing removed, case and width folded."""
    without = _MENTION.sub(" ", _URL.sub(" ", text))
    folded = unicodedata.normalize("NFKC", without).casefold()
    return _NOISE.sub("", folded)


def _shingles(text: str) -> Counter[str]:
    if len(text) <= SHINGLE:
        return Counter([text])
    return Counter(text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1))


def _hash64(shingle: str) -> int:
    digest = hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def simhash(text: str) -> Fingerprint | None:
    """The signature of `text`, or None when nothing meaningful is left to sign."""
    canonical = canonical_text(text)
    if not canonical:
        return None
    shingles = _shingles(canonical)
    hashes = np.array([_hash64(s) for s in shingles], dtype=">u8")
    counts = np.array(list(shingles.values()), dtype=np.int64)
    # One row of 64 bits per shingle (most significant first); +count where set, -count not.
    bits = np.unpackbits(hashes.view(np.uint8)).reshape(len(hashes), BITS).astype(np.int64)
    weights = counts @ (2 * bits - 1)
    value = 0
    for position, weight in enumerate(weights):
        if weight > 0:
            value |= 1 << (BITS - 1 - position)
    return Fingerprint(value)


def distance(a: str, b: str) -> int:
    """Hamming distance between two hex fingerprints."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def fingerprint_fields(title: str | None, text: str | None) -> dict[str, object]:
    """The posts-index fields `fingerprint` and `fingerprint_bands` (empty when no text)."""
    signature = simhash(f"{title or ''} {text or ''}")
    if signature is None:
        return {}
    return {"fingerprint": signature.hex, "fingerprint_bands": signature.bands}
