"""MastraMemoryMiddleware with observational memory: a create_agent agent whose old turns are
replaced by observations (fake chat models: FakeToolCallingModel answers, a scripted LangChain
model observes), through invoke (Memory) and ainvoke (AsyncMemory)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("langchain", reason="langchain is not installed: pip install 'mastra-memory[langchain]'")

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from langchain_mastra_memory import LangChainChatModel, MastraMemoryMiddleware
from mastra_memory import Memory, ObservationalMemory

from ..observational.fakes import observer_reply
from .fakes import FakeToolCallingModel


async def ask(agent: Any, memory: Any, text: str) -> dict[str, Any]:
    payload = {"messages": [HumanMessage(text)]}
    config = {"configurable": {"thread_id": "trip"}}
    if isinstance(memory, Memory):
        return agent.invoke(payload, config)  # type: ignore[no-any-return]
    return await agent.ainvoke(payload, config)  # type: ignore[no-any-return]


async def test_old_turns_become_observations_in_the_model_call(mem_factory: Any) -> None:
    mem = await mem_factory()
    memory = getattr(mem, "memory", mem)
    observer = LangChainChatModel(
        GenericFakeChatModel(messages=iter([AIMessage(observer_reply(["🔴 (09:00) User stated they fly to Lisbon"]))]))
    )
    middleware = MastraMemoryMiddleware(
        memory, resource_id="ada", observational_memory=ObservationalMemory(model=observer, observation_tokens=40)
    )
    model = FakeToolCallingModel(messages=iter([AIMessage("Lisbon is lovely."), AIMessage("Pack light.")]))
    agent = create_agent(model=model, tools=[], middleware=[middleware])

    await ask(agent, memory, "I am flying to Lisbon on Friday, any tips for the old town?")
    await ask(agent, memory, "What should I pack?")

    second = model.seen[-1]
    system = [m for m in second if isinstance(m, SystemMessage)]
    assert system and "User stated they fly to Lisbon" in system[0].text
    assert "<observations>" in system[0].text
    humans = [m.text for m in second if isinstance(m, HumanMessage)]
    assert humans[-1] == "What should I pack?"
    assert not any("old town" in text for text in humans)  # the observed first turn left the prompt
    assert any("<system-reminder>" in text for text in humans)  # Mastra's continuation hint
    record = await mem.get_observations("trip", "ada")
    assert record is not None and len(record.observed_message_ids) == 2
    # The base memory's own config is untouched: OM is on for this agent only.
    assert memory.config.observational_memory is None
    assert middleware.memory.config.observational_memory is not None
