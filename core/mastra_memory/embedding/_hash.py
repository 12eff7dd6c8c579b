"""A deterministic hashed bag-of-words embedder, for tests of mechanics only.

Not a semantic model: two texts are close only when they share words. It exists so tests (and
the Mastra interop suite) can write and search vectors with no model files and with results
known in advance. It is the Python twin of the JavaScript embedder used by the Mastra peer and
interop scripts (``shared/peers/mastra/lib.mjs`` ``hashedBowEmbed``, ``tests/interop/embedder.mjs``):
both sides produce the same float64 vectors bit for bit, so Node can search what Python stored
and vice versa. Change neither without the other.

Algorithm, dimension ``d`` (384 by default):

1. lower-case the text (JavaScript ``toLowerCase``; ``str.lower`` agrees wherever the result can
   contain ASCII letters or digits);
2. tokens = maximal runs of ``[a-z0-9]`` (pure ASCII, so UTF-16 code units = code points);
3. per token, ``h`` = 32-bit FNV-1a (offset basis 0x811c9dc5, prime 0x01000193, mod 2**32);
   ``v[h % d] += -1 if h & 0x80000000 else +1``;
4. no tokens -> ``v = e_0`` (a zero vector would make cosine distance NaN);
5. divide by the Euclidean norm, in float64. The counts are small integers, so the sum of
   squares is exact in any order, and ``sqrt`` and ``/`` are correctly rounded in both
   languages: the float64 results are identical. We return them as float32 (what pgvector stores).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ._protocol import EmbeddingMatrix, as_text_list, check_text

__all__ = ["HashEmbedder"]

DEFAULT_DIMENSION = 384
_TOKEN = re.compile(r"[a-z0-9]+")
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv1a32(token: str) -> int:
    """32-bit FNV-1a over the characters' code units (tokens are ASCII)."""
    h = _FNV_OFFSET
    for char in token:
        h = ((h ^ ord(char)) * _FNV_PRIME) & 0xFFFFFFFF
    return h


def tokenize(text: str) -> list[str]:
    """The tokens the JavaScript side counts: ``text.toLowerCase().match(/[a-z0-9]+/g)``."""
    return _TOKEN.findall(text.lower())


def hashed_bow_vector(text: str, dimension: int = DEFAULT_DIMENSION) -> npt.NDArray[np.float64]:
    """One text -> float64 unit vector, equal bit for bit to the JavaScript ``hashedBowEmbed``."""
    counts = [0] * dimension
    for token in tokenize(text):
        h = fnv1a32(token)
        counts[h % dimension] += -1 if h & 0x80000000 else 1
    sum_sq = sum(c * c for c in counts)
    if sum_sq == 0:
        counts[0] = 1
        sum_sq = 1
    norm = math.sqrt(sum_sq)
    return np.array([c / norm for c in counts], dtype=np.float64)


class HashEmbedder:
    """Deterministic embedder **for tests of mechanics only** (storage, recall plumbing, interop).

    Implements both :class:`Embedder` and :class:`AsyncEmbedder`; the async methods compute inline
    because the work is a few microseconds of pure Python, with no I/O to wait for.
    ``model_id`` is ``"hashed-bow-<dimension>"``, the JavaScript embedder's ``modelId``.

    Raises:
        ValueError: ``dimension`` < 1; bad input to the embed methods.
    """

    def __init__(self, dimension: int = DEFAULT_DIMENSION) -> None:
        if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 1:
            raise ValueError(f"dimension must be a positive int, got {dimension!r}")
        self._dimension = dimension

    def __repr__(self) -> str:
        return f"HashEmbedder(dimension={self._dimension})"

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def model_id(self) -> str:
        return f"hashed-bow-{self._dimension}"

    def embed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        """Embed texts; returns ``(len(texts), dimension)`` float32 unit rows."""
        rows = [hashed_bow_vector(t, self._dimension) for t in as_text_list(texts)]
        if not rows:
            return np.empty((0, self._dimension), dtype=np.float32)
        return np.stack(rows).astype(np.float32)

    def embed_query(self, text: str) -> EmbeddingMatrix:
        """Embed one text; returns a ``(dimension,)`` float32 unit vector."""
        return hashed_bow_vector(check_text(text), self._dimension).astype(np.float32)

    async def aembed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> EmbeddingMatrix:
        return self.embed_query(text)
