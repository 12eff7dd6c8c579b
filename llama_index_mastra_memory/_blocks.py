"""Mastra's memory as blocks of LlamaIndex's own ``Memory``.

- :class:`WorkingMemoryBlock`: the working-memory document and how to keep it (priority 0: never
  truncated).
- :class:`SemanticRecallBlock`: older messages that match the newest user message, with its own
  ``top_k``/``message_range``/``scope``/``hybrid``.
- :class:`MastraContextBlock`: both at once, exactly as ``Memory.context()`` renders them.

The stock ``VectorMemoryBlock`` scopes recall with a filter it stores on itself the first time it
serves a session, so one instance shared by two sessions leaks the first user's messages to the
second. These blocks keep no per-session state: every call is scoped by the ``session_id`` that
``Memory`` passes (= the Mastra thread id) and the resource that owns that thread, in SQL.
A block kwarg ``thread_id=``/``resource_id=`` (``memory.aget(resource_id=...)``) overrides them.

All three are read-only (``accept_short_term_memory`` False): what LlamaIndex's FIFO flushes is
not copied. Recall covers what is in Mastra's tables, so give ``Memory`` a
:class:`~llama_index_mastra_memory.MastraDBChatStore` (every message is then saved, and embedded,
when it is put) or write through :class:`MastraMemory`, ``MastraChatStore`` or Mastra itself.
"""

from __future__ import annotations

from typing import Any, Literal

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.memory import BaseMemoryBlock

from mastra_memory import AsyncMemory, InvalidInputError, Message, SemanticRecall
from mastra_memory.integration import (
    context,
    render_remembered,
    run_async,
    store_of,
    with_recall,
)
from mastra_memory.working_memory import working_memory_instruction

from ._messages import from_mastra

__all__ = ["MastraContextBlock", "SemanticRecallBlock", "WorkingMemoryBlock"]

EARLIER_PREAMBLE = "Earlier messages of this conversation that relate to the question:"


def newest_user_text(messages: list[ChatMessage] | None) -> str | None:
    for message in reversed(messages or []):
        if message.role == MessageRole.USER:
            return "\n".join(b.text for b in message.blocks if isinstance(b, TextBlock)) or None
    return None


async def resolve(memory: AsyncMemory, block_kwargs: dict[str, Any]) -> tuple[str, str | None]:
    """(thread id, resource id) for this call: kwargs first, else the session and its thread's owner.

    The resource is None when the thread is not (yet) in Mastra's tables and none was given.
    """
    thread_id = block_kwargs.get("thread_id") or block_kwargs.get("session_id")
    if not isinstance(thread_id, str) or not thread_id:
        raise InvalidInputError("a Mastra memory block needs the session_id Memory passes (the thread id)")
    resource_id = block_kwargs.get("resource_id")
    if isinstance(resource_id, str) and resource_id:
        return thread_id, resource_id
    thread = await memory.get_thread(thread_id)
    return thread_id, None if thread is None else thread.resource_id


class _MastraBlock(BaseMemoryBlock[str]):
    accept_short_term_memory: bool = Field(default=False)
    _memory: AsyncMemory = PrivateAttr()

    def __init__(self, *, async_memory: AsyncMemory, **data: Any) -> None:
        if not isinstance(async_memory, AsyncMemory):
            raise TypeError(f"async_memory must be an AsyncMemory, got {type(async_memory).__name__}")
        super().__init__(**data)
        self._memory = async_memory

    async def _aput(self, messages: list[ChatMessage]) -> None:
        return None  # read-only: see the module docstring


class WorkingMemoryBlock(_MastraBlock):
    """Mastra's working memory of the session's user (or thread): the stored document and the
    instruction telling the model how to keep it, as Mastra words it.

    The settings (scope, template or schema, read-only) are the memory's
    ``MemoryConfig(working_memory=...)``, the ones Mastra agents on the same tables use. The model
    updates the document with :class:`~llama_index_mastra_memory.WorkingMemoryToolSpec`'s tool;
    the next ``aget`` shows the change. Priority 0: LlamaIndex never truncates it.

    Raises:
        InvalidInputError: (at construction) working memory is off in the memory's config.
    """

    name: str = Field(default="working_memory")
    priority: int = Field(default=0)

    def __init__(self, *, async_memory: AsyncMemory, **data: Any) -> None:
        super().__init__(async_memory=async_memory, **data)
        wm = async_memory.config.working_memory
        if wm is None or not wm.enabled:
            raise InvalidInputError(
                "working memory is off for this memory; build it with "
                "MemoryConfig(working_memory=WorkingMemory(enabled=True))"
            )

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        wm = self._memory.config.working_memory
        assert wm is not None
        thread_id, resource_id = await resolve(self._memory, block_kwargs)
        document = None
        if resource_id is not None or wm.scope == "thread":
            document = await self._memory.get_working_memory(thread_id, resource_id)
        return working_memory_instruction(wm, document)

    async def atruncate(self, content: str, tokens_to_truncate: int) -> str | None:
        return content  # the model must always see the whole document it is asked to keep


