"""``limit_tokens``: fit a conversation into a token budget, newest messages first (Mastra's TokenLimiter)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import overload

import orjson

from .._errors import InvalidInputError
from .._tokens import count_tokens
from .._types import Message
from ..recall import MemoryContext
from ._parts import check_messages, tool_part, with_messages

__all__ = ["MESSAGE_OVERHEAD", "limit_tokens", "message_tokens"]

TokenCounter = Callable[[str], int]

MESSAGE_OVERHEAD = 4
"""Tokens a chat API spends per message on role and separators (Mastra counts 3.8)."""


def _json(value: object) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # not JSON (a caller-built part); its repr still says roughly how long it is
        return repr(value)


def message_tokens(message: Message, count: TokenCounter = count_tokens) -> int:
    """Tokens one message costs in a prompt: its text, each tool call's name, arguments and result,
    other parts as JSON (as Mastra counts them), plus :data:`MESSAGE_OVERHEAD`."""
    total = MESSAGE_OVERHEAD
    counted_text = False
    for part in message.content.parts:
        kind = part.get("type")
        if kind == "text":
            total += count(str(part.get("text", "")))
            counted_text = True
        elif kind == "reasoning":
            total += count(str(part.get("reasoning", "")))
        elif kind == "step-start":
            continue
        elif (tool := tool_part(part)) is not None:
            call = part.get("toolInvocation", part)
            total += count(tool.name or "") + count(_json(call.get("args", call.get("input", {}))))
            if tool.has_result:
                total += count(_json(call.get("result", call.get("output"))))
        else:
            total += count(_json(part))
    if not counted_text:  # a legacy row may carry its text only in content.content
        total += count(message.text)
    return total


def _check_budget(max_tokens: object) -> int:
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
        raise InvalidInputError(f"max_tokens must be an integer >= 0, got {max_tokens!r}")
    return max_tokens


def _blocks(messages: list[Message]) -> list[range]:
    """Split positions into contiguous blocks that must be kept or dropped together.

    A tool call and its result normally share one message; in split form (LangChain-style, or
    legacy v1 rows) they are two messages, and everything between them goes with them, so the
    model never sees a result without its call or a call without its result.
    """
    first_seen: dict[str, int] = {}
    reach = list(range(len(messages)))  # reach[i]: the last position tied to position i
    for i, message in enumerate(messages):
        for part in message.content.parts:
            tool = tool_part(part)
            if tool is None or tool.call_id is None:
                continue
            start = first_seen.setdefault(tool.call_id, i)
            reach[start] = max(reach[start], i)
    blocks: list[range] = []
    i = 0
    while i < len(messages):
        end, j = reach[i], i
        while j <= end:
            end = max(end, reach[j])
            j += 1
        blocks.append(range(i, end + 1))
        i = end + 1
    return blocks


def _limit(messages: list[Message], budget: int, count: TokenCounter) -> list[Message]:
    cost = [0 if m.role == "system" else message_tokens(m, count) for m in messages]
    budget -= sum(message_tokens(m, count) for m in messages if m.role == "system")
    keep = [m.role == "system" for m in messages]
    for block in reversed(_blocks(messages)):
        block_cost = sum(cost[i] for i in block)
        if block_cost > budget:
            break  # a contiguous tail: no gaps in the conversation the model sees
        budget -= block_cost
        for i in block:
            keep[i] = True
    return [m for m, kept in zip(messages, keep, strict=True) if kept]


@overload
def limit_tokens(messages: MemoryContext, max_tokens: int, *, count: TokenCounter = ...) -> MemoryContext: ...
@overload
def limit_tokens(messages: Sequence[Message], max_tokens: int, *, count: TokenCounter = ...) -> list[Message]: ...
def limit_tokens(
    messages: Sequence[Message] | MemoryContext, max_tokens: int, *, count: TokenCounter = count_tokens
) -> list[Message] | MemoryContext:
    """Keep the newest messages that fit in ``max_tokens``, so a long thread cannot overflow the
    model's context window.

    - System messages are always kept and counted first (a ``MemoryContext``'s system blocks too).
    - The rest is kept from the newest backwards while it fits, and cut at the first message that
      does not: the model sees an unbroken tail of the conversation. (Mastra's TokenLimiter skips
      a message that does not fit and keeps looking at older ones, which can leave gaps.)
    - A tool call and its result are never split: split across messages, they and what lies
      between them are kept or dropped together.
    - If the system messages alone exceed the budget, only they are returned.

    Costs are :func:`message_tokens`, counted with ``count`` (default: the bundled WordPiece
    tokenizer; pass e.g. a tiktoken encoder's ``lambda s: len(enc.encode(s))`` to match a model).
    Given a ``MemoryContext`` (from ``memory.context(...)``) it returns one with the kept
    messages, its same-thread hits and diagnostics updated; given a list, a new list in the same
    order. Messages are not copied or changed.

    Raises:
        InvalidInputError: ``max_tokens`` is not an integer >= 0, or an item is not a Message.
    """
    budget = _check_budget(max_tokens)
    if isinstance(messages, MemoryContext):
        system = sum(count(block) + MESSAGE_OVERHEAD for block in messages.system)
        kept = _limit(check_messages(messages.messages, "limit_tokens"), budget - system, count)
        return with_messages(messages, kept)
    return _limit(check_messages(messages, "limit_tokens"), budget, count)
