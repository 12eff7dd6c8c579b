"""FunctionAgent with MastraMemory, end to end on the real database.

The LLM is LlamaIndex's own offline fake, ``MockFunctionCallingLLMWithChatMemoryOfLastCall``: it
calls every tool it is given (with default arguments), answers "Tool calls complete." once tool
results are in its input, and records the messages of its last call.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLMWithChatMemoryOfLastCall
from llama_index.core.tools import FunctionTool
from workflows import Context
from workflows.context.serializers import JsonSerializer

from llama_index_mastra_memory import MastraMemory, from_mastra
from mastra_memory import MemoryConfig, OwnershipError, SemanticRecall
from mastra_memory.embedding import HashEmbedder

from .conftest import Pair

# The workflow package reads deprecated pydantic attributes (``__fields__``, …) while collecting
# an agent's steps (inspect.getmembers); nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")


def get_weather(city: str = "Paris") -> str:
    """Today's weather for a city."""
    return f"14 degrees and light rain in {city}"


def agent(llm: Any) -> FunctionAgent:
    return FunctionAgent(tools=[FunctionTool.from_defaults(get_weather)], llm=llm, system_prompt="Be brief.")


def texts(messages: Any) -> list[str]:
    return [m.content or "" for m in messages]


async def test_two_runs_two_memory_objects_and_mastras_rows(pair: Pair) -> None:
    llm = MockFunctionCallingLLMWithChatMemoryOfLastCall()
    first = MastraMemory.from_defaults("trip", "ada", memory=pair.sync, async_memory=pair.aio)
    answer = await agent(llm).run(user_msg="Weather in Paris?", memory=first)
    assert str(answer) == "Tool calls complete."

    rows = (await pair.aio.list_messages("trip", per_page=None)).messages
    assert [r.role for r in rows] == ["user", "assistant"]  # Mastra's shape: one row per side of the turn
    call = next(p["toolInvocation"] for p in rows[1].content.parts if p.get("type") == "tool-invocation")
    assert call["state"] == "result" and call["toolName"] == "get_weather"
    assert call["result"] == "14 degrees and light rain in Paris"
    stored = from_mastra(rows)
    assert [m.role for m in stored] == [
        MessageRole.USER,
        MessageRole.ASSISTANT,
        MessageRole.TOOL,
        MessageRole.ASSISTANT,
    ]
    assert isinstance(stored[1].blocks[0], ToolCallBlock)

    # Run 2, a new memory object (as a new request would make): the LLM sees run 1's history.
    second = MastraMemory.from_defaults("trip", "ada", memory=pair.sync, async_memory=pair.aio)
    await agent(llm).run(user_msg="And tomorrow?", memory=second)
    seen = llm.last_chat_messages or []
    assert texts(seen)[0] == "Be brief."
    assert [m.role for m in seen[1:6]] == [
        MessageRole.USER,
        MessageRole.ASSISTANT,
        MessageRole.TOOL,
        MessageRole.ASSISTANT,
        MessageRole.USER,
    ]
    assert texts(seen)[1] == "Weather in Paris?" and texts(seen)[5] == "And tomorrow?"
    assert len((await pair.aio.list_messages("trip", per_page=None)).messages) == 4


