"""Titles in a LangChain create_agent run: generated after the turn is saved, in the background, with the
configured model or the agent's own; a failing title model never touches the agent's answer.

Memory + invoke and AsyncMemory + ainvoke (mem_factory flavours), real database, fake chat models.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("langchain", reason="langchain is not installed: pip install 'mastra-memory[langchain]'")

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage

from langchain_mastra_memory import MastraMemoryMiddleware
from mastra_memory import Memory, MemoryConfig, TitleGeneration
from tests.langchain.fakes import FakeToolCallingModel

from .fakes import ScriptedChatModel

CONFIG = {"configurable": {"thread_id": "t1", "resource_id": "ada"}}


async def run_turn(mem_factory: Any, agent_model: Any, title: TitleGeneration | bool, text: str = "") -> Any:
    mem = await mem_factory(config=MemoryConfig(generate_title=title))
    memory = getattr(mem, "memory", mem)
    middleware = MastraMemoryMiddleware(memory)
    agent: Any = create_agent(agent_model, middleware=[middleware])
    payload = {"messages": [HumanMessage(text or "Help me choose a road bike under 1000 euros")]}
    if isinstance(memory, Memory):
        out = agent.invoke(payload, CONFIG)
        middleware.titles.join(30)
    else:
        out = await agent.ainvoke(payload, CONFIG)
        await middleware.titles.ajoin()
    return mem, middleware, agent, out


async def test_the_thread_is_titled_after_the_first_turn(mem_factory: Any) -> None:
    titler = ScriptedChatModel("Choosing a road bike")
    agent_model = FakeToolCallingModel(messages=iter([AIMessage("Look at aluminium frames."), AIMessage("Yes.")]))
    mem, middleware, agent, out = await run_turn(mem_factory, agent_model, TitleGeneration(model=titler))
    assert out["messages"][-1].text == "Look at aluminium frames."
    assert (await mem.get_thread("t1")).title == "Choosing a road bike"
    assert titler.prompts[0][1].content == "Help me choose a road bike under 1000 euros"
    assert len(agent_model.seen) == 1  # the agent's model answered once and was not used for the title

    # The next turn: the thread is known to be titled, nothing is started.
    payload = {"messages": [HumanMessage("Is carbon worth it?")]}
    if isinstance(middleware.memory, Memory):
        agent.invoke(payload, CONFIG)
    else:
        await agent.ainvoke(payload, CONFIG)
    assert len(titler.prompts) == 1
    assert (await mem.get_thread("t1")).title == "Choosing a road bike"


async def test_without_a_title_model_the_agents_own_model_names_the_thread(mem_factory: Any) -> None:
    agent_model = FakeToolCallingModel(messages=iter([AIMessage("Sure, what budget?"), AIMessage("Bike advice")]))
    mem, _, _, _ = await run_turn(mem_factory, agent_model, True)
    assert (await mem.get_thread("t1")).title == "Bike advice"
    assert len(agent_model.seen) == 2  # the answer, then the title, in that order


async def test_a_failing_title_model_leaves_the_answer_and_the_title_alone(mem_factory: Any) -> None:
    titler = ScriptedChatModel(RuntimeError("title model down"))
    agent_model = FakeToolCallingModel(messages=iter([AIMessage("Look at aluminium frames.")]))
    mem, _, _, out = await run_turn(mem_factory, agent_model, TitleGeneration(model=titler))
    assert out["messages"][-1].text == "Look at aluminium frames."
    assert (await mem.get_thread("t1")).title == ""
    assert [m.role for m in (await mem.list_messages("t1")).messages] == ["user", "assistant"]


async def test_titles_are_off_unless_configured(mem_factory: Any) -> None:
    agent_model = FakeToolCallingModel(messages=iter([AIMessage("Hello"), AIMessage("Should never be a title")]))
    mem, middleware, _, _ = await run_turn(mem_factory, agent_model, False)
    assert not middleware.titles.enabled
    assert (await mem.get_thread("t1")).title == ""
    assert len(agent_model.seen) == 1
