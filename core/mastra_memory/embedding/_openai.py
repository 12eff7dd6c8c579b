"""OpenAI embeddings (``pip install 'mastra-memory[openai]'``), sync and async in one class.

Works with any OpenAI-compatible server (``base_url``, or ``OPENAI_BASE_URL``). Retries with
exponential backoff and request timeouts are the SDK's own (``max_retries``, ``timeout``); inputs
are sent in batches of at most ``batch_size`` texts. Vectors come back L2-normalised float32, as
the rest of mastra-memory expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._protocol import EmbeddingMatrix, as_text_list, check_text

KNOWN_DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


def _normalised(rows: list[list[float]]) -> EmbeddingMatrix:
    matrix = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: EmbeddingMatrix = matrix / norms
    return out


class OpenAIEmbedder:
    """Embeddings from OpenAI (implements both ``Embedder`` and ``AsyncEmbedder``).

    ``dimensions`` asks text-embedding-3 models for shorter vectors (their native size otherwise;
    other models need it given). The constructor does no I/O; clients are made on first use.

    Raises:
        ValueError: the model's dimension is unknown and ``dimensions`` was not given, or
            ``batch_size`` < 1.
        ImportError: the ``openai`` package is not installed (extra ``openai``).
    """

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        dimensions: int | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        batch_size: int = 512,
    ) -> None:
        if dimensions is None and model not in KNOWN_DIMENSIONS:
            raise ValueError(f"the dimension of embedding model {model!r} is unknown: pass dimensions=")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self._model = model
        self._dimensions = dimensions
        self._dimension = dimensions or KNOWN_DIMENSIONS[model]
        self._client_options: dict[str, Any] = {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
        }
        self._batch_size = batch_size
        self._sync: Any = None
        self._async: Any = None

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(model={self._model!r}, dimension={self._dimension})"

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def model_id(self) -> str:
        return self._model

    def _request(self, batch: list[str]) -> dict[str, Any]:
        options: dict[str, Any] = {"model": self._model, "input": batch}
        if self._dimensions is not None:
            options["dimensions"] = self._dimensions
        return options

    def _batches(self, texts: list[str]) -> list[list[str]]:
        # The API refuses empty strings; a single space embeds as near-nothing, like an empty text.
        cleaned = [t if t.strip() else " " for t in texts]
        return [cleaned[i : i + self._batch_size] for i in range(0, len(cleaned), self._batch_size)]

    def embed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        """Embed texts (batched); rows are unit vectors."""
        items = as_text_list(texts)
        if not items:
            return np.zeros((0, self._dimension), dtype=np.float32)
        if self._sync is None:
            import openai

            self._sync = openai.OpenAI(**self._client_options)
        rows: list[list[float]] = []
        for batch in self._batches(items):
            response = self._sync.embeddings.create(**self._request(batch))
            rows += [d.embedding for d in sorted(response.data, key=lambda d: d.index)]
        return _normalised(rows)

    def embed_query(self, text: str) -> EmbeddingMatrix:
        """Embed one search text."""
        check_text(text)
        vector: EmbeddingMatrix = self.embed_documents([text])[0]
        return vector

    async def aembed_documents(self, texts: Sequence[str]) -> EmbeddingMatrix:
        """Embed texts without blocking the event loop."""
        items = as_text_list(texts)
        if not items:
            return np.zeros((0, self._dimension), dtype=np.float32)
        if self._async is None:
            import openai

            self._async = openai.AsyncOpenAI(**self._client_options)
        rows: list[list[float]] = []
        for batch in self._batches(items):
            response = await self._async.embeddings.create(**self._request(batch))
            rows += [d.embedding for d in sorted(response.data, key=lambda d: d.index)]
        return _normalised(rows)

    async def aembed_query(self, text: str) -> EmbeddingMatrix:
        """Embed one search text without blocking the event loop."""
        check_text(text)
        vector: EmbeddingMatrix = (await self.aembed_documents([text]))[0]
        return vector
