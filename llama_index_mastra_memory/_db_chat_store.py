"""``MastraDBChatStore``: Mastra threads as the ``AsyncDBChatStore`` behind LlamaIndex's ``Memory``.

``Memory.from_defaults(session_id=thread_id, chat_store=MastraDBChatStore(...))`` (llama-index-core
0.14.24 and later) keeps LlamaIndex's FIFO, token budget and memory blocks, with the history in
Mastra's tables: a Mastra agent on the same thread sees every message, and with semantic recall
on, every message is embedded when it is put, so :class:`SemanticRecallBlock` finds it at once
(not only once the FIFO overflows, as with ``VectorMemoryBlock``).

Differences from LlamaIndex's ``SQLAlchemyChatStore``, all on purpose:

- Order is the thread's server-side order (``createdAt``), never a client clock.
- ``archive_oldest_messages`` / ``delete_oldest_messages`` pick and change the messages in one
  locked transaction, so two concurrent ``aput`` on one session never archive the same rows.
- ``delete_message(key, idx)`` takes a position in ``get_messages(key, status=None)``, as
  ``BaseChatStore`` does; LlamaIndex's SQL store takes its own row id, which has no meaning here.
- Statuses: see :mod:`llama_index_mastra_memory._plans` (kept in the row's metadata; archived
  messages always precede active ones, which is all ``Memory`` produces). Adding archived
  messages after active ones is refused.
"""

from __future__ import annotations

import contextlib
from typing import Any

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.storage.chat_store.base_db import AsyncDBChatStore, MessageStatus

from mastra_memory import AsyncMemory, ConflictError, InvalidInputError, NotFoundError
from mastra_memory.integration import run_async, store_of

from ._plans import Entry, append, delete_at, delete_by_status, read, replace_all, take_oldest_active

__all__ = ["MastraDBChatStore"]


def _status(value: Any, *, allow_none: bool) -> bool | None:
    """``archived`` flag for a status (None: every status)."""
    if value is None and allow_none:
        return None
    try:
        return MessageStatus(value) == MessageStatus.ARCHIVED
    except ValueError:
        raise InvalidInputError(f"status must be 'active' or 'archived', got {value!r}") from None


class MastraDBChatStore(AsyncDBChatStore):
    """Chat histories as Mastra threads of one resource (key = thread id), async only.

    Threads are created on first write, owned by ``resource_id``; a key naming another resource's
    thread raises ``OwnershipError``. ``get_keys`` lists the resource's threads, newest first.
    """

    resource_id: str
    title: str = ""
    _memory: AsyncMemory = PrivateAttr()

    def __init__(self, *, resource_id: str, async_memory: AsyncMemory, title: str = "", **kwargs: Any) -> None:
        if not isinstance(async_memory, AsyncMemory):
            raise TypeError(f"async_memory must be an AsyncMemory, got {type(async_memory).__name__}")
        super().__init__(resource_id=resource_id, title=title, **kwargs)  # type: ignore[call-arg]
        self._memory = async_memory

    @classmethod
    def class_name(cls) -> str:
        return "MastraDBChatStore"

    async def _entries(self, key: str) -> list[Entry]:
        return await run_async(self._memory, read(store_of(self._memory), key, self.resource_id))

    async def _ensure_thread(self, key: str) -> None:
        if await self._memory.get_thread(key) is None:
            with contextlib.suppress(ConflictError):  # another writer created it meanwhile
                await self._memory.create_thread(self.resource_id, thread_id=key, title=self.title)

    async def get_messages(
        self,
        key: str,
        status: MessageStatus | None = MessageStatus.ACTIVE,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[ChatMessage]:
        """Messages of ``status`` (None: all), oldest first, from ``offset``, at most ``limit``."""
        archived = _status(status, allow_none=True)
        for name, value in (("limit", limit), ("offset", offset)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise InvalidInputError(f"{name} must be an integer >= 0 or None, got {value!r}")
        found = [e.message for e in await self._entries(key) if archived is None or e.archived == archived]
        start = offset or 0
        return found[start : None if limit is None else start + limit]

    async def count_messages(self, key: str, status: MessageStatus | None = MessageStatus.ACTIVE) -> int:
        return len(await self.get_messages(key, status=status))

    async def add_message(self, key: str, message: ChatMessage, status: MessageStatus = MessageStatus.ACTIVE) -> None:
        await self.add_messages(key, [message], status=status)

    async def add_messages(
        self, key: str, messages: list[ChatMessage], status: MessageStatus = MessageStatus.ACTIVE
    ) -> None:
        """Append ``messages`` (one statement; the thread is created on first use)."""
        archived = bool(_status(status, allow_none=False))
        if not messages:
            return
        if archived and any(not e.archived for e in await self._entries(key)):
            raise InvalidInputError(
                f"thread {key!r} has active messages; archived messages can only come before them "
                "(archive with archive_oldest_messages instead)"
            )
        plan = append(store_of(self._memory), key, self.resource_id, messages, archived=archived)
        try:
            await run_async(self._memory, plan)
        except NotFoundError:
            await self._ensure_thread(key)
            await run_async(
                self._memory, append(store_of(self._memory), key, self.resource_id, messages, archived=archived)
            )

    async def set_messages(
        self, key: str, messages: list[ChatMessage], status: MessageStatus = MessageStatus.ACTIVE
    ) -> None:
        """Replace every message of the thread (all statuses) with ``messages``, atomically."""
        archived = bool(_status(status, allow_none=False))
        await self._ensure_thread(key)
        await run_async(
            self._memory, replace_all(store_of(self._memory), key, self.resource_id, messages, archived=archived)
        )

    async def delete_message(self, key: str, idx: int) -> ChatMessage | None:
        """Delete the message at position ``idx`` of ``get_messages(key, status=None)``; None if out of range."""
        return await run_async(self._memory, delete_at(store_of(self._memory), key, self.resource_id, idx))

    async def delete_messages(self, key: str, status: MessageStatus | None = None) -> None:
        """Delete the thread's messages of ``status`` (None: all); the thread itself stays."""
        archived = _status(status, allow_none=True)
        await run_async(self._memory, delete_by_status(store_of(self._memory), key, self.resource_id, archived))

    @staticmethod
    def _count(n: Any) -> int:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidInputError(f"n must be an integer >= 0, got {n!r}")
        return n

    async def delete_oldest_messages(self, key: str, n: int) -> list[ChatMessage]:
        """Delete the oldest ``n`` active messages and return them."""
        n = self._count(n)
        plan = take_oldest_active(store_of(self._memory), key, self.resource_id, n, archive=False)
        return await run_async(self._memory, plan)

    async def archive_oldest_messages(self, key: str, n: int) -> list[ChatMessage]:
        """Mark the oldest ``n`` active messages archived and return them (one locked transaction)."""
        n = self._count(n)
        plan = take_oldest_active(store_of(self._memory), key, self.resource_id, n, archive=True)
        return await run_async(self._memory, plan)

    async def get_keys(self) -> list[str]:
        page = await self._memory.list_threads(resource_id=self.resource_id, per_page=None)
        return [thread.id for thread in page.threads]
