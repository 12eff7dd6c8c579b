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


@pytest.mark.parametrize("om_from", ["middleware", "memory"])
@pytest.mark.parametrize("background", [False, True])
async def test_read_only_middleware_never_writes_observations(mem_factory: Any, om_from: str, background: bool) -> None:
    """Read-only means nothing written, observations included: past the threshold the model still
    sees the raw turns, the Observer never runs (nor is scheduled) and no row or cursor appears."""
    from mastra_memory.observational import with_observational_memory

    from ..observational.fakes import ScriptedChatModel

    mem = await mem_factory()
    memory = getattr(mem, "memory", mem)
    writer = MastraMemoryMiddleware(memory, resource_id="ada")  # fills the thread, OM off
    first = FakeToolCallingModel(messages=iter([AIMessage("Lisbon is lovely, walk the Alfama early.")]))
    await ask(create_agent(model=first, tools=[], middleware=[writer]), memory,
              "I am flying to Lisbon on Friday, any tips for the old town and the trams?")
    before = (await mem.list_messages("trip", per_page=None)).messages

    observer = ScriptedChatModel(default=observer_reply(["🔴 (09:00) User flies to Lisbon"]))
    options = ObservationalMemory(model=observer, observation_tokens=10, reflection_tokens=10, background=background)
    if om_from == "middleware":
        reader = MastraMemoryMiddleware(memory, resource_id="ada", read_only=True, observational_memory=options)
    else:  # OM carried by the memory's own config
        reader = MastraMemoryMiddleware(with_observational_memory(memory, options), resource_id="ada", read_only=True)
    model = FakeToolCallingModel(messages=iter([AIMessage("Pack light.")]))
    await ask(create_agent(model=model, tools=[], middleware=[reader]), memory, "What should I pack?")
    waited = reader.memory.wait_for_observations(5)
    if not isinstance(waited, int):
        await waited

    assert observer.calls == []
    humans = [m.text for m in model.seen[-1] if isinstance(m, HumanMessage)]
    assert any("old town" in text for text in humans)  # the unobserved turn stays raw
    assert await mem.get_observations("trip", "ada") is None
    after = (await mem.list_messages("trip", per_page=None)).messages
    assert [(m.id, m.text) for m in after] == [(m.id, m.text) for m in before]
    thread = await mem.get_thread("trip")
    assert "om" not in ((thread.metadata or {}).get("mastra") or {})
