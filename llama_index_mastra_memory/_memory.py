"""``MastraMemory``: one LlamaIndex ``BaseMemory`` for a Mastra thread.

Agents (``FunctionAgent``, ``AgentWorkflow``…) call ``aput(user)``, ``aget()``,
``aput_messages(turn)``; chat engines call the sync twins, sometimes from a worker thread.
``get``/``aget`` is one ``context()`` call of the core: working memory and other-thread recall
as one system message, then the thread's newest messages with same-thread recall in time order.

The object holds only JSON-safe settings (thread, resource, schema, and *where* to find the
connection: a name registered in this process, or the name of an environment variable holding
the DSN). So ``Context.to_dict()`` / ``Context.from_dict()`` keep it, and a second
``agent.run(ctx=ctx)`` still writes to Postgres instead of falling back to an in-process buffer.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from typing import Any, Literal

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.memory.types import BaseMemory

from mastra_memory import AsyncMemory, InvalidInputError, Memory, MemoryContext, OwnershipError, Thread

from ._chat_store import MastraChatStore
from ._messages import from_mastra

__all__ = ["MastraMemory"]

_registered: dict[str, tuple[Memory | None, AsyncMemory | None]] = {}
_from_env: dict[tuple[str, str], Memory] = {}
_from_env_async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], AsyncMemory]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def _newest_user_text(messages: list[ChatMessage]) -> str | None:
    for message in reversed(messages):
        if message.role == MessageRole.USER:
            text = "\n".join(b.text for b in message.blocks if isinstance(b, TextBlock))
            return text or None
    return None


class MastraMemory(BaseMemory):
    """Mastra memory (history, semantic recall, working memory) for one thread of one resource.

    Connections, in order: ``memory=``/``async_memory=`` given to the constructor; else the pair
    registered under ``connection`` with :meth:`register_connection`; else a pool opened (once per
    process, and per event loop for async) on the DSN in the environment variable ``dsn_env``.
    The last two survive serialisation; the DSN itself (and its password) is never stored.

    - ``get``/``aget(input=None)``: one ``context()`` round trip. Memory (working memory, other
      threads' recall) comes first as one system message, or, with ``insert_method="user"``, in
      front of the newest user message (for models that take one system message only). The
      recall query is ``input``, else the newest user message this object put (agents put the
      user's message just before their first ``aget``); with neither, history and working memory
      are returned without recall.
    - ``put``/``aput``, ``put_messages``/``aput_messages`` (one statement per batch), ``set``,
      ``reset`` (deletes the thread's messages, keeps the thread) and ``get_all`` go through
      :class:`MastraChatStore`.
    - Threads (LlamaIndex has no such notion): ``get_thread``, ``list_threads`` (the resource's),
      ``update_thread``, ``delete_thread``, ``for_thread`` (the same settings on another thread of
      the resource), ``get_working_memory``; each with an ``a``-prefixed async twin.
    """

    thread_id: str
    resource_id: str
    connection: str | None = None
    dsn_env: str = "DATABASE_URL"
    schema_name: str = "public"
    last_messages: int | None = None
    top_k: int | None = None
    title: str = ""
    insert_method: Literal["system", "user"] = "system"
    _memory: Memory | None = PrivateAttr(default=None)
    _async_memory: AsyncMemory | None = PrivateAttr(default=None)
    _query: str | None = PrivateAttr(default=None)

    def __init__(self, *, memory: Memory | None = None, async_memory: AsyncMemory | None = None, **data: Any) -> None:
        super().__init__(**data)
        self._memory, self._async_memory = memory, async_memory

    @classmethod
    def class_name(cls) -> str:
        return "MastraMemory"

    @classmethod
    def from_defaults(  # type: ignore[override]
        cls,
        thread_id: str,
        resource_id: str,
        *,
        memory: Memory | None = None,
        async_memory: AsyncMemory | None = None,
        **settings: Any,
    ) -> MastraMemory:
        """A memory for ``thread_id`` of ``resource_id``; ``settings`` are the fields (``connection``,
        ``dsn_env``, ``schema_name``, ``last_messages``, ``top_k``, ``title``)."""
        return cls(thread_id=thread_id, resource_id=resource_id, memory=memory, async_memory=async_memory, **settings)

    # ------------------------------------------------------------------ connections

    @staticmethod
    def register_connection(
        name: str, *, memory: Memory | None = None, async_memory: AsyncMemory | None = None
    ) -> None:
        """Make ``name`` resolve to these memories in this process (for ``connection=name``)."""
        if memory is None and async_memory is None:
            raise TypeError("register_connection needs memory=, async_memory=, or both")
        _registered[name] = (memory, async_memory)

    @staticmethod
    def close_connections() -> None:
        """Close the blocking pools this class opened from environment DSNs (registered ones are yours)."""
        with _lock:
            for memory in _from_env.values():
                memory.close()
            _from_env.clear()

    @staticmethod
    async def aclose_connections() -> None:
        """Close the asyncio pools this class opened from environment DSNs on the running loop."""
        opened = _from_env_async.pop(asyncio.get_running_loop(), {})
        for memory in opened.values():
            await memory.close()

    def _dsn(self) -> str:
        dsn = os.environ.get(self.dsn_env)
        if not dsn:
            raise InvalidInputError(
                f"MastraMemory has no connection: pass memory=/async_memory=, register one with "
                f"MastraMemory.register_connection and set connection=, or set ${self.dsn_env} to a DSN"
            )
        return dsn

    def _sync_memory(self) -> Memory | None:
        if self._memory is not None or self._async_memory is not None:
            return self._memory  # given explicitly: never fall back to another connection
        if self.connection is not None:
            if self.connection not in _registered:
                raise InvalidInputError(f"no connection registered under {self.connection!r} in this process")
            return _registered[self.connection][0]
        key = (self._dsn(), self.schema_name)
        with _lock:
            if key not in _from_env:
                _from_env[key] = Memory.connect(key[0], schema=self.schema_name, migrate=False)
            return _from_env[key]

    async def _async_memory_now(self) -> AsyncMemory | None:
        if self._async_memory is not None:
            return self._async_memory
        if self._memory is not None:
            return None
        if self.connection is not None:
            if self.connection not in _registered:
                raise InvalidInputError(f"no connection registered under {self.connection!r} in this process")
            return _registered[self.connection][1]
        key = (self._dsn(), self.schema_name)
        opened = _from_env_async.setdefault(asyncio.get_running_loop(), {})  # pools belong to one loop
        if key not in opened:
            opened[key] = await AsyncMemory.connect(key[0], schema=self.schema_name, migrate=False)
        return opened[key]

    def _store(self) -> MastraChatStore:
        memory = self._sync_memory()
        if memory is None:
            raise TypeError("this memory has only an AsyncMemory: use the async methods (aget, aput…)")
        return MastraChatStore(resource_id=self.resource_id, memory=memory, title=self.title)

    async def _astore(self) -> MastraChatStore:
        aio = await self._async_memory_now()
        if aio is None:  # only a blocking Memory: the store runs it in a worker thread
            return MastraChatStore(resource_id=self.resource_id, memory=self._sync_memory(), title=self.title)
        return MastraChatStore(resource_id=self.resource_id, async_memory=aio, title=self.title)

    # ------------------------------------------------------------------ reads

    def _render(self, context: MemoryContext) -> list[ChatMessage]:
        history = from_mastra(context.messages)
        if not context.system:
            return history
        text = "\n\n".join(context.system)
        if self.insert_method == "user":  # like LlamaIndex's InsertMethod.USER: in front of the newest user turn
            for message in reversed(history):
                if message.role == MessageRole.USER:
                    message.blocks.insert(0, TextBlock(text=text + "\n\n"))
                    return history
            return [*history, ChatMessage(role=MessageRole.USER, content=text)]
        return [ChatMessage(role=MessageRole.SYSTEM, content=text), *history]

    def _query_for(self, input: str | None) -> str | None:
        return input if input else self._query

    def get(self, input: str | None = None, **kwargs: Any) -> list[ChatMessage]:
        """Memory blocks as one system message, then the history (fresh objects on every call)."""
        memory = self._sync_memory()
        if memory is None:
            raise TypeError("this memory has only an AsyncMemory: use aget")
        context = memory.context(
            self.thread_id,
            self.resource_id,
            query=self._query_for(input),
            last_messages=self.last_messages,
            top_k=self.top_k,
        )
        return self._render(context)

    async def aget(self, input: str | None = None, **kwargs: Any) -> list[ChatMessage]:
        aio = await self._async_memory_now()
        if aio is None:
            return await asyncio.to_thread(self.get, input)
        context = await aio.context(
            self.thread_id,
            self.resource_id,
            query=self._query_for(input),
            last_messages=self.last_messages,
            top_k=self.top_k,
        )
        return self._render(context)

    def get_all(self) -> list[ChatMessage]:
        """The whole thread, oldest first, without memory blocks."""
        return self._store().get_messages(self.thread_id)

    async def aget_all(self) -> list[ChatMessage]:
        return await (await self._astore()).aget_messages(self.thread_id)

    # ------------------------------------------------------------------ writes

    def _remember(self, messages: list[ChatMessage]) -> None:
        self._query = _newest_user_text(messages) or self._query

    def put(self, message: ChatMessage) -> None:
        self.put_messages([message])

    async def aput(self, message: ChatMessage) -> None:
        await self.aput_messages([message])

    def put_messages(self, messages: list[ChatMessage]) -> None:
        """Append a batch (an agent's whole turn) in one statement."""
        self._store().add_messages(self.thread_id, messages)
        self._remember(messages)

    async def aput_messages(self, messages: list[ChatMessage]) -> None:
        await (await self._astore()).aadd_messages(self.thread_id, messages)
        self._remember(messages)

    def set(self, messages: list[ChatMessage]) -> None:
        """Replace the thread's messages, atomically."""
        self._store().set_messages(self.thread_id, messages)
        self._query = _newest_user_text(messages)

    async def aset(self, messages: list[ChatMessage]) -> None:
        await (await self._astore()).aset_messages(self.thread_id, messages)
        self._query = _newest_user_text(messages)

    def reset(self) -> None:
        """Delete the thread's messages (the thread, its title and working memory stay)."""
        self._store().delete_messages(self.thread_id)
        self._query = None

    async def areset(self) -> None:
        await (await self._astore()).adelete_messages(self.thread_id)
        self._query = None

    # ------------------------------------------------------------------ threads

    def for_thread(self, thread_id: str) -> MastraMemory:
        """The same memory (connection and settings) on another thread of the same resource."""
        again = self.model_copy(update={"thread_id": thread_id})
        again._memory, again._async_memory, again._query = self._memory, self._async_memory, None
        return again

    def _own(self, thread: Thread | None) -> Thread | None:
        if thread is not None and thread.resource_id != self.resource_id:
            raise OwnershipError(f"thread {self.thread_id!r} belongs to another resource than {self.resource_id!r}")
        return thread

    def _blocking(self) -> Memory:
        memory = self._sync_memory()
        if memory is None:
            raise TypeError("this memory has only an AsyncMemory: use the async methods (aget_thread…)")
        return memory

    def get_thread(self) -> Thread | None:
        """This memory's thread (None until the first message is stored).

        Raises:
            OwnershipError: the thread belongs to another resource.
        """
        return self._own(self._blocking().get_thread(self.thread_id))

    async def aget_thread(self) -> Thread | None:
        aio = await self._async_memory_now()
        if aio is None:
            return await asyncio.to_thread(self.get_thread)
        return self._own(await aio.get_thread(self.thread_id))

    def list_threads(self) -> list[Thread]:
        """Every thread of this memory's resource, newest first."""
        return self._blocking().list_threads(resource_id=self.resource_id, per_page=None).threads

    async def alist_threads(self) -> list[Thread]:
        aio = await self._async_memory_now()
        if aio is None:
            return await asyncio.to_thread(self.list_threads)
        return (await aio.list_threads(resource_id=self.resource_id, per_page=None)).threads

    def update_thread(self, *, title: str | None = None, metadata: dict[str, Any] | None = None) -> Thread:
        """Set the thread's title and/or merge keys into its metadata (created first when missing)."""
        memory = self._blocking()
        if self.get_thread() is None:
            memory.create_thread(self.resource_id, thread_id=self.thread_id, title=self.title)
        return memory.update_thread(self.thread_id, title=title, metadata=metadata)

    async def aupdate_thread(self, *, title: str | None = None, metadata: dict[str, Any] | None = None) -> Thread:
        aio = await self._async_memory_now()
        if aio is None:
            return await asyncio.to_thread(lambda: self.update_thread(title=title, metadata=metadata))
        if await self.aget_thread() is None:
            await aio.create_thread(self.resource_id, thread_id=self.thread_id, title=self.title)
        return await aio.update_thread(self.thread_id, title=title, metadata=metadata)

    def delete_thread(self) -> bool:
        """Delete the thread with its messages and vectors; False when it did not exist."""
        if self.get_thread() is None:
            return False
        return self._blocking().delete_thread(self.thread_id)

    async def adelete_thread(self) -> bool:
        aio = await self._async_memory_now()
        if aio is None:
            return await asyncio.to_thread(self.delete_thread)
        if await self.aget_thread() is None:
            return False
        return await aio.delete_thread(self.thread_id)

    def get_working_memory(self) -> str | None:
        """The working-memory document this thread sees (None when off or nothing is stored)."""
        return self._blocking().get_working_memory(self.thread_id, self.resource_id)

    async def aget_working_memory(self) -> str | None:
        aio = await self._async_memory_now()
        if aio is None:
            return await asyncio.to_thread(self.get_working_memory)
        return await aio.get_working_memory(self.thread_id, self.resource_id)
