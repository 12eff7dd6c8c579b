"""Recall results as LangChain documents, shared by the retriever and the ``search_memory`` tool."""

from __future__ import annotations

from langchain_core.documents import Document

from mastra_memory import AsyncMemory, InvalidInputError, Memory, MemoryContext, RecallHit

__all__ = ["hit_document", "recall_k", "thread_for_search"]


def recall_k(memory: Memory | AsyncMemory, k: int | None) -> int | None:
    """Check that ``memory`` has semantic recall on; ``k`` (or None for the config's) is passed to
    ``context(top_k=...)``.

    Raises:
        InvalidInputError: semantic recall is off in the memory's config, or ``k`` < 1.
    """
    if memory.config.recall is None:
        raise InvalidInputError(
            "semantic recall is off for this memory; pass config=MemoryConfig(semantic_recall=True) to Memory.connect"
        )
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise InvalidInputError(f"k must be an integer >= 1, got {k!r}")
    return k


def thread_for_search(thread_id: str | None, resource_id: str) -> str:
    """The thread ``context()`` is asked about. Without one, a thread id that never exists, so
    every hit of the resource counts as "other thread" and nothing is hidden as history."""
    return thread_id or f"mastra-memory-search:{resource_id}"


def hit_document(hit: RecallHit, resource_id: str) -> Document:
    """One recall hit as a ``Document`` (id = message id; its neighbours in ``metadata["window"]``)."""
    m = hit.message
    return Document(
        id=m.id,
        page_content=m.text,
        metadata={
            "thread_id": m.thread_id,
            "resource_id": m.resource_id or resource_id,
            "role": m.role,
            "created_at": m.created_at.isoformat() if m.created_at else None,
            "score": hit.score,
            "rank": hit.rank,
            "same_thread": hit.same_thread,
            "window": [
                {"id": w.id, "role": w.role, "text": w.text,
                 "created_at": w.created_at.isoformat() if w.created_at else None}
                for w in hit.window
            ],
        },
    )


def documents(ctx: MemoryContext, resource_id: str, k: int | None) -> list[Document]:
    """The context's hits, best first, at most ``k``."""
    docs = [hit_document(h, resource_id) for h in ctx.hits]
    return docs if k is None else docs[:k]
