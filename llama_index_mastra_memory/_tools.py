"""``WorkingMemoryToolSpec``: Mastra's ``updateWorkingMemory`` tool for LlamaIndex agents.

One spec (and its tools) can serve every user of an agent: a tool call does not read the thread
or the user from the spec but from the run's workflow ``Context``. LlamaIndex hands a tool
function its ``Context`` when it has a parameter annotated ``Context`` (and hides that parameter
from the model). The memory of the run is ``ctx.store["memory"]``; values the caller sets with
``await ctx.store.set("thread_id", ...)`` / ``("resource_id", ...)`` take precedence.

This module must not use ``from __future__ import annotations``: LlamaIndex recognises the context
parameter by comparing the annotation object with ``Context``, which a string would not match.
"""

import json
from typing import Any

from llama_index.core.bridge.pydantic import BaseModel, ConfigDict
from llama_index.core.tools import FunctionTool, ToolMetadata
from llama_index.core.tools.tool_spec.base import SPEC_FUNCTION_TYPE, BaseToolSpec
from workflows import Context  # the class LlamaIndex compares tool annotations with

from mastra_memory import AsyncMemory, InvalidInputError, working_memory_tool

from ._memory import MastraMemory

__all__ = ["WorkingMemoryToolSpec"]

GET_TOOL_NAME = "getWorkingMemory"


def _arguments_model(name: str, schema: dict[str, Any]) -> type[BaseModel]:
    """A pydantic model whose JSON Schema is exactly the core's (what LlamaIndex sends the model);
    it declares no fields, so the arguments reach the handler as the model sent them."""

    class Arguments(BaseModel):
        model_config = ConfigDict(extra="allow")

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            copied: dict[str, Any] = json.loads(json.dumps(schema))
            return copied

    Arguments.__name__ = Arguments.__qualname__ = name
    return Arguments


class _NoArguments(BaseModel):
    pass


class WorkingMemoryToolSpec(BaseToolSpec):
    """``updateWorkingMemory`` (and ``getWorkingMemory``) over an ``AsyncMemory``.

    ``spec.to_tool_list()`` gives the tools for ``FunctionAgent(tools=...)``. The update tool has
    Mastra's name, description and argument schema for the memory's working-memory settings
    (Markdown document, JSON schema merge, or vnext), and runs the core's tool handler, so the
    document is checked and written in one statement, visible to the next ``aget``.

    The thread and user of a call come from the run's ``Context`` (see the module docs): a
    :class:`MastraMemory` gives both; LlamaIndex's ``Memory`` gives its ``session_id`` as the
    thread, whose owner is looked up (or set ``resource_id`` in the context store).

    A refused update (bad arguments: Markdown given as an object, fields that do not fit the
    schema) comes back to the model as ``{"success": false, "message": ...}`` so it can retry;
    other errors (another user's thread, storage) propagate to the agent.

    Raises:
        InvalidInputError: (at construction) working memory is off or read-only in the memory's
            config; (on a call) the context names no thread or user.
    """

    spec_functions: list[SPEC_FUNCTION_TYPE] = ["update_working_memory", "get_working_memory"]  # noqa: RUF012

    def __init__(self, async_memory: AsyncMemory) -> None:
        if not isinstance(async_memory, AsyncMemory):
            raise TypeError(f"async_memory must be an AsyncMemory, got {type(async_memory).__name__}")
        tool = working_memory_tool(async_memory.config)
        if tool is None:
            raise InvalidInputError(
                "this memory has no working-memory tool: working memory is off or read-only in its config"
            )
        self._memory, self._tool = async_memory, tool

    async def _ids(self, ctx: Context) -> tuple[str, str]:
        thread_id = await ctx.store.get("thread_id", default=None)
        resource_id = await ctx.store.get("resource_id", default=None)
        memory = await ctx.store.get("memory", default=None)
        if isinstance(memory, MastraMemory):
            thread_id, resource_id = thread_id or memory.thread_id, resource_id or memory.resource_id
        elif isinstance(getattr(memory, "session_id", None), str):  # LlamaIndex's Memory
            thread_id = thread_id or memory.session_id
        if not isinstance(thread_id, str) or not thread_id:
            raise InvalidInputError(
                "the run's Context names no thread: pass memory=MastraMemory(...) (or a Memory whose "
                "session_id is the thread id) to agent.run, or set ctx.store 'thread_id'"
            )
        if not isinstance(resource_id, str) or not resource_id:
            thread = await self._memory.get_thread(thread_id)
            if thread is None:
                raise InvalidInputError(
                    f"thread {thread_id!r} is not stored yet, so its user is unknown; set ctx.store 'resource_id'"
                )
            resource_id = thread.resource_id
        return thread_id, resource_id

    async def update_working_memory(self, ctx: Context, **arguments: Any) -> str:
        """Save working memory for the run's thread and user (the arguments are the model's).

        Returns the core tool's answer as JSON text (``{"success": true}``, or ``false`` with a
        ``message``), which is what the model reads.
        """
        thread_id, resource_id = await self._ids(ctx)
        try:
            result: dict[str, Any] = await self._tool.handle(self._memory, thread_id, resource_id, arguments)
        except InvalidInputError as exc:
            result = {"success": False, "message": str(exc)}
        return json.dumps(result)

    async def get_working_memory(self, ctx: Context) -> str:
        """The working-memory document of the run's thread and user ('' when nothing is stored)."""
        thread_id, resource_id = await self._ids(ctx)
        return await self._memory.get_working_memory(thread_id, resource_id) or ""

    def to_tool_list(
        self,
        spec_functions: list[SPEC_FUNCTION_TYPE] | None = None,
        func_to_metadata_mapping: dict[str, ToolMetadata] | None = None,
    ) -> list[FunctionTool]:
        """The tools: ``updateWorkingMemory`` with Mastra's schema, then ``getWorkingMemory``."""
        wanted = spec_functions or self.spec_functions
        metadata = {
            "update_working_memory": ToolMetadata(
                name=self._tool.name,
                description=self._tool.description,
                fn_schema=_arguments_model("UpdateWorkingMemory", self._tool.input_schema),
            ),
            "get_working_memory": ToolMetadata(
                name=GET_TOOL_NAME,
                description="Read your working memory: the stored document about the user, as text.",
                fn_schema=_NoArguments,
            ),
            **(func_to_metadata_mapping or {}),
        }
        names = [name for name in wanted if isinstance(name, str) and name in metadata]
        if len(names) != len(wanted):
            raise InvalidInputError(f"spec_functions must be names among {list(self.spec_functions)}, got {wanted}")
        return [FunctionTool.from_defaults(async_fn=getattr(self, n), tool_metadata=metadata[n]) for n in names]
