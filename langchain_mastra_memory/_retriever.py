"""``MastraMemoryRetriever``: semantic recall over past messages as a LangChain retriever."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever, LangSmithRetrieverParams
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict

from mastra_memory import AsyncMemory, Memory

from ._recall import documents, recall_k, thread_for_search

__all__ = ["MastraMemoryRetriever"]


class MastraMemoryRetriever(BaseRetriever):
    """Mastra's semantic recall (vector + full text, neighbours, threshold, scope) as a retriever.

    It runs ``memory.context(...)`` with history off, so every hit comes back, best first, as a
    ``Document`` whose ``id`` is the message id and whose metadata holds ``thread_id``,
    ``resource_id``, ``role``, ``created_at`` (ISO), ``score``, ``rank``, ``same_thread`` and the
    hit's neighbours (``window``). Scope (resource or thread), ``message_range``, hybrid search and
    threshold come from the memory's :class:`~mastra_memory.SemanticRecall` config; ``k`` (field or
    ``invoke(..., k=)``) overrides its ``top_k``.

    Give it a ``Memory`` for ``invoke`` and an ``AsyncMemory`` for ``ainvoke`` (each also works
    the other way round, through LangChain's executor or not at all: a sync call on an
    ``AsyncMemory`` raises ``TypeError``).

    Attributes:
        memory: the memory to search (semantic recall must be on).
        resource_id: whose messages are searched.
        thread_id: the current thread, if any: with ``scope="thread"`` only it is searched.
        k: how many hits (None: the config's ``top_k``).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: Memory | AsyncMemory
    resource_id: str
    thread_id: str | None = None
    k: int | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None, **kwargs: Any
    ) -> list[Document]:
        memory = self.memory
        if not isinstance(memory, Memory):
            raise TypeError("this retriever wraps an AsyncMemory: call ainvoke(), or give it a Memory")
        n = k if k is not None else self.k
        ctx = memory.context(
            thread_for_search(self.thread_id, self.resource_id), self.resource_id, query=query, last_messages=0,
            top_k=recall_k(memory, n),
        )
        return documents(ctx, self.resource_id, n)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, k: int | None = None, **kwargs: Any
    ) -> list[Document]:
        memory = self.memory
        if isinstance(memory, Memory):  # blocking memory: LangChain's default (executor) path
            return await run_in_executor(
                None, self._get_relevant_documents, query, run_manager=run_manager.get_sync(), k=k
            )
        n = k if k is not None else self.k
        ctx = await memory.context(
            thread_for_search(self.thread_id, self.resource_id), self.resource_id, query=query, last_messages=0,
            top_k=recall_k(memory, n),
        )
        return documents(ctx, self.resource_id, n)

    def _get_ls_params(self, **kwargs: Any) -> LangSmithRetrieverParams:
        params = super()._get_ls_params(**kwargs)
        params["ls_vector_store_provider"] = "mastra-memory"
        return params
