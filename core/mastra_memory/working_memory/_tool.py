"""The ``updateWorkingMemory`` tool, framework-neutral: a name, a description, the JSON Schema of
its input and a handler. The LangChain and LlamaIndex adapters wrap it; any other framework can too.
"""

from __future__ import annotations

import copy
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from .._errors import InvalidInputError
from .._plan import Plan
from .._validate import check_id
from ._config import WorkingMemory
from ._instruction import TOOL_NAME
from ._ops import markdown_change, merge_change, required_config, write
from ._schema import partial_schema

if TYPE_CHECKING:
    from .._config import MemoryConfig
    from .._memory import AsyncMemory, Memory
    from .._store import Store

_MARKDOWN_DESCRIPTION = (
    "Save your working memory. Pass the WHOLE Markdown document as one string in `memory`: it replaces the "
    "stored document, so include everything worth keeping, not only what changed. Never pass an object."
)
_JSON_DESCRIPTION = (
    "Update your working memory. Pass in `memory` only the fields to add or change: they are merged into the "
    "stored data. Leave a field out to keep it; set it to null to remove it. A list replaces the stored list, "
    "so pass the complete list."
)
_VNEXT_DESCRIPTION = (
    "Update your working memory: append new Markdown, or replace the exact text given in `searchString`."
)
_REASONS = ("append-new-memory", "clarify-existing-memory", "replace-irrelevant-memory")


def _rebased(node: Any, base: str) -> Any:
    """Local ``$ref`` pointers moved under ``base``, since the schema is nested in the tool's input."""
    if isinstance(node, dict):
        out = {k: _rebased(v, base) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            out["$ref"] = base + ref[1:]
        return out
    if isinstance(node, list):
        return [_rebased(v, base) for v in node]
    return node


def input_schema(wm: WorkingMemory) -> dict[str, Any]:
    """The JSON Schema of the tool's arguments."""
    if wm.json_schema is not None:
        memory = _rebased(partial_schema(wm.json_schema), "#/properties/memory")
        memory["description"] = "The fields of working memory to add or change (merged; null removes a field)."
        return {"type": "object", "properties": {"memory": memory}, "required": ["memory"]}
    if wm.version == "vnext":
        return {
            "type": "object",
            "properties": {
                "newMemory": {"type": "string", "description": "The Markdown text to add, or to put in place."},
                "searchString": {
                    "type": "string",
                    "description": "Exact text of the working memory to replace with newMemory (one line works best). "
                    "If it is missing or not found, newMemory is appended. Required unless updateReason is "
                    "append-new-memory.",
                },
                "updateReason": {
                    "type": "string",
                    "enum": list(_REASONS),
                    "description": "Why you change the memory (default append-new-memory).",
                },
            },
            "additionalProperties": False,
        }
    return {
        "type": "object",
        "properties": {
            "memory": {
                "type": "string",
                "description": "The whole working memory as Markdown: one string, never an object. It replaces the "
                "stored document.",
            }
        },
        "required": ["memory"],
        "additionalProperties": False,
    }


def tool_call(s: Store, thread_id: str, resource_id: str, args: Mapping[str, Any]) -> Plan[dict[str, Any]]:
    """One call of the tool, as Mastra's tool runs it: the thread is created when missing and must
    belong to ``resource_id``; then the document is updated in one statement."""
    wm = required_config(s)
    if wm.read_only:
        raise InvalidInputError("working memory is read-only in this configuration; the model has no tool to change it")
    thread_id, resource_id = check_id(thread_id, "thread_id"), check_id(resource_id, "resource_id")
    if not isinstance(args, Mapping):
        raise InvalidInputError(f"{TOOL_NAME} takes an object of arguments, got {type(args).__name__}")
    if wm.schema is not None:
        if args.get("memory") is None:
            return {"success": True, "message": "No memory data given; working memory unchanged."}
        change = merge_change(wm, args["memory"])
    elif wm.version == "vnext":
        reason = args.get("updateReason") or "append-new-memory"
        search = args.get("searchString") or None
        if reason not in _REASONS:
            raise InvalidInputError(f"updateReason must be one of {', '.join(_REASONS)}, got {reason!r}")
        if reason == "append-new-memory" or (reason == "replace-irrelevant-memory" and wm.scope == "resource"):
            search = None  # appending; and a shared resource memory is not pruned for being off-topic
        elif search is None:
            return {"success": False, "message": f"updateReason {reason} needs a searchString: the text to replace"}
        change = markdown_change(wm, args.get("newMemory") or "", search=search or "")
    else:
        if "memory" not in args:
            raise InvalidInputError(f"{TOOL_NAME} needs `memory`: the whole working memory as one Markdown string")
        change = markdown_change(wm, args["memory"])
    result = yield from write(s, wm, thread_id, resource_id, change, ensure_thread=True)
    return {"success": True} if result.saved else {"success": False, "message": result.message}


@dataclass(frozen=True, slots=True)
class WorkingMemoryTool:
    """``updateWorkingMemory``: what to register with a model, and the code that runs a call.

    Attributes:
        name: ``updateWorkingMemory``, the name Mastra registers (so transcripts match).
        description: what the tool does, for the model.
        input_schema: JSON Schema of the arguments. Markdown: ``{"memory": string}``, the whole
            document. Schema mode: ``{"memory": <your schema without required fields>}``, a
            partial update that is merged. vnext: ``newMemory``/``searchString``/``updateReason``.
    """

    name: str
    description: str
    input_schema: dict[str, Any]

    @overload
    def handle(self, memory: Memory, thread_id: str, resource_id: str, args: Mapping[str, Any]) -> dict[str, Any]: ...
    @overload
    def handle(
        self, memory: AsyncMemory, thread_id: str, resource_id: str, args: Mapping[str, Any]
    ) -> Coroutine[Any, Any, dict[str, Any]]: ...
    def handle(self, memory: Any, thread_id: str, resource_id: str, args: Mapping[str, Any]) -> Any:
        """Run one tool call for the conversation ``thread_id`` of ``resource_id``.

        With a ``Memory`` it blocks; with an ``AsyncMemory`` it returns a coroutine to await.
        The result is JSON for the model: ``{"success": true}``, or ``{"success": false,
        "message": …}`` when the update was refused (the empty template over real data).
        The memory's own configuration decides how the update is applied.

        Raises:
            InvalidInputError: bad arguments (Markdown as an object, fields that do not fit the
                schema — all listed); show its message to the model so it can retry.
            OwnershipError: the thread belongs to another resource.
        """
        given = copy.deepcopy(dict(args)) if isinstance(args, Mapping) else args
        return memory._run(tool_call(memory._store, thread_id, resource_id, given))


def working_memory_tool(config: MemoryConfig | WorkingMemory | None) -> WorkingMemoryTool | None:
    """The ``updateWorkingMemory`` tool for these settings, or None when working memory is off or
    read-only (the model then only sees the data, as in Mastra)."""
    wm = getattr(config, "working_memory", config)
    if not isinstance(wm, WorkingMemory) or not wm.enabled or wm.read_only:
        return None
    if wm.schema is not None:
        description = _JSON_DESCRIPTION
    else:
        description = _VNEXT_DESCRIPTION if wm.version == "vnext" else _MARKDOWN_DESCRIPTION
    return WorkingMemoryTool(TOOL_NAME, description, input_schema(wm))
