"""``MastraChatStore``: LlamaIndex's ``BaseChatStore`` over Mastra threads.

Keys are thread ids, all owned by the one resource (user) given at construction, so a
``ChatMemoryBuffer`` (or anything else taking a chat store) reads and writes the same threads a
Mastra agent does. Unlike the array-per-key Postgres peer, an append is one INSERT of one row (the
cost stays flat as a thread grows), a whole turn is one statement, reads can ask for only the
newest messages, and positional deletes run in one locked transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.storage.chat_store import BaseChatStore

from mastra_memory import AsyncMemory, ConflictError, Memory, NotFoundError
from mastra_memory.integration import run_async, run_sync, store_of

from ._db_chat_store import MastraDBChatStore
from ._messages import from_mastra
from ._plans import append, delete_at, read_last, replace_all

__all__ = ["MastraChatStore"]


class MastraChatStore(BaseChatStore):
    """Chat histories as Mastra threads of one resource (key = thread id).

    Give a blocking ``Memory`` for the sync methods, an ``AsyncMemory`` for the async ones, or both
    (``ChatMemoryBuffer`` calls both kinds). Without an ``AsyncMemory`` the async methods run the
    sync ones in a worker thread; without a ``Memory`` the sync methods raise ``TypeError`` rather
    than block an event loop.

    - ``get_messages(key, limit=N)`` reads only the newest rows it needs (the last ``N`` messages).
    - ``add_messages`` / ``aadd_messages`` write a batch (e.g. a whole agent turn) in one statement;
      tool results added on their own are folded into the assistant row holding their calls.
    - ``delete_message(key, idx)`` is positional, as in ``SimpleChatStore``, and atomic.
    - ``delete_messages(key)`` removes the messages and returns them; the thread (its title,
      metadata, working memory) stays, so its key is still listed by ``get_keys``.
    - Threads are created on first write, owned by ``resource_id``; a key that names another
      resource's thread raises ``OwnershipError``.
    - :meth:`as_db_store` gives the same threads to LlamaIndex's ``Memory`` (``chat_store=``).
    """

    resource_id: str
    title: str = ""
    _memory: Memory | None = PrivateAttr(default=None)
    _async_memory: AsyncMemory | None = PrivateAttr(default=None)

    def __init__(
        self,
        *,
        resource_id: str,
        memory: Memory | None = None,
        async_memory: AsyncMemory | None = None,
        title: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(resource_id=resource_id, title=title, **kwargs)  # type: ignore[call-arg]
        if memory is None and async_memory is None:
            raise TypeError("MastraChatStore needs memory= (a Memory), async_memory= (an AsyncMemory), or both")
        self._memory = memory
        self._async_memory = async_memory

    @classmethod
    def class_name(cls) -> str:
        return "MastraChatStore"

    def as_db_store(self) -> MastraDBChatStore:
        """The same threads behind LlamaIndex's async-only ``AsyncDBChatStore`` contract, for
        ``Memory.from_defaults(chat_store=...)`` (the two contracts give one method name different
        meanings, e.g. a sync and an async ``get_messages``, so one object cannot be both).

        Raises:
            TypeError: this store has no ``AsyncMemory``.
        """
        if self._async_memory is None:
            raise TypeError("the AsyncDBChatStore contract is async: give this store async_memory=")
        return MastraDBChatStore(resource_id=self.resource_id, async_memory=self._async_memory, title=self.title)

    # ------------------------------------------------------------------ plumbing

    def _sync(self) -> Memory:
        if self._memory is None:
            raise TypeError("this store has only an AsyncMemory: use the async methods, or pass memory=")
        return self._memory

    def _ensure_thread(self, key: str) -> None:
        memory = self._sync()
        if memory.get_thread(key) is None:
            with contextlib.suppress(ConflictError):  # another writer created it meanwhile
                memory.create_thread(self.resource_id, thread_id=key, title=self.title)

    async def _aensure_thread(self, memory: AsyncMemory, key: str) -> None:
        if await memory.get_thread(key) is None:
            with contextlib.suppress(ConflictError):
                await memory.create_thread(self.resource_id, thread_id=key, title=self.title)

    # ------------------------------------------------------------------ sync

    def get_messages(self, key: str, limit: int | None = None, **kwargs: Any) -> list[ChatMessage]:
        """The thread's messages, oldest first; with ``limit``, only the newest ``limit``.

        Other keyword arguments (as ``ChatMemoryBuffer.get`` passes through) are ignored.
        """
        memory = self._sync()
        if limit is None:
            page = memory.list_messages(key, resource_id=self.resource_id, per_page=None)
            return from_mastra(page.messages)
        return run_sync(memory, read_last(store_of(memory), key, self.resource_id, limit))

    def add_message(self, key: str, message: ChatMessage) -> None:
        self.add_messages(key, [message])

    def add_messages(self, key: str, messages: list[ChatMessage]) -> None:
        """Append ``messages`` in one statement; the thread is created on first use."""
        memory = self._sync()
        if not messages:
            return
        try:
            run_sync(memory, append(store_of(memory), key, self.resource_id, messages))
        except NotFoundError:
            self._ensure_thread(key)
            run_sync(memory, append(store_of(memory), key, self.resource_id, messages))

    def set_messages(self, key: str, messages: list[ChatMessage]) -> None:
        """Replace the thread's messages with ``messages``, atomically."""
        self._ensure_thread(key)
        run_sync(self._sync(), replace_all(store_of(self._sync()), key, self.resource_id, messages))

    def delete_messages(self, key: str) -> list[ChatMessage] | None:
        """Delete every message of the thread and return them (None for an unknown key)."""
        memory = self._sync()
        if memory.get_thread(key) is None:
            return None
        return run_sync(memory, replace_all(store_of(memory), key, self.resource_id, None))

    def delete_message(self, key: str, idx: int) -> ChatMessage | None:
        """Delete the message at position ``idx`` (as ``get_messages`` lists them); None if out of range."""
        memory = self._sync()
        return run_sync(memory, delete_at(store_of(memory), key, self.resource_id, idx))

    def delete_last_message(self, key: str) -> ChatMessage | None:
        return self.delete_message(key, -1)

    def get_keys(self) -> list[str]:
        """Every thread id of this resource, newest first."""
        page = self._sync().list_threads(resource_id=self.resource_id, per_page=None)
        return [thread.id for thread in page.threads]

    def count_messages(self, key: str) -> int:
        """How many LlamaIndex messages ``get_messages(key)`` returns."""
        return len(self.get_messages(key))

    # ------------------------------------------------------------------ async

    async def aget_messages(self, key: str, limit: int | None = None, **kwargs: Any) -> list[ChatMessage]:
        memory = self._async_memory
        if memory is None:
            return await asyncio.to_thread(self.get_messages, key, limit)
        if limit is None:
            page = await memory.list_messages(key, resource_id=self.resource_id, per_page=None)
            return from_mastra(page.messages)
        return await run_async(memory, read_last(store_of(memory), key, self.resource_id, limit))

    async def async_add_message(self, key: str, message: ChatMessage) -> None:
        await self.aadd_messages(key, [message])

    async def aadd_messages(self, key: str, messages: list[ChatMessage]) -> None:
        memory = self._async_memory
        if memory is None:
            return await asyncio.to_thread(self.add_messages, key, messages)
        if not messages:
            return None
        try:
            await run_async(memory, append(store_of(memory), key, self.resource_id, messages))
        except NotFoundError:
            await self._aensure_thread(memory, key)
            await run_async(memory, append(store_of(memory), key, self.resource_id, messages))
        return None

    async def aset_messages(self, key: str, messages: list[ChatMessage]) -> None:
        memory = self._async_memory
        if memory is None:
            return await asyncio.to_thread(self.set_messages, key, messages)
        await self._aensure_thread(memory, key)
        await run_async(memory, replace_all(store_of(memory), key, self.resource_id, messages))
        return None

    async def adelete_messages(self, key: str) -> list[ChatMessage] | None:
        memory = self._async_memory
        if memory is None:
            return await asyncio.to_thread(self.delete_messages, key)
        if await memory.get_thread(key) is None:
            return None
        return await run_async(memory, replace_all(store_of(memory), key, self.resource_id, None))

    async def adelete_message(self, key: str, idx: int) -> ChatMessage | None:
        memory = self._async_memory
        if memory is None:
            return await asyncio.to_thread(self.delete_message, key, idx)
        return await run_async(memory, delete_at(store_of(memory), key, self.resource_id, idx))

    async def adelete_last_message(self, key: str) -> ChatMessage | None:
        return await self.adelete_message(key, -1)

    async def aget_keys(self) -> list[str]:
        memory = self._async_memory
        if memory is None:
            return await asyncio.to_thread(self.get_keys)
        page = await memory.list_threads(resource_id=self.resource_id, per_page=None)
        return [thread.id for thread in page.threads]

    async def acount_messages(self, key: str) -> int:
        return len(await self.aget_messages(key))
