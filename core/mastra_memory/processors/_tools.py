"""``filter_tool_calls``: take tool calls and results out of a conversation (Mastra's ToolCallFilter)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, overload

from .._content import MessageContent
from .._errors import InvalidInputError
from .._types import Message
from ..recall import MemoryContext
from ._parts import ToolPart, check_messages, tool_part, with_messages

__all__ = ["filter_tool_calls"]


def _names(tools: Iterable[str] | str | None) -> frozenset[str] | None:
    if tools is None:
        return None
    if isinstance(tools, str):
        return frozenset([tools])
    names = list(tools)
    for name in names:
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"tools must be tool names (non-empty strings), got {name!r}")
    return frozenset(names)


def _matches(tool: ToolPart, names: frozenset[str] | None, call_ids: set[str]) -> bool:
    if names is None:
        return True
    return tool.name in names or tool.call_id in call_ids


def _invocation_matches(entry: Any, names: frozenset[str] | None, call_ids: set[str]) -> bool:
    """For the legacy ``toolInvocations`` array Mastra keeps beside the parts."""
    if names is None:
        return True
    if not isinstance(entry, dict):
        return False
    return entry.get("toolName") in names or entry.get("toolCallId") in call_ids


def _is_empty(content: MessageContent) -> bool:
    """Nothing left worth showing: no parts but step markers, and no text."""
    return all(p.get("type") == "step-start" for p in content.parts) and not content.text.strip()


def _strip(message: Message, names: frozenset[str] | None, call_ids: set[str]) -> Message | None:
    """The message without the matching tool parts; None when nothing else was left in it."""
    parts = [
        p for p in message.content.parts if (tool := tool_part(p)) is None or not _matches(tool, names, call_ids)
    ]
    extra = dict(message.content.extra)
    legacy = extra.get("toolInvocations")
    if isinstance(legacy, list):
        left = [e for e in legacy if not _invocation_matches(e, names, call_ids)]
        if left:
            extra["toolInvocations"] = left
        else:
            del extra["toolInvocations"]
    if len(parts) == len(message.content.parts) and extra == message.content.extra:
        return message  # untouched: keep the very object
    content = MessageContent(parts=parts, extra=extra)
    return None if _is_empty(content) else replace(message, content=content)


def _filter(messages: list[Message], names: frozenset[str] | None) -> list[Message]:
    if names is not None and not names:
        return messages  # an empty list names no tool (as in Mastra)
    call_ids: set[str] = set()
    if names is not None:  # a result part may carry only its call's id
        for message in messages:
            for part in message.content.parts:
                tool = tool_part(part)
                if tool is not None and tool.name in names and tool.call_id is not None:
                    call_ids.add(tool.call_id)
    kept = (_strip(m, names, call_ids) for m in messages)
    return [m for m in kept if m is not None]


@overload
def filter_tool_calls(messages: MemoryContext, tools: Iterable[str] | str | None = None) -> MemoryContext: ...
@overload
def filter_tool_calls(messages: Sequence[Message], tools: Iterable[str] | str | None = None) -> list[Message]: ...
def filter_tool_calls(
    messages: Sequence[Message] | MemoryContext, tools: Iterable[str] | str | None = None
) -> list[Message] | MemoryContext:
    """Remove tool calls and their results, to save tokens or hide tool traffic from a model.

    With ``tools=None`` every tool call and result goes; with names, only those tools' calls and
    results (matched by name, and results also by their call's id); an empty list changes nothing.
    Mastra's legacy ``toolInvocations`` array is filtered the same way. A message left with
    nothing but step markers and no text is dropped; a message that had no tool part is returned
    as the same object, others as changed copies (inputs are never modified).

    Given a ``MemoryContext`` it returns one with the filtered messages and its same-thread hits
    and diagnostics updated; given a list, a new list.

    Raises:
        InvalidInputError: an item is not a Message, or a tool name is not a non-empty string.
    """
    names = _names(tools)
    if isinstance(messages, MemoryContext):
        return with_messages(messages, _filter(check_messages(messages.messages, "filter_tool_calls"), names))
    return _filter(check_messages(messages, "filter_tool_calls"), names)
