"""WorkingMemoryToolSpec: Mastra's updateWorkingMemory tool for FunctionAgent, scoped by the run's Context."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.memory import Memory
from pydantic import BaseModel
from workflows import Context

from llama_index_mastra_memory import MastraDBChatStore, MastraMemory, WorkingMemoryBlock, WorkingMemoryToolSpec
from mastra_memory import InvalidInputError, MemoryConfig, WorkingMemory

from .conftest import Pair

pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")


def scripted_llm(arguments: dict[str, Any], seen: list[list[ChatMessage]]) -> MockFunctionCallingLLM:
    """LlamaIndex's mock function-calling LLM with a script: a user turn starting "Remember" gets
    one updateWorkingMemory call with ``arguments``; after tool results, or otherwise, it answers."""

    def respond(messages: Any, **kwargs: Any) -> ChatMessage:
        seen.append(list(messages))
        last = messages[-1]
        if last.role == MessageRole.USER and (last.content or "").startswith("Remember"):
            call = ToolCallBlock(
                tool_call_id=f"call-{len(seen)}", tool_name="updateWorkingMemory", tool_kwargs=arguments
            )
            return ChatMessage(role="assistant", blocks=[call])
        return ChatMessage(role="assistant", content="Done.")

    return MockFunctionCallingLLM(response_generator=respond)


async def wm_pair(pair_factory: Any, **wm: Any) -> Pair:
    made: Pair = await pair_factory(config=MemoryConfig(working_memory=WorkingMemory(enabled=True, **wm)))
    return made


async def test_the_tool_writes_for_the_runs_thread_and_user_only(pair_factory: Any) -> None:
    pair = await wm_pair(pair_factory)
    spec = WorkingMemoryToolSpec(pair.aio)
    tools = spec.to_tool_list()
    assert [t.metadata.name for t in tools] == ["updateWorkingMemory", "getWorkingMemory"]
    assert tools[0].metadata.get_parameters_dict()["required"] == ["memory"]  # Mastra's schema, no ctx in it
    for user, name in (("ada", "Ada"), ("bob", "Bob")):  # one agent, one tool instance, two users
        seen: list[list[ChatMessage]] = []
        agent = FunctionAgent(tools=tools, llm=scripted_llm({"memory": f"# User\n- Name: {name}"}, seen))
        memory = MastraMemory.from_defaults(f"{user}-chat", user, async_memory=pair.aio)
        assert str(await agent.run(user_msg=f"Remember my name is {name}", memory=memory)) == "Done."
    assert await pair.aio.get_working_memory("ada-chat", "ada") == "# User\n- Name: Ada"
    assert await pair.aio.get_working_memory("bob-chat", "bob") == "# User\n- Name: Bob"
    # The tool call and its result are stored in Mastra's shape: one assistant row.
    rows = (await pair.aio.list_messages("ada-chat", per_page=None)).messages
    invocation = next(p["toolInvocation"] for p in rows[1].content.parts if p.get("type") == "tool-invocation")
    assert invocation["toolName"] == "updateWorkingMemory" and invocation["state"] == "result"


async def test_refused_updates_reach_the_model_and_schema_mode_merges(pair_factory: Any) -> None:
    class Profile(BaseModel):
        name: str | None = None
        city: str | None = None

    pair = await wm_pair(pair_factory, schema=Profile)
    spec = WorkingMemoryToolSpec(pair.aio)
    seen: list[list[ChatMessage]] = []
    memory = MastraMemory.from_defaults("t", "ada", async_memory=pair.aio)
    await FunctionAgent(tools=spec.to_tool_list(), llm=scripted_llm({"memory": {"city": "Lisbon"}}, seen)).run(
        user_msg="Remember I live in Lisbon", memory=memory
    )
    assert json.loads(await memory.aget_working_memory() or "") == {"city": "Lisbon"}
    bad: list[list[ChatMessage]] = []
    await FunctionAgent(tools=spec.to_tool_list(), llm=scripted_llm({"memory": {"city": 3}}, bad)).run(
        user_msg="Remember my city is 3", memory=memory
    )
    tool_result = [m for m in bad[-1] if m.role == MessageRole.TOOL][-1]  # this run's call
    answer = json.loads(tool_result.content or "")
    assert answer["success"] is False and "city" in answer["message"]
    assert json.loads(await memory.aget_working_memory() or "") == {"city": "Lisbon"}  # nothing written


async def test_with_llamaindex_memory_the_session_is_the_thread(pair_factory: Any) -> None:
    pair = await wm_pair(pair_factory)
    store = MastraDBChatStore(resource_id="ada", async_memory=pair.aio)
    memory = Memory.from_defaults(
        session_id="li-chat", chat_store=store, memory_blocks=[WorkingMemoryBlock(async_memory=pair.aio)]
    )
    seen: list[list[ChatMessage]] = []
    agent = FunctionAgent(
        tools=WorkingMemoryToolSpec(pair.aio).to_tool_list(), llm=scripted_llm({"memory": "# User\n- Pet: Rex"}, seen)
    )
    await agent.run(user_msg="Remember my dog is Rex", memory=memory)
    assert await pair.aio.get_working_memory("li-chat", "ada") == "# User\n- Pet: Rex"
    await agent.run(user_msg="What is my dog called?", memory=memory)
    system = "\n".join(m.content or "" for m in seen[-1] if m.role == MessageRole.SYSTEM)
    assert "<working_memory>" in system and "Pet: Rex" in system


async def test_a_context_without_a_thread_or_a_known_user_is_refused(pair_factory: Any) -> None:
    pair = await wm_pair(pair_factory)
    spec = WorkingMemoryToolSpec(pair.aio)
    agent = FunctionAgent(tools=spec.to_tool_list(), llm=scripted_llm({"memory": "x"}, []))
    ctx = Context(agent)
    with pytest.raises(InvalidInputError, match="names no thread"):
        await spec.update_working_memory(ctx, memory="x")
    await ctx.store.set("thread_id", "fresh")
    with pytest.raises(InvalidInputError, match="user is unknown"):
        await spec.get_working_memory(ctx)
    await ctx.store.set("resource_id", "ada")
    assert json.loads(await spec.update_working_memory(ctx, memory="# User\n- Name: Ada")) == {"success": True}
    assert await spec.get_working_memory(ctx) == "# User\n- Name: Ada"
    plain: Pair = await pair_factory()
    with pytest.raises(InvalidInputError, match="working memory is off or read-only"):
        WorkingMemoryToolSpec(plain.aio)
