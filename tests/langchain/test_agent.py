"""MastraMemoryMiddleware in create_agent, end to end on the real database, through invoke and ainvoke.

The chat model is a fake (FakeToolCallingModel: scripted replies, records its prompts); recall uses
HashEmbedder. Each test runs with a Memory + invoke and an AsyncMemory + ainvoke (mem_factory flavours).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("langchain", reason="langchain is not installed: pip install 'mastra-memory[langchain]'")

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from langchain_mastra_memory import MastraMemoryMiddleware, from_mastra, to_mastra
from mastra_memory import InvalidInputError, Memory, MemoryConfig, SemanticRecall
from mastra_memory.embedding import HashEmbedder

from .fakes import FakeToolCallingModel


@dataclass
class Ctx:
    resource_id: str


@tool
def get_weather(city: str) -> str:
    """Today's weather for a city."""
    return f"14 degrees and light rain in {city}"


def call(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


async def run(agent: Any, memory: Any, text: str, config: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    payload = {"messages": [HumanMessage(text)]}
    if isinstance(memory, Memory):
        return agent.invoke(payload, config, **kwargs)  # type: ignore[no-any-return]
    return await agent.ainvoke(payload, config, **kwargs)  # type: ignore[no-any-return]


async def recall_memory(mem_factory: Any) -> tuple[Any, Any]:
    mem = await mem_factory(
        config=MemoryConfig(last_messages=10, semantic_recall=SemanticRecall(top_k=2, message_range=0)),
        embedder=HashEmbedder(),
    )
    return mem, getattr(mem, "memory", mem)


def texts(messages: list[BaseMessage]) -> list[str]:
    return [f"{type(m).__name__}:{m.text}" for m in messages]


async def test_turns_are_stored_remembered_and_recalled_across_threads(mem_factory: Any) -> None:
    mem, memory = await recall_memory(mem_factory)
    ada = Ctx("ada")

    # Another thread of the same user holds a fact.
    model0 = FakeToolCallingModel(messages=iter([AIMessage("Nice to meet Clara!")]))
    agent0 = create_agent(model0, middleware=[MastraMemoryMiddleware(memory)], context_schema=Ctx)
    await run(agent0, memory, "My sister is called Clara", {"configurable": {"thread_id": "family"}}, context=ada)

    # Turn 1 in thread t1: a tool loop.
    model1 = FakeToolCallingModel(messages=iter([call("get_weather", {"city": "Paris"}, "c1"), AIMessage("Rainy.")]))
    agent1 = create_agent(model1, [get_weather], middleware=[MastraMemoryMiddleware(memory)], context_schema=Ctx,
                          system_prompt="You are helpful.")
    out1 = await run(agent1, memory, "Weather in Paris?", {"configurable": {"thread_id": "t1"}}, context=ada)
    rows = (await mem.list_messages("t1")).messages
    assert [m.role for m in rows] == ["user", "assistant"]
    invocation = rows[1].content.tool_invocations()[0]
    assert (invocation["state"], invocation["toolCallId"], invocation["result"]) == (
        "result", "c1", "14 degrees and light rain in Paris"
    )
    assert rows[1].id == out1["messages"][1].id  # ids are LangChain's
    assert from_mastra(rows) == out1["messages"]  # the database holds exactly the turn

    # Turn 2, fresh agent and model: history from the database, the fact recalled from "family".
    model2 = FakeToolCallingModel(messages=iter([AIMessage("Your sister is Clara; it was rainy.")]))
    agent2 = create_agent(model2, [get_weather], middleware=[MastraMemoryMiddleware(memory)], context_schema=Ctx,
                          system_prompt="You are helpful.")
    await run(agent2, memory, "What is my sister's name?", {"configurable": {"thread_id": "t1"}}, context=ada)
    prompt = model2.seen[0]
    assert isinstance(prompt[0], SystemMessage)
    assert prompt[0].text.startswith("You are helpful.")
    assert "Clara" in prompt[0].text and "remembered from a different conversation" in prompt[0].text
    assert texts(prompt[1:]) == [
        "HumanMessage:Weather in Paris?", "AIMessage:", "ToolMessage:14 degrees and light rain in Paris",
        "AIMessage:Rainy.", "HumanMessage:What is my sister's name?",
    ]
    assert isinstance(prompt[2], AIMessage) and prompt[2].tool_calls[0]["id"] == "c1"
    assert isinstance(prompt[3], ToolMessage) and prompt[3].tool_call_id == "c1"
    assert len((await mem.list_messages("t1")).messages) == 4


async def test_with_a_checkpointer_nothing_is_duplicated(mem_factory: Any) -> None:
    mem, memory = await recall_memory(mem_factory)
    model = FakeToolCallingModel(messages=iter([AIMessage("one"), AIMessage("two"), AIMessage("three")]))
    agent = create_agent(model, middleware=[MastraMemoryMiddleware(memory)], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t", "resource_id": "ada"}}
    for text in ("a", "b", "c"):
        await run(agent, memory, text, config)
    assert [m.text for m in (await mem.list_messages("t")).messages] == ["a", "one", "b", "two", "c", "three"]
    ids = [m.id for m in model.seen[-1]]
    assert len(ids) == len(set(ids)) == 5  # checkpointed state and stored history merged by id


async def test_resaving_a_turn_is_idempotent(mem_factory: Any) -> None:
    """after_agent run again on the same state (e.g. a retried step) writes the same rows."""
    mem, memory = await recall_memory(mem_factory)
    model = FakeToolCallingModel(messages=iter([call("get_weather", {"city": "Rome"}, "c9"), AIMessage("Rain.")]))
    middleware = MastraMemoryMiddleware(memory, resource_id="ada")
    agent = create_agent(model, [get_weather], middleware=[middleware])
    out = await run(agent, memory, "Rome?", {"configurable": {"thread_id": "t"}})
    before = (await mem.list_messages("t")).messages
    await mem.save_messages(to_mastra(out["messages"], "t", "ada"))
    after = (await mem.list_messages("t")).messages
    assert [(m.id, m.content.parts) for m in after] == [(m.id, m.content.parts) for m in before]


async def test_search_memory_tool_finds_a_fact_from_another_thread(mem_factory: Any) -> None:
    mem, memory = await recall_memory(mem_factory)
    await mem.create_thread("ada", thread_id="family")
    await mem.save_messages(to_mastra([HumanMessage("My sister is called Clara", id="f1")], "family", "ada"))
    model = FakeToolCallingModel(messages=iter([call("search_memory", {"query": "sister"}, "s1"), AIMessage("Clara")]))
    agent = create_agent(model, middleware=[MastraMemoryMiddleware(memory, search_tool=True)])
    out = await run(agent, memory, "Who is my sister?", {"configurable": {"thread_id": "t", "user_id": "ada"}})
    result = out["messages"][2]
    assert isinstance(result, ToolMessage) and "Clara" in result.text
    assert result.artifact[0].id == "f1"


async def test_read_only_reads_but_never_writes(mem_factory: Any) -> None:
    mem, memory = await recall_memory(mem_factory)
    await mem.create_thread("ada", thread_id="t")
    await mem.save_messages(to_mastra([HumanMessage("earlier", id="e1"), AIMessage("noted", id="e2")], "t", "ada"))
    model = FakeToolCallingModel(messages=iter([AIMessage("ok")]))
    agent = create_agent(model, middleware=[MastraMemoryMiddleware(memory, read_only=True, resource_id="ada")])
    await run(agent, memory, "now", {"configurable": {"thread_id": "t"}})
    assert texts(model.seen[0]) == ["HumanMessage:earlier", "AIMessage:noted", "HumanMessage:now"]
    assert len((await mem.list_messages("t")).messages) == 2
    await run(create_agent(FakeToolCallingModel(messages=iter([AIMessage("ok")])),
                           middleware=[MastraMemoryMiddleware(memory, read_only=True, resource_id="ada")]),
              memory, "hi", {"configurable": {"thread_id": "new"}})
    assert await mem.get_thread("new") is None


async def test_a_run_without_thread_id_says_where_to_put_it(mem_factory: Any) -> None:
    _, memory = await recall_memory(mem_factory)
    agent = create_agent(FakeToolCallingModel(messages=iter([AIMessage("x")])),
                         middleware=[MastraMemoryMiddleware(memory, resource_id="ada")])
    with pytest.raises(InvalidInputError, match="thread_id"):
        await run(agent, memory, "hi", {})


async def test_working_memory_tool_updates_mastras_document(mem_factory: Any) -> None:
    """With working memory on, the model gets updateWorkingMemory and the next turn sees the document."""
    from mastra_memory.working_memory import WorkingMemory

    mem = await mem_factory(config=MemoryConfig(working_memory=WorkingMemory(enabled=True)))
    memory = getattr(mem, "memory", mem)
    doc = "# User Information\n- **First Name**: Ada\n"
    model = FakeToolCallingModel(
        messages=iter([call("updateWorkingMemory", {"memory": doc}, "w1"), AIMessage("Hi Ada!"), AIMessage("Ada.")])
    )
    middleware = MastraMemoryMiddleware(memory, resource_id="ada")
    assert [t.name for t in middleware.tools] == ["updateWorkingMemory"]
    agent = create_agent(model, middleware=[middleware])
    out = await run(agent, memory, "I'm Ada", {"configurable": {"thread_id": "t"}})
    assert out["messages"][2].text == '{"success": true}'
    assert await mem.get_working_memory("t", "ada") == doc
    await run(agent, memory, "Who am I?", {"configurable": {"thread_id": "t"}})
    system = model.seen[-1][0]
    assert isinstance(system, SystemMessage) and "First Name**: Ada" in system.text
    assert [t.name for t in MastraMemoryMiddleware(memory, read_only=True).tools] == []
