"""Memory tools any LangChain agent can call."""

from __future__ import annotations

import json
from typing import Any

from langchain.tools import ToolRuntime
from langchain_core.documents import Document
from langchain_core.tools import BaseTool, StructuredTool

from mastra_memory import AsyncMemory, InvalidInputError, Memory

from ._ids import resolve_ids
from ._recall import documents, recall_k

__all__ = ["create_search_memory_tool", "create_update_working_memory_tool"]

_DESCRIPTION = (
    "Search the user's past conversations for messages relevant to a query (names, facts, preferences, "
    "earlier plans). Use it when the answer may have been said before."
)


def _render(docs: list[Document]) -> str:
    if not docs:
        return "No matching messages were found in memory."
    lines = []
    for doc in docs:
        day = (doc.metadata.get("created_at") or "")[:10]
        lines.append(f"- [{day}] {doc.metadata.get('role')}: {doc.page_content}")
    return "Messages found in memory, best match first:\n" + "\n".join(lines)


def create_search_memory_tool(
    memory: Memory | AsyncMemory,
    *,
    resource_id: str | None = None,
    k: int | None = None,
    name: str = "search_memory",
) -> BaseTool:
    """A ``search_memory(query)`` tool over Mastra's semantic recall, for any agent.

    The thread and resource come from the run (``configurable.thread_id``; the run context's or
    ``configurable``'s ``resource_id``), else ``resource_id`` here. Scope, neighbours, hybrid search
    and threshold follow the memory's config; ``k`` overrides its ``top_k``. The hits go back to the
    model as text, and as ``Document`` objects in the tool message's ``artifact``.
    """

    def _ids(runtime: ToolRuntime[Any, Any]) -> tuple[str, str]:
        info = getattr(runtime, "execution_info", None)
        return resolve_ids(execution_info=info, context=runtime.context, config=runtime.config,
                           default_resource_id=resource_id, require_thread=False)

    def search(query: str, runtime: ToolRuntime[Any, Any]) -> tuple[str, list[Document]]:
        if not isinstance(memory, Memory):
            raise TypeError("search_memory wraps an AsyncMemory: run the agent with ainvoke()")
        thread_id, rid = _ids(runtime)
        ctx = memory.context(thread_id, rid, query=query, last_messages=0, top_k=recall_k(memory, k))
        docs = documents(ctx, rid, k)
        return _render(docs), docs

    async def asearch(query: str, runtime: ToolRuntime[Any, Any]) -> tuple[str, list[Document]]:
        if isinstance(memory, Memory):
            return search(query, runtime)
        thread_id, rid = _ids(runtime)
        ctx = await memory.context(thread_id, rid, query=query, last_messages=0, top_k=recall_k(memory, k))
        docs = documents(ctx, rid, k)
        return _render(docs), docs

    return StructuredTool.from_function(
        func=search, coroutine=asearch, name=name, description=_DESCRIPTION, response_format="content_and_artifact"
    )


def create_update_working_memory_tool(
    memory: Memory | AsyncMemory, *, resource_id: str | None = None
) -> BaseTool | None:
    """Mastra's ``updateWorkingMemory`` tool as a LangChain tool, or None when the memory's config
    has working memory off or read-only (the model then only sees the document, as in Mastra).

    Name, description and argument schema are the core's (:func:`mastra_memory.working_memory.
    working_memory_tool`), so the model is offered exactly what a Mastra agent is offered, and the
    update is applied by the core (replace for Markdown, merge for a schema, vnext edits). The
    thread and resource come from the run as for :func:`create_search_memory_tool`. Refused
    arguments come back to the model as ``{"success": false, "message": ...}`` so it can retry.
    """
    from mastra_memory.working_memory import working_memory_tool

    spec = working_memory_tool(memory.config)
    if spec is None:
        return None

    def _ids(runtime: ToolRuntime[Any, Any]) -> tuple[str, str]:
        return resolve_ids(execution_info=getattr(runtime, "execution_info", None), context=runtime.context,
                           config=runtime.config, default_resource_id=resource_id)

    def update(runtime: ToolRuntime[Any, Any], **args: Any) -> str:
        if not isinstance(memory, Memory):
            raise TypeError(f"{spec.name} wraps an AsyncMemory: run the agent with ainvoke()")
        thread_id, rid = _ids(runtime)
        try:
            result = spec.handle(memory, thread_id, rid, args)
        except InvalidInputError as exc:
            result = {"success": False, "message": str(exc)}
        return json.dumps(result)

    async def aupdate(runtime: ToolRuntime[Any, Any], **args: Any) -> str:
        if isinstance(memory, Memory):
            return update(runtime, **args)
        thread_id, rid = _ids(runtime)
        try:
            result = await spec.handle(memory, thread_id, rid, args)
        except InvalidInputError as exc:
            result = {"success": False, "message": str(exc)}
        return json.dumps(result)

    return StructuredTool.from_function(
        func=update, coroutine=aupdate, name=spec.name, description=spec.description, args_schema=spec.input_schema
    )
