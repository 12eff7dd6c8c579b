"""``MastraMessageRetriever``: Mastra's semantic recall over stored messages as a LlamaIndex retriever.

So recall can feed ``CondensePlusContextChatEngine(retriever=...)``, a query engine, or a
``RetrieverTool`` for agent-driven search, with the same ranking the memory itself uses.
"""

from __future__ import annotations

import asyncio
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from mastra_memory import AsyncMemory, InvalidInputError, Memory, MemoryContext

__all__ = ["MastraMessageRetriever"]

_METADATA_KEYS = ["thread_id", "resource_id", "role", "created_at", "rank", "same_thread"]


def _nodes(context: MemoryContext, resource_id: str, k: int | None) -> list[NodeWithScore]:
    out = []
    for hit in context.hits:
        m = hit.message
        node = TextNode(
            id_=m.id or "",
            text=m.content.text,
            metadata={
                "thread_id": m.thread_id,
                "resource_id": m.resource_id or resource_id,
                "role": m.role,
                "created_at": m.created_at.isoformat() if m.created_at else None,
                "rank": hit.rank,
                "same_thread": hit.same_thread,
            },
            excluded_embed_metadata_keys=list(_METADATA_KEYS),
            excluded_llm_metadata_keys=[k for k in _METADATA_KEYS if k not in ("role", "created_at")],
        )
        out.append(NodeWithScore(node=node, score=hit.score))
    return out if k is None else out[:k]


class MastraMessageRetriever(BaseRetriever):
    """Past messages of one resource (user), best first, as ``TextNode``s (id = message id).

    It runs the memory's ``context()`` with history off, so every hit counts, and uses the
    memory's :class:`~mastra_memory.SemanticRecall` config (hybrid search, threshold, scope:
    with ``scope="thread"`` give ``thread_id``). ``top_k`` overrides the config's ``top_k``. Node
    metadata: ``thread_id``, ``resource_id``, ``role``, ``created_at`` (ISO), ``rank``,
    ``same_thread``; only ``role`` and ``created_at`` are shown to an LLM.

    ``retrieve`` needs a ``Memory``; ``aretrieve`` uses the ``AsyncMemory`` if given, else runs
    ``retrieve`` in a worker thread.

    Raises (on retrieval):
        InvalidInputError: semantic recall is off in the memory's config.
    """

    def __init__(
        self,
        resource_id: str,
        *,
        memory: Memory | None = None,
        async_memory: AsyncMemory | None = None,
        thread_id: str | None = None,
        top_k: int | None = None,
        **kwargs: Any,
    ) -> None:
        if memory is None and async_memory is None:
            raise TypeError("MastraMessageRetriever needs memory= (a Memory), async_memory= (an AsyncMemory), or both")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise InvalidInputError(f"top_k must be an integer >= 1, got {top_k!r}")
        super().__init__(**kwargs)
        self.resource_id, self.thread_id, self.top_k = resource_id, thread_id, top_k
        self._memory, self._async_memory = memory, async_memory

    def _thread(self) -> str:
        # Without a thread, one that never exists: every hit of the resource is "another thread".
        return self.thread_id or f"mastra-memory-search:{self.resource_id}"

    @staticmethod
    def _check(memory: Memory | AsyncMemory) -> None:
        if memory.config.recall is None:
            raise InvalidInputError(
                "semantic recall is off for this memory; pass config=MemoryConfig(semantic_recall=True)"
            )

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        memory = self._memory
        if memory is None:
            raise TypeError("this retriever has only an AsyncMemory: use aretrieve, or pass memory=")
        self._check(memory)
        context = memory.context(
            self._thread(), self.resource_id, query=query_bundle.query_str, last_messages=0, top_k=self.top_k
        )
        return _nodes(context, self.resource_id, self.top_k)

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        memory = self._async_memory
        if memory is None:
            return await asyncio.to_thread(self._retrieve, query_bundle)
        self._check(memory)
        context = await memory.context(
            self._thread(), self.resource_id, query=query_bundle.query_str, last_messages=0, top_k=self.top_k
        )
        return _nodes(context, self.resource_id, self.top_k)
