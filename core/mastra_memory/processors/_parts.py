"""What the processors need to know about message parts: which are tool calls, and what a context
looks like once some of its messages were changed or dropped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .._errors import InvalidInputError
from .._tokens import count_tokens
from .._types import Message
from ..recall import MemoryContext


@dataclass(frozen=True, slots=True)
class ToolPart:
    """The tool facts of one part: the call id, the tool's name, and whether it holds the result."""

    call_id: str | None
    name: str | None
    has_result: bool


def tool_part(part: Mapping[str, Any]) -> ToolPart | None:
    """The tool facts of a part, or None for a part that is not a tool call or result.

    Format 2 keeps a call and its result in one ``tool-invocation`` part. Parts in the newer AI-SDK
    shape (``tool-<name>`` / ``dynamic-tool`` with ``toolCallId`` and an ``output-*`` state) are
    read too, since Mastra keeps part types it does not know.
    """
    kind = part.get("type")
    if kind == "tool-invocation":
        call = part.get("toolInvocation")
        if not isinstance(call, Mapping):
            return ToolPart(None, None, False)
        return ToolPart(_str(call.get("toolCallId")), _str(call.get("toolName")), call.get("state") == "result")
    if isinstance(kind, str) and "toolCallId" in part and (kind.startswith("tool-") or kind == "dynamic-tool"):
        name = _str(part.get("toolName")) if kind == "dynamic-tool" else kind[len("tool-"):]
        state = part.get("state")
        return ToolPart(_str(part.get("toolCallId")), name, state in ("output-available", "output-error"))
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def check_messages(messages: Sequence[Message], where: str) -> list[Message]:
    """The messages as a list, or InvalidInputError naming the first item that is not a Message."""
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise InvalidInputError(f"{where} takes a list of Message or a MemoryContext, got {type(messages).__name__}")
    for i, message in enumerate(messages):
        if not isinstance(message, Message):
            raise InvalidInputError(f"{where}: item {i} is a {type(message).__name__}, not a Message")
    return list(messages)


def with_messages(ctx: MemoryContext, messages: list[Message]) -> MemoryContext:
    """``ctx`` with new messages: same-thread hits and diagnostics follow the messages that remain."""
    by_id = {m.id: m for m in messages if m.id is not None}
    dropped = {m.id for m in ctx.messages if m.id is not None and m.id not in by_id}
    hits = []
    for hit in ctx.hits:
        if hit.same_thread:  # other-thread hits live in a system block, which processors keep
            if hit.message.id not in by_id:
                continue
            window = [by_id.get(w.id, w) if w.id is not None else w for w in hit.window if w.id not in dropped]
            hit = replace(hit, message=by_id[hit.message.id], window=window)
        hits.append(hit)
    tokens = dict(ctx.diagnostics.tokens)
    for message in ctx.messages:
        if message.id in dropped:  # take its text off its source's figure, measured as context() does
            source = ctx.diagnostics.sources.get(message.id or "", "")
            bucket = "recall" if source in ("recall", "neighbour") else source
            if bucket in tokens:
                spent = count_tokens(message.text)
                tokens[bucket] -= spent
                tokens["total"] = tokens.get("total", 0) - spent
    sources = {mid: src for mid, src in ctx.diagnostics.sources.items() if mid not in dropped}
    return replace(ctx, messages=messages, hits=hits, diagnostics=replace(ctx.diagnostics, sources=sources,
                                                                          tokens=tokens))
