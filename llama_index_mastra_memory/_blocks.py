"""``MastraContextBlock``: Mastra's working memory and cross-thread recall as a block of LlamaIndex's ``Memory``.

For code that keeps LlamaIndex's own ``Memory`` (its FIFO and its chat store) but wants what Mastra
knows about the user: the working-memory document and messages recalled from the user's threads
in the Mastra tables (e.g. written by Mastra agents or by :class:`MastraMemory`).

The stock ``VectorMemoryBlock`` scopes recall with a filter stored on the block the first time it
serves a session, so one instance shared by two sessions leaks the first user's messages to the
second. This block keeps no per-session state: every call scopes by the ``session_id`` that
``Memory`` passes (= the Mastra thread id) and the resource that owns that thread, in SQL.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.memory import BaseMemoryBlock

from mastra_memory import AsyncMemory

__all__ = ["MastraContextBlock"]


class MastraContextBlock(BaseMemoryBlock[str]):
    """Working memory and recalled messages (Mastra's system blocks) for the current session.

    - ``session_id`` (from ``Memory``) is the thread id; pass ``thread_id=`` / ``resource_id=`` as
      block kwargs (``memory.aget(thread_id=..., resource_id=...)``) to override. Without a
      resource, the thread's owner is looked up; a thread unknown to Mastra gives an empty block.
    - The recall query is the newest user message ``Memory`` hands the block.
    - Read-only: ``accept_short_term_memory`` is False and ``_aput`` stores nothing (messages
      flushed from LlamaIndex's FIFO are not copied into Mastra's tables).
    - ``priority`` 0 by default: ``Memory`` never truncates it.
    """

    name: str = Field(default="mastra_memory")
    accept_short_term_memory: bool = Field(default=False)
    top_k: int | None = Field(default=None)
    _memory: AsyncMemory = PrivateAttr()

    def __init__(self, *, async_memory: AsyncMemory, **data: Any) -> None:
        super().__init__(**data)
        self._memory = async_memory

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        thread_id = block_kwargs.get("thread_id") or block_kwargs.get("session_id")
        if not isinstance(thread_id, str) or not thread_id:
            return ""
        resource_id = block_kwargs.get("resource_id")
        if not isinstance(resource_id, str) or not resource_id:
            thread = await self._memory.get_thread(thread_id)
            if thread is None:
                return ""
            resource_id = thread.resource_id
        query = None
        for message in reversed(messages or []):
            if message.role == MessageRole.USER:
                query = "\n".join(b.text for b in message.blocks if isinstance(b, TextBlock)) or None
                break
        context = await self._memory.context(thread_id, resource_id, query=query, last_messages=0, top_k=self.top_k)
        return "\n\n".join(context.system)

    async def _aput(self, messages: list[ChatMessage]) -> None:
        return None
