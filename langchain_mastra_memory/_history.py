"""``MastraChatMessageHistory``: the legacy ``BaseChatMessageHistory`` surface over a Mastra thread.

LangChain deprecated ``BaseChatMessageHistory`` and ``RunnableWithMessageHistory`` (removal in
langchain-core 2.0); new agents should use :class:`MastraMemoryMiddleware`. This class exists for
code that still runs on them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage

from mastra_memory import AsyncMemory, ConflictError, Memory, NotFoundError

from ._messages import from_mastra, to_mastra

__all__ = ["MastraChatMessageHistory"]


class MastraChatMessageHistory(BaseChatMessageHistory):
    """One Mastra thread (``session_id`` = thread id) as a LangChain chat history. Legacy path.

    - ``messages`` / ``aget_messages()`` read the thread oldest first, all of it or the newest
      ``last_messages``; rows Mastra wrote read back as LangChain messages.
    - ``add_messages`` / ``aadd_messages`` write the whole batch in one round trip (one
      transaction), creating the thread for ``resource_id`` on first use. They upsert by the
      LangChain message id, so adding the same messages again does not duplicate them.
    - ``clear`` / ``aclear`` delete the thread's messages (the thread itself stays).

    Work goes through the memory's own connection pool: it never commits, or joins a
    transaction, on a connection of yours. Sync methods need a ``Memory``, async ones an
    ``AsyncMemory`` (a mismatch raises ``TypeError``, rather than blocking an event loop).
    """

    def __init__(
        self,
        memory: Memory | AsyncMemory,
        session_id: str,
        resource_id: str,
        *,
        last_messages: int | None = None,
        title: str = "",
    ) -> None:
        self.memory = memory
        self.session_id = session_id
        self.resource_id = resource_id
        self.last_messages = last_messages
        self.title = title

    def _sync(self) -> Memory:
        if not isinstance(self.memory, Memory):
            raise TypeError("this history wraps an AsyncMemory: use aget_messages/aadd_messages/aclear")
        return self.memory

    def _async(self) -> AsyncMemory:
        if not isinstance(self.memory, AsyncMemory):
            raise TypeError("this history wraps a Memory: use messages/add_messages/clear")
        return self.memory

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The thread's messages, oldest first (the newest ``last_messages`` when set)."""
        memory = self._sync()
        if self.last_messages is None:
            page = memory.list_messages(self.session_id, resource_id=self.resource_id, per_page=None)
        else:
            page = memory.recall(self.session_id, resource_id=self.resource_id, last_messages=self.last_messages)
        return from_mastra(page.messages)

    async def aget_messages(self) -> list[BaseMessage]:
        memory = self._async()
        if self.last_messages is None:
            page = await memory.list_messages(self.session_id, resource_id=self.resource_id, per_page=None)
        else:
            page = await memory.recall(
                self.session_id, resource_id=self.resource_id, last_messages=self.last_messages
            )
        return from_mastra(page.messages)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Save ``messages`` in one round trip; the thread is created on first use."""
        memory = self._sync()
        rows = to_mastra(messages, self.session_id, self.resource_id)
        if not rows:
            return
        try:
            memory.save_messages(rows)
        except NotFoundError:
            self._ensure_thread_sync(memory)
            memory.save_messages(rows)

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        memory = self._async()
        rows = to_mastra(messages, self.session_id, self.resource_id)
        if not rows:
            return
        try:
            await memory.save_messages(rows)
        except NotFoundError:
            await self._ensure_thread_async(memory)
            await memory.save_messages(rows)

    def _ensure_thread_sync(self, memory: Memory) -> None:
        with contextlib.suppress(ConflictError):  # another writer created it meanwhile
            memory.create_thread(self.resource_id, thread_id=self.session_id, title=self.title)

    async def _ensure_thread_async(self, memory: AsyncMemory) -> None:
        with contextlib.suppress(ConflictError):
            await memory.create_thread(self.resource_id, thread_id=self.session_id, title=self.title)

    def clear(self) -> None:
        memory = self._sync()
        page = memory.list_messages(self.session_id, resource_id=self.resource_id, per_page=None)
        memory.delete_messages([m.id for m in page.messages if m.id])

    async def aclear(self) -> None:
        memory = self._async()
        page = await memory.list_messages(self.session_id, resource_id=self.resource_id, per_page=None)
        await memory.delete_messages([m.id for m in page.messages if m.id])