async def test_recall_from_another_thread_of_the_same_user_reaches_the_llm(pair_factory: Any) -> None:
    pair: Pair = await pair_factory(
        config=MemoryConfig(last_messages=10, semantic_recall=SemanticRecall(message_range=0, top_k=2)),
        embedder=HashEmbedder(),
    )
    llm = MockFunctionCallingLLMWithChatMemoryOfLastCall()
    older = MastraMemory.from_defaults("pets", "ada", async_memory=pair.aio)
    await older.aput_messages(
        [
            ChatMessage(role="user", content="I adopted a beagle puppy named Biscuit"),
            ChatMessage(role="assistant", content="Congratulations on Biscuit the beagle!"),
        ]
    )
    intruder = MastraMemory.from_defaults("pets", "bob", async_memory=pair.aio)  # Ada's thread id, Bob's memory
    with pytest.raises(OwnershipError):
        await intruder.aput_messages([ChatMessage(role="user", content="My beagle is named Rex")])
    with pytest.raises(OwnershipError):
        await intruder.aget()
    bobs_thread = MastraMemory.from_defaults("bob-pets", "bob", async_memory=pair.aio)
    await bobs_thread.aput_messages([ChatMessage(role="user", content="My beagle is named Rex")])

    fresh = MastraMemory.from_defaults("new", "ada", async_memory=pair.aio)
    await FunctionAgent(tools=[], llm=llm).run(user_msg="What is my beagle called?", memory=fresh)
    system = "\n".join(m.content or "" for m in llm.last_chat_messages or [] if m.role == MessageRole.SYSTEM)
    assert "Biscuit" in system and "Rex" not in system


async def test_context_round_trip_keeps_the_postgres_memory(pair: Pair) -> None:
    """The peers' bug: Memory is dropped when a Context is serialised; run 2 then writes nowhere."""
    MastraMemory.register_connection("agent-test", memory=pair.sync, async_memory=pair.aio)
    llm = MockFunctionCallingLLMWithChatMemoryOfLastCall()
    workflow = agent(llm)
    ctx = Context(workflow)
    memory = MastraMemory.from_defaults("ctx-thread", "ada", connection="agent-test")
    await workflow.run(user_msg="first", memory=memory, ctx=ctx)
    data = ctx.to_dict(serializer=JsonSerializer())
    assert "password" not in str(data)
    restored = Context.from_dict(workflow, data, serializer=JsonSerializer())
    kept = await restored.store.get("memory")
    assert isinstance(kept, MastraMemory) and kept.thread_id == "ctx-thread"
    await workflow.run(user_msg="second", ctx=restored)  # no memory= : the restored one is used
    stored = from_mastra((await pair.aio.list_messages("ctx-thread", per_page=None)).messages)
    users = [m.content for m in stored if m.role == MessageRole.USER]
    assert users == ["first", "second"]
    assert [TextBlock(text="first")] == stored[0].blocks


async def test_a_blocking_memory_alone_serves_the_agent(pair: Pair) -> None:
    """Async agent calls on a Memory-only MastraMemory run in worker threads."""
    llm = MockFunctionCallingLLMWithChatMemoryOfLastCall()
    memory = MastraMemory.from_defaults("sync-only", "ada", memory=pair.sync)
    await agent(llm).run(user_msg="Weather in Paris?", memory=memory)
    assert [m.role for m in memory.get_all()] == [
        MessageRole.USER,
        MessageRole.ASSISTANT,
        MessageRole.TOOL,
        MessageRole.ASSISTANT,
    ]


