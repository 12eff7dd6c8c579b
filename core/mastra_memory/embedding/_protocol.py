"""What mastra-memory asks of an embedder.

Two protocols, because callers come in two flavours: scripts and notebooks call ``Embedder``
(plain methods), servers call ``AsyncEmbedder`` (coroutines, so a remote embedding API does not
block the event loop). A class may implement both. They are structural (``typing.Protocol``):
any object with these members works, no base class to inherit.

The core always calls the embedder *before* it opens a database transaction, never inside one,
so a slow or failing embedder cannot hold locks or leave half-written rows.

Vectors are L2-normalised ``float32`` arrays, so cosine similarity is a plain dot product and
pgvector's cosine distance never sees a zero vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["AsyncEmbedder", "Embedder", "EmbeddingMatrix"]

EmbeddingMatrix = npt.NDArray[np.float32]
"""Shape ``(n, dimension)`` for documents, ``(dimension,)`` for a query; rows have unit L2 norm."""


@runtime_checkable
class Embedder(Protocol):
    """A synchronous embedder: texts in, unit vectors out.

    ``model_id`` names the model (it ends up next to the vectors, so a different model is never
    mixed into the same index); ``dimension`` sizes the vector column.
    """

    @property
    def dimension(self) -> int:
        """Length of every vector this embedder returns."""
        ...

    @property
    def model_id(self) -> str:
        """Stable name of the model, e.g. ``"mastra-memory/minilm-m2v-256"``."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        """Embed stored texts; returns shape ``(len(texts), dimension)``, one unit row per text."""
        ...

    def embed_query(self, text: str) -> EmbeddingMatrix:
        """Embed one search text; returns shape ``(dimension,)`` with unit norm."""
        ...


@runtime_checkable
class AsyncEmbedder(Protocol):
    """The coroutine twin of :class:`Embedder`, for servers running an event loop."""

    @property
    def dimension(self) -> int:
        """Length of every vector this embedder returns."""
        ...

    @property
    def model_id(self) -> str:
        """Stable name of the model, e.g. ``"text-embedding-3-small"``."""
        ...

    async def aembed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        """Embed stored texts; returns shape ``(len(texts), dimension)``, one unit row per text."""
        ...

    async def aembed_query(self, text: str) -> EmbeddingMatrix:
        """Embed one search text; returns shape ``(dimension,)`` with unit norm."""
        ...


def as_text_list(texts: Sequence[str]) -> list[str]:
    """Shared input check for our embedders: a sequence of ``str``, never one bare string.

    A bare ``str`` is a ``Sequence[str]`` too, and embedding it would silently give one vector
    per character, so it is rejected.

    Raises:
        ValueError: ``texts`` is a single string or contains a non-string.
    """
    if isinstance(texts, (str, bytes)):
        raise ValueError(
            "embed_documents() takes a list of strings; for a single text call embed_query(text)"
        )
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise ValueError(
                f"texts[{i}] is {type(text).__name__}, not str; convert it to text before embedding"
            )
    return out


def check_text(text: str) -> str:
    """Shared input check for ``embed_query``.

    Raises:
        ValueError: ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise ValueError(f"embed_query() takes a str, got {type(text).__name__}")
    return text
