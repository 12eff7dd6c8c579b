"""``ObservationsBlock``: Mastra's observational memory as a block of LlamaIndex's own ``Memory``.

LlamaIndex's ``Memory`` keeps recent messages in its FIFO and, once they exceed its token limit,
flushes the oldest into its blocks. This block saves what is flushed into the Mastra thread
(``session_id`` = thread id) and serves, for each call, the observations Mastra's Observer made of
them — plus, verbatim, flushed messages not observed yet, so nothing drops out of the prompt while
an observation is pending or has failed. The Observer runs when the unobserved messages reach the
threshold (inside ``aget``, or in the background with ``ObservationalMemory(background=True)``).

Background mode needs an event loop that outlives the call. LlamaIndex's sync ``Memory.get`` runs
``aget`` on a loop it closes right after, which would kill a scheduled observation; such calls
observe before returning instead (as in blocking mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from dataclasses import replace
from functools import cache
from typing import Any

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.memory import BaseMemoryBlock
from llama_index.core.memory import Memory as LlamaMemory

from mastra_memory import AsyncMemory, ConflictError, InvalidInputError, ObservationalMemory
from mastra_memory.observational import observation_blocks, with_observational_memory

from ._messages import to_mastra

__all__ = ["ObservationsBlock"]

PENDING_HEADER = "Earlier messages of this conversation, not yet summarised in the observations:"


class ObservationsBlock(BaseMemoryBlock[str]):
    """Observations of the session's older messages (Mastra's observational memory) as a memory block.

    - ``session_id`` (from ``Memory``) is the Mastra thread id; ``resource_id`` (a field, or the
      ``resource_id`` block kwarg) owns it — the thread is created for it on the first flush.
    - ``observational_memory``: the options (model, thresholds…) when the ``AsyncMemory`` given
      does not already have them in its config.
    - ``accept_short_term_memory`` is True: flushed messages are written to the Mastra thread
      (one statement per flush). Do not combine with ``MastraDBChatStore``, which already keeps
      every message there.
    - ``priority`` 0 by default: ``Memory`` never truncates it.

    Raises:
        InvalidInputError: no observational-memory options anywhere.
    """

    name: str = Field(default="observations")
    accept_short_term_memory: bool = Field(default=True)
    resource_id: str | None = Field(default=None)
    _memory: AsyncMemory = PrivateAttr()
    _blocking: AsyncMemory = PrivateAttr()

    def __init__(
        self, *, async_memory: AsyncMemory, observational_memory: ObservationalMemory | None = None, **data: Any
    ) -> None:
        super().__init__(**data)
        if observational_memory is not None:
            async_memory = with_observational_memory(async_memory, observational_memory)
        elif async_memory.config.observational_memory is None:
            raise InvalidInputError(
                "ObservationsBlock needs observational memory: pass observational_memory=ObservationalMemory(model=...)"
            )
        self._memory = async_memory
        om = async_memory.config.observational_memory
        assert om is not None
        # For calls whose loop dies with them (see _loop_ends_with_call): observe inline.
        self._blocking = (
            with_observational_memory(async_memory, replace(om, background=False)) if om.background else async_memory
        )

    async def _ids(self, thread_id: str | None, resource_id: str | None) -> tuple[str, str] | None:
        if not isinstance(thread_id, str) or not thread_id:
            return None
        resource = resource_id or self.resource_id
        if not resource:
            thread = await self._memory.get_thread(thread_id)
            if thread is None:
                return None
            resource = thread.resource_id
        return thread_id, resource

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        ids = await self._ids(block_kwargs.get("thread_id") or block_kwargs.get("session_id"),
                              block_kwargs.get("resource_id"))
        if ids is None:
            return ""
        memory = self._blocking if _loop_ends_with_call() else self._memory
        context = await memory.context(*ids)
        parts = observation_blocks(context.observations)
        pending = [m for m in context.messages if m.id != "om-continuation"]
        if pending:
            parts.append("\n".join([PENDING_HEADER, *(f"- {m.role}: {m.text}" for m in pending)]))
        return "\n\n".join(parts)

    async def _aput(self, messages: list[ChatMessage]) -> None:
        by_thread: dict[str, list[ChatMessage]] = {}
        for message in messages:
            session = message.additional_kwargs.get("session_id")
            if isinstance(session, str) and session:
                by_thread.setdefault(session, []).append(message)
        for thread_id, batch in by_thread.items():
            ids = await self._ids(thread_id, None)
            if ids is None:
                continue  # no resource known for a thread Mastra does not have: nothing to attach it to
            with contextlib.suppress(ConflictError):  # exists: save_messages checks its owner
                await self._memory.create_thread(ids[1], thread_id=thread_id)
            await self._memory.save_messages(to_mastra(batch, thread_id, ids[1]))


@cache
def _llama_memory_codes() -> frozenset[Any]:
    return frozenset(
        member.__code__ for _, member in inspect.getmembers(LlamaMemory, inspect.iscoroutinefunction)
    )


def _loop_ends_with_call() -> bool:
    """Whether this call runs as the loop's top-level task for a ``Memory`` coroutine: what
    LlamaIndex's sync wrappers (``asyncio_run``) do before closing or leaving that loop, so a
    task scheduled now would never finish. From an async agent the top task is the agent's."""
    task = asyncio.current_task()
    code = getattr(task.get_coro(), "cr_code", None) if task is not None else None
    return code in _llama_memory_codes()