async def test_end_to_end_store_working_memory_tool_recall_and_a_restored_context(pair_factory: Any) -> None:
    """Issue 6's scenario in one run of LlamaIndex's own machinery: a FunctionAgent with the mock
    function-calling LLM stores its turns, keeps working memory with Mastra's tool, recalls across
    threads of one user (never another's), and continues from a serialised Context."""
    from llama_index_mastra_memory import WorkingMemoryToolSpec
    from mastra_memory import WorkingMemory

    pair: Pair = await pair_factory(
        config=MemoryConfig(
            last_messages=10,
            semantic_recall=SemanticRecall(message_range=0, top_k=2),
            working_memory=WorkingMemory(enabled=True),
        ),
        embedder=HashEmbedder(),
    )
    MastraMemory.register_connection("e2e", memory=pair.sync, async_memory=pair.aio)
    seen: list[list[ChatMessage]] = []

    def respond(messages: Any, **kwargs: Any) -> ChatMessage:
        seen.append(list(messages))
        last = messages[-1]
        if last.role == MessageRole.USER and (last.content or "").startswith("I adopted"):
            call = ToolCallBlock(
                tool_call_id=f"wm-{len(seen)}",
                tool_name="updateWorkingMemory",
                tool_kwargs={"memory": "# User\n- Pet: a beagle called Biscuit"},
            )
            return ChatMessage(role="assistant", blocks=[call])
        return ChatMessage(role="assistant", content="Noted.")

    from llama_index.core.llms.mock import MockFunctionCallingLLM

    workflow = FunctionAgent(
        tools=WorkingMemoryToolSpec(pair.aio).to_tool_list(), llm=MockFunctionCallingLLM(response_generator=respond)
    )
    # Bob, on the same agent and tool instance, says something similar: it must never reach Ada.
    bob = MastraMemory.from_defaults("bob-pets", "bob", connection="e2e")
    await workflow.run(user_msg="My beagle is named Rex", memory=bob)

    ctx = Context(workflow)
    pets = MastraMemory.from_defaults("pets", "ada", connection="e2e")
    await workflow.run(user_msg="I adopted a beagle puppy named Biscuit", memory=pets, ctx=ctx)
    assert await pair.aio.get_working_memory("pets", "ada") == "# User\n- Pet: a beagle called Biscuit"
    assert await pair.aio.get_working_memory("bob-pets", "bob") is None

    # Run 2 from a serialised context (no memory= given): the Postgres memory is kept.
    restored = Context.from_dict(workflow, ctx.to_dict(serializer=JsonSerializer()), serializer=JsonSerializer())
    await workflow.run(user_msg="He loves long walks", ctx=restored)
    stored = from_mastra((await pair.aio.list_messages("pets", per_page=None)).messages)
    assert [m.content for m in stored if m.role == MessageRole.USER] == [
        "I adopted a beagle puppy named Biscuit",
        "He loves long walks",
    ]
    assert any(isinstance(b, ToolCallBlock) and b.tool_name == "updateWorkingMemory" for m in stored for b in m.blocks)
    system = "\n".join(m.content or "" for m in seen[-1] if m.role == MessageRole.SYSTEM)
    assert "Pet: a beagle called Biscuit" in system  # working memory, read back by the second run

    # A new thread of Ada's: working memory (resource scope) and recall from "pets", nothing of Bob's.
    today = MastraMemory.from_defaults("today", "ada", connection="e2e")
    await workflow.run(user_msg="What is my beagle called?", memory=today)
    first_call = next(call for call in reversed(seen) if call[-1].content == "What is my beagle called?")
    system = "\n".join(m.content or "" for m in first_call if m.role == MessageRole.SYSTEM)
    assert "remembered from a different conversation" in system and "Biscuit" in system
    assert "Rex" not in system
    assert {t.id for t in await today.alist_threads()} == {"pets", "today"}


async def test_a_chat_engine_streams_and_writes_the_reply_from_its_worker_thread(pair: Pair) -> None:
    """Sync ``stream_chat`` puts the reply with ``memory.put`` from a ``threading.Thread``."""
    from llama_index.core.chat_engine import SimpleChatEngine
    from llama_index.core.llms import MockLLM

    memory = MastraMemory.from_defaults("engine", "ada", memory=pair.sync)
    engine = SimpleChatEngine.from_defaults(llm=MockLLM(max_tokens=5), memory=memory)
    response = engine.stream_chat("Hello there")
    writer = response.write_response_to_history_thread  # the thread that will call memory.put
    assert isinstance(writer, threading.Thread) and writer is not threading.current_thread()
    streamed = "".join(response.response_gen)  # joins the writer when the stream ends
    assert not writer.is_alive() and response.exception is None
    stored = memory.get_all()
    assert [m.role for m in stored] == [MessageRole.USER, MessageRole.ASSISTANT]
    assert stored[0].content == "Hello there" and (stored[1].content or "") == streamed