def _render(recalled: list[Message], thread_id: str) -> str:
    same = [m for m in recalled if m.thread_id == thread_id]
    other = [m for m in recalled if m.thread_id != thread_id]
    blocks = []
    if other:
        blocks.append(render_remembered(other))
    if same:
        blocks.append("\n".join([EARLIER_PREAMBLE, *(f"- {m.role}: {m.text}" for m in same)]))
    return "\n\n".join(blocks)


class SemanticRecallBlock(_MastraBlock):
    """Messages recalled from the user's (or the thread's) history for the newest user message.

    Mastra's semantic recall with this block's own settings: ``top_k`` hits, ``message_range``
    neighbours around each (one number, or ``(before, after)``), ``scope`` ``"resource"`` (every
    thread of the user) or ``"thread"``, ``hybrid`` (vector + full text), ``threshold``. The
    embedder is the memory's; give the memory semantic recall in its config, so that messages are
    embedded as they are saved (without it they are found by keywords only). Each call builds
    its filter from that call's session; hits already in the active window ``Memory`` hands the
    block are dropped. Messages from other threads are rendered as Mastra renders them (dated,
    under its "remembered from a different conversation" preamble); older messages of this thread
    follow, oldest first.

    Raises:
        InvalidInputError: (at construction) bad settings, or a memory without an embedder.
    """

    name: str = Field(default="semantic_recall")
    priority: int = Field(default=1)
    top_k: int = Field(default=4)
    message_range: int | tuple[int, int] = Field(default=1)
    scope: Literal["resource", "thread"] = Field(default="resource")
    hybrid: bool = Field(default=True)
    threshold: float | None = Field(default=None)
    _recall: SemanticRecall = PrivateAttr()

    def __init__(self, *, async_memory: AsyncMemory, **data: Any) -> None:
        super().__init__(async_memory=async_memory, **data)
        base = async_memory.config.recall
        self._recall = SemanticRecall(
            top_k=self.top_k,
            message_range=self.message_range,
            scope=self.scope,
            threshold=self.threshold,
            hybrid=self.hybrid,
            vector_weight=base.vector_weight if base is not None else SemanticRecall().vector_weight,
        )
        with_recall(store_of(async_memory), self._recall)  # fails now, not on the first call

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        query = block_kwargs.get("query") or newest_user_text(messages)
        if not isinstance(query, str) or not query.strip():
            return ""
        thread_id, resource_id = await resolve(self._memory, block_kwargs)
        if resource_id is None:
            return ""  # a thread Mastra does not know and no resource: nothing of the user to recall
        store = with_recall(store_of(self._memory), self._recall)
        found = await run_async(self._memory, context(store, thread_id, resource_id, query=query, last_messages=0))
        active = list(messages or [])
        recalled: dict[str, Message] = {}
        for hit in found.hits:
            for message in hit.window:
                if message.id is not None and not all(m in active for m in from_mastra([message])):
                    recalled.setdefault(message.id, message)
        ordered = sorted(recalled.values(), key=lambda m: (m.created_at, m.id or ""))
        return _render(ordered, thread_id)


class MastraContextBlock(_MastraBlock):
    """Working memory and recalled messages (Mastra's system blocks) for the current session, from
    one ``context()`` call with the memory's own config (what ``MastraMemory`` puts first).

    - ``session_id`` (from ``Memory``) is the thread id; a thread unknown to Mastra, without a
      ``resource_id`` kwarg, gives an empty block.
    - The recall query is the newest user message ``Memory`` hands the block.
    - ``priority`` 0 by default: ``Memory`` never truncates it.
    """

    name: str = Field(default="mastra_memory")
    top_k: int | None = Field(default=None)

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        thread_id, resource_id = await resolve(self._memory, block_kwargs)
        if resource_id is None:
            return ""
        found = await self._memory.context(
            thread_id, resource_id, query=newest_user_text(messages), last_messages=0, top_k=self.top_k
        )
        return "\n\n".join(found.system)
