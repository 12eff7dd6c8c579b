"""``MastraMemoryMiddleware``: Mastra's memory around a LangChain v1 ``create_agent`` agent."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Annotated, Any

from langchain.agents.middleware.types import (
    AgentMiddleware,
    AgentState,
    ModelRequest,
    ModelResponse,
    PrivateStateAttr,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.runtime import Runtime
from typing_extensions import NotRequired

from mastra_memory import AsyncMemory, BackgroundTitles, ConflictError, Memory, MemoryContext, ObservationalMemory
from mastra_memory.observational import with_observational_memory

from ._ids import resolve_ids
from ._messages import from_mastra, to_mastra
from ._models import LangChainChatModel
from ._tools import create_search_memory_tool, create_update_working_memory_tool

__all__ = ["MastraMemoryMiddleware", "MastraMemoryState"]


class MastraMemoryState(AgentState[Any]):
    """Agent state plus the ids this middleware already saved (private: not in the graph's I/O).

    With a checkpointer the state keeps earlier turns; remembering what was saved keeps each
    turn's write to the new messages instead of re-saving (and re-embedding) the whole thread.
    """

    mastra_memory_saved: NotRequired[Annotated[list[str], PrivateStateAttr]]


ModelCallResult = ModelResponse | AIMessage


def _query(messages: Sequence[BaseMessage]) -> str | None:
    """The newest user text: what recall searches for (as Mastra does)."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            text = message.text
            return text if text.strip() else None
    return None


def _unsaved(messages: Sequence[BaseMessage], saved: set[str]) -> list[BaseMessage]:
    """Messages from the first unsaved one on, widened back to the start of its assistant turn, so a
    turn stored as one Mastra row is rewritten whole (same row id) rather than split."""
    first = next((i for i, m in enumerate(messages) if m.id is None or m.id not in saved), None)
    if first is None:
        return []
    while first > 0 and isinstance(messages[first], AIMessage | ToolMessage) and isinstance(
        messages[first - 1], AIMessage | ToolMessage
    ):
        first -= 1
    return list(messages[first:])


class MastraMemoryMiddleware(AgentMiddleware[MastraMemoryState, Any]):
    """Gives a ``create_agent`` agent Mastra's memory: history, semantic recall, working memory.

    Per run (``invoke`` or ``ainvoke``):

    - ``before_agent``: makes sure the thread exists for the resource (one statement);
    - before every model call: one ``memory.context(...)`` statement (history, recall hits and
      working memory for the newest user text); its system blocks are appended to the agent's
      system prompt and its messages put in front of the agent's own (dropping any the agent
      already holds, by id) through ``request.override``;
    - ``after_agent``: saves the run's new messages in one round trip as Mastra rows. Ids are the
      LangChain message ids, so repeating a step never duplicates a message.

    Ids: the thread from ``config["configurable"]["thread_id"]``; the resource from the run
    context (``resource_id`` attribute or key, e.g. ``create_agent(context_schema=...)``), else
    ``configurable["resource_id"]``/``["user_id"]``, else the ``resource_id`` given here.

    Use a ``Memory`` with ``invoke`` and an ``AsyncMemory`` with ``ainvoke``. Without a
    checkpointer the database alone holds the history (Mastra's model). With one, set
    ``include_history=False`` if the checkpointed messages should be the only history.

    Args:
        memory: the memory (its ``MemoryConfig`` sets last N, recall and their options).
        resource_id: fallback resource when the run does not name one.
        include_history: put the thread's stored messages in front of the model.
        read_only: read memory but never write (no thread creation, no saving, no write tools).
        search_tool: also give the model a ``search_memory`` tool.

    With working memory on in the memory's config (and not read-only), the model also gets
    Mastra's ``updateWorkingMemory`` tool; the working-memory instruction and document come in
    the context's system blocks.

    With ``MemoryConfig(generate_title=...)`` on, a thread still without a title is named after
    the run is saved, from its first user message, in the background (a daemon thread under
    ``invoke``, a task under ``ainvoke``) so the answer never waits for it. The model is the
    configured one, else the agent's own. ``middleware.titles.join()`` (``await ...ajoin()``) waits
    for pending titles, e.g. before a script exits.

    ``observational_memory=ObservationalMemory(model=...)`` turns on Mastra's observational memory
    for this agent (the memory's own config may also carry it): the context then holds the
    observations plus the unobserved messages, the Observer runs when they pass the threshold, and
    checkpointed messages it has observed are left out of the model call. Wrap a LangChain chat
    model with ``LangChainChatModel`` to use it as Observer. With ``read_only=True`` the
    observations are read but never written (the Observer and Reflector do not run).
    """

    state_schema = MastraMemoryState

    def __init__(
        self,
        memory: Memory | AsyncMemory,
        *,
        resource_id: str | None = None,
        include_history: bool = True,
        read_only: bool = False,
        search_tool: bool = False,
        observational_memory: ObservationalMemory | None = None,
    ) -> None:
        super().__init__()
        om = observational_memory or memory.config.observational_memory
        if om is not None and read_only and not om.read_only:
            om = replace(om, read_only=True)  # read-only: context() must not run the Observer either
        if om is not None and om is not memory.config.observational_memory:  # same pool, OM on for this agent
            memory = with_observational_memory(memory, om)
        self.memory = memory
        self.resource_id = resource_id
        self.include_history = include_history
        self.read_only = read_only
        tools = [create_search_memory_tool(memory, resource_id=resource_id)] if search_tool else []
        wm_tool = None if read_only else create_update_working_memory_tool(memory, resource_id=resource_id)
        self.tools = [*tools, wm_tool] if wm_tool is not None else tools
        self.titles = BackgroundTitles(memory)
        self._title_model: LangChainChatModel | None = None  # the agent's model, seen at its first call

    # ------------------------------------------------------------------ helpers

    def _ids(self, runtime: Runtime[Any]) -> tuple[str, str]:
        return resolve_ids(
            execution_info=getattr(runtime, "execution_info", None),
            context=runtime.context,
            default_resource_id=self.resource_id,
        )

    def _sync(self) -> Memory:
        if not isinstance(self.memory, Memory):
            raise TypeError("MastraMemoryMiddleware holds an AsyncMemory: run the agent with ainvoke()/astream()")
        return self.memory

    def _async(self) -> AsyncMemory:
        if not isinstance(self.memory, AsyncMemory):
            raise TypeError("MastraMemoryMiddleware holds a Memory: run the agent with invoke()/stream()")
        return self.memory

    def _last_messages(self) -> int | None:
        return None if self.include_history else 0

    def _request(self, request: ModelRequest[Any], ctx: MemoryContext) -> ModelRequest[Any]:
        overrides: dict[str, Any] = {}
        if ctx.system:
            base = request.system_message
            blocks = [b.text for b in ([base] if base is not None else []) if b.text] + ctx.system
            overrides["system_message"] = SystemMessage(content="\n\n".join(blocks))
        if ctx.messages:
            present = {m.id for m in request.messages if m.id is not None}
            history = [m for m in from_mastra(ctx.messages) if m.id not in present]
            own = list(request.messages)
            if ctx.observations is not None and ctx.observations.record is not None:  # checkpointed, now observed
                observed = set(ctx.observations.record.observed_message_ids)
                own = [m for m in own if m.id is None or m.id not in observed]
            if history or len(own) != len(request.messages):
                overrides["messages"] = [*history, *own]
        return request.override(**overrides) if overrides else request

    def _see_model(self, request: ModelRequest[Any]) -> None:
        """Keep the agent's model for titles when no title model is configured (Mastra's fallback)."""
        model = request.model
        if not self.titles.enabled or not isinstance(model, BaseChatModel):  # e.g. a configurable model
            return
        if self._title_model is None or self._title_model.chat_model is not model:
            self._title_model = LangChainChatModel(model)

    def _to_save(self, state: MastraMemoryState, thread_id: str, resource_id: str) -> tuple[list[Any], list[str]]:
        messages = list(state.get("messages", []))
        saved = set(state.get("mastra_memory_saved", []))
        new = _unsaved(messages, saved)
        return to_mastra(new, thread_id, resource_id), [m.id for m in messages if m.id is not None]

    # ------------------------------------------------------------------ hooks

    def before_agent(self, state: MastraMemoryState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        if self.read_only:
            return None
        thread_id, resource_id = self._ids(runtime)
        with contextlib.suppress(ConflictError):  # exists already: context() checks its owner
            self._sync().create_thread(resource_id, thread_id=thread_id)
        return None

    async def abefore_agent(self, state: MastraMemoryState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        if self.read_only:
            return None
        thread_id, resource_id = self._ids(runtime)
        with contextlib.suppress(ConflictError):
            await self._async().create_thread(resource_id, thread_id=thread_id)
        return None

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse]
    ) -> ModelCallResult:
        thread_id, resource_id = self._ids(request.runtime)
        ctx = self._sync().context(
            thread_id, resource_id, query=_query(request.messages), last_messages=self._last_messages()
        )
        self._see_model(request)
        return handler(self._request(request, ctx))

    async def awrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse]]
    ) -> ModelCallResult:
        thread_id, resource_id = self._ids(request.runtime)
        ctx = await self._async().context(
            thread_id, resource_id, query=_query(request.messages), last_messages=self._last_messages()
        )
        self._see_model(request)
        return await handler(self._request(request, ctx))

    def after_agent(self, state: MastraMemoryState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        if self.read_only:
            return None
        thread_id, resource_id = self._ids(runtime)
        rows, ids = self._to_save(state, thread_id, resource_id)
        if rows:
            self._sync().save_messages(rows)
            self.titles.start(thread_id, resource_id=resource_id, model=self._title_model)
        return {"mastra_memory_saved": ids}

    async def aafter_agent(self, state: MastraMemoryState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        if self.read_only:
            return None
        thread_id, resource_id = self._ids(runtime)
        rows, ids = self._to_save(state, thread_id, resource_id)
        if rows:
            await self._async().save_messages(rows)
            self.titles.astart(thread_id, resource_id=resource_id, model=self._title_model)
        return {"mastra_memory_saved": ids}
