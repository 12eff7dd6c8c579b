"""Issue 6's "done when": a conversation stored through LlamaIndex reads back identically, and reads
correctly through the core and through the LangChain adapter (same thread, same rows)."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")
pytest.importorskip("langchain_core", reason="langchain is not installed: pip install 'mastra-memory[langchain]'")

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from llama_index.core.base.llms.types import ChatMessage, TextBlock, ThinkingBlock, ToolCallBlock

import langchain_mastra_memory
from llama_index_mastra_memory import MastraChatStore, MastraMemory
from mastra_memory import Memory

from .conftest import Pair

CONVERSATION = [
    ChatMessage(role="system", content="You are a travel assistant."),
    ChatMessage(role="user", content="What's the weather in Lisbon?"),
    ChatMessage(
        role="assistant",
        blocks=[
            ThinkingBlock(content="I should look it up."),
            ToolCallBlock(tool_call_id="call-1", tool_name="get_weather", tool_kwargs={"city": "Lisbon"}),
        ],
    ),
    ChatMessage(role="tool", content="22 degrees, sunny", additional_kwargs={"tool_call_id": "call-1"}),
    ChatMessage(role="assistant", content="It is 22 degrees and sunny in Lisbon."),
    ChatMessage(role="user", blocks=[TextBlock(text="Thanks!")], additional_kwargs={"source": "mobile"}),
]


def check_core_and_langchain(memory: Memory, thread_id: str, roles: list[str]) -> None:
    rows = memory.list_messages(thread_id, resource_id="ada", per_page=None).messages
    assert [r.role for r in rows] == roles
    assert rows[1].text == "What's the weather in Lisbon?" and rows[-1].text == "Thanks!"
    invocation = next(p["toolInvocation"] for p in rows[2].content.parts if p["type"] == "tool-invocation")
    assert invocation == {
        "state": "result",
        "toolCallId": "call-1",
        "toolName": "get_weather",
        "args": {"city": "Lisbon"},
        "result": "22 degrees, sunny",
    }
    assert "It is 22 degrees and sunny in Lisbon." in rows[-2].text
    assert any(p["type"] == "reasoning" for p in rows[2].content.parts)

    history = langchain_mastra_memory.MastraChatMessageHistory(memory, thread_id, "ada")
    lc = history.messages
    assert lc == langchain_mastra_memory.from_mastra(rows)
    assert [type(m) for m in lc] == [SystemMessage, HumanMessage, AIMessage, ToolMessage, AIMessage, HumanMessage]
    assert lc[0].content == "You are a travel assistant." and lc[1].content == "What's the weather in Lisbon?"
    call = lc[2]
    assert isinstance(call, AIMessage)
    assert [(c["name"], c["args"], c["id"]) for c in call.tool_calls] == [("get_weather", {"city": "Lisbon"}, "call-1")]
    tool = lc[3]
    assert isinstance(tool, ToolMessage) and tool.tool_call_id == "call-1" and tool.content == "22 degrees, sunny"
    assert lc[4].content == "It is 22 degrees and sunny in Lisbon." and lc[5].content == "Thanks!"


async def test_stored_by_an_agent_reads_back_identically_and_through_the_core_and_langchain(pair: Pair) -> None:
    memory = MastraMemory.from_defaults("agent-path", "ada", memory=pair.sync, async_memory=pair.aio)
    await memory.aput_messages(CONVERSATION[:2])  # FunctionAgent: the user message, then the turn
    await memory.aput_messages(CONVERSATION[2:5])
    await memory.aput(CONVERSATION[5])
    assert await memory.aget_all() == CONVERSATION
    assert memory.get_all() == CONVERSATION
    # Mastra's shape for an agent turn: one assistant row holding the reasoning, call, result and reply.
    check_core_and_langchain(pair.sync, "agent-path", ["system", "user", "assistant", "user"])


async def test_stored_one_message_at_a_time_reads_the_same(pair: Pair) -> None:
    """ChatMemoryBuffer and ReActAgent put one message per call. A tool result is folded into the row
    of its call; the reply added on its own starts a row (folding it would cost every agent turn a
    locked read). Every reader still sees the same messages."""
    store = MastraChatStore(resource_id="ada", memory=pair.sync)
    for message in CONVERSATION:
        store.add_message("one-by-one", message)
    assert store.get_messages("one-by-one") == CONVERSATION
    check_core_and_langchain(pair.sync, "one-by-one", ["system", "user", "assistant", "assistant", "user"])
