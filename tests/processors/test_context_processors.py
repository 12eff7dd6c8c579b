"""limit_tokens and filter_tool_calls on a real memory.context(...) result (Memory and AsyncMemory,
PostgreSQL 18 and 15): hits and diagnostics follow the messages that remain."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from mastra_memory import MemoryConfig, MemoryContext, Message, SemanticRecall, filter_tool_calls, limit_tokens
from mastra_memory._tokens import count_tokens
from mastra_memory.embedding import HashEmbedder
from mastra_memory.processors import MESSAGE_OVERHEAD, message_tokens

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def tool_turn(call_id: str, name: str, answer: str = "") -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [
        {"type": "step-start"},
        {"type": "tool-invocation", "toolInvocation": {"state": "result", "toolCallId": call_id, "toolName": name,
                                                       "args": {"city": "Lisbon"}, "result": {"sky": "clear"}}},
    ]
    return [*parts, {"type": "text", "text": answer}] if answer else parts


async def seeded(mem: Any) -> MemoryContext:
    await mem.create_thread("ada", thread_id="t1")
    rows = [
        Message.user("My beagle Biscuit chewed my hiking boots"),
        Message.assistant("Oh no, poor boots."),
        Message.user("What is the weather in Lisbon?"),
        Message.assistant(tool_turn("c1", "weather", "Clear skies in Lisbon.")),
        Message.user("And tomorrow?"),
        Message.assistant(tool_turn("c2", "forecast")),
        Message.user("Which dog chewed my boots again?"),
    ]
    for i, row in enumerate(rows):
        row.id, row.thread_id, row.resource_id, row.created_at = f"m{i}", "t1", "ada", T0 + timedelta(minutes=i)
    await mem.save_messages(rows)
    ctx: MemoryContext = await mem.context("t1", "ada", query="beagle Biscuit chewed hiking boots")
    return ctx


async def test_processors_apply_to_an_assembled_context(mem_factory: Any) -> None:
    config = MemoryConfig(last_messages=4, semantic_recall=SemanticRecall(top_k=1, message_range=0, scope="thread"))
    mem = await mem_factory(config=config, embedder=HashEmbedder())
    ctx = await seeded(mem)
    assert [m.id for m in ctx.messages] == ["m0", "m3", "m4", "m5", "m6"]  # m0 is a same-thread recall hit
    assert [h.message.id for h in ctx.hits] == ["m0"]

    # Without tool traffic: the tool-only turn m5 goes, m3 keeps its text; the hit is still there.
    quiet = filter_tool_calls(ctx)
    assert [m.id for m in quiet.messages] == ["m0", "m3", "m4", "m6"]
    assert [p["type"] for p in quiet.messages[1].content.parts] == ["step-start", "text"]
    assert quiet.hits == ctx.hits and quiet.tokens == ctx.tokens  # m5 had no text to count
    assert "m5" not in quiet.diagnostics.sources
    assert [m.id for m in filter_tool_calls(ctx, ["forecast"]).messages] == ["m0", "m3", "m4", "m6"]
    assert ctx.messages[3].content.tool_invocations()  # the original context is unchanged

    # A budget for the newest three: the old hit is cut, with its hit entry and its tokens.
    budget = sum(message_tokens(m) for m in ctx.messages[-3:]) + sum(count_tokens(b) + MESSAGE_OVERHEAD
                                                                     for b in ctx.system)
    short = limit_tokens(ctx, budget)
    assert [m.id for m in short.messages] == ["m4", "m5", "m6"]
    assert short.hits == []
    assert short.diagnostics.tokens["recall"] == 0
    assert short.tokens == ctx.tokens - count_tokens(ctx.messages[0].text) - count_tokens(ctx.messages[1].text)

    # Both, as an agent would: tools out first, then the same budget over what is left. The tokens the
    # tool calls took now hold the older turn and the hit.
    both = limit_tokens(filter_tool_calls(ctx), budget)
    assert [m.id for m in both.messages] == ["m0", "m3", "m4", "m6"]
    assert sum(message_tokens(m) for m in both.messages) <= budget
    assert [h.message.id for h in both.hits] == ["m0"]


async def test_processors_on_plain_history(mem: Any) -> None:
    ctx = await seeded(mem)  # no recall in the default config: the newest ten messages
    assert [m.id for m in ctx.messages] == [f"m{i}" for i in range(7)]
    # Budget for m4 and m6 only: once the tool-only turn m5 is filtered out, those two are the newest.
    budget = message_tokens(ctx.messages[4]) + message_tokens(ctx.messages[6])
    assert [m.id for m in limit_tokens(ctx, budget).messages] == ["m6"]  # with m5 in the way
    limited = limit_tokens(filter_tool_calls(ctx), budget)
    assert [m.id for m in limited.messages] == ["m4", "m6"]
    assert limited.tokens == count_tokens(ctx.messages[4].text) + count_tokens(ctx.messages[6].text)
    assert limited.diagnostics.sources == {"m4": "history", "m6": "history"}
