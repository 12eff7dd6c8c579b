"""LlamaIndex's own `Memory`, with its history in Mastra's tables and Mastra's memory as blocks.

- `MastraDBChatStore`: the store behind `Memory` (every message saved, and embedded, when put);
- `WorkingMemoryBlock` + `WorkingMemoryToolSpec`: the profile the agent keeps with Mastra's
  `updateWorkingMemory` tool (the tool finds the user from the run's Context);
- `SemanticRecallBlock`: older messages of the user that match the question.

Run: python docs/examples/llamaindex_blocks.py   (embedded PostgreSQL, offline embedder, LlamaIndex's
offline mock LLM scripted below: no setup, no key). Needs ``pip install "mastra-memory[llama-index]"``.
"""

import asyncio
from typing import Any

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.memory import Memory

from llama_index_mastra_memory import (
    MastraDBChatStore,
    SemanticRecallBlock,
    WorkingMemoryBlock,
    WorkingMemoryToolSpec,
)
from mastra_memory import AsyncMemory, MemoryConfig, SemanticRecall, WorkingMemory

sent_to_model: list[list[ChatMessage]] = []


def model(messages: Any, **kwargs: Any) -> ChatMessage:
    """Stand-in for a real LLM (e.g. llama_index.llms.openai.OpenAI): it saves the user's name with
    the working-memory tool when told it, and otherwise just answers."""
    sent_to_model.append(list(messages))
    last = messages[-1]
    if last.role == MessageRole.USER and "my name is" in (last.content or ""):
        update = {"memory": "# User Information\n- **First Name**: Ada\n- **Location**: Lyon\n"}
        return ChatMessage(
            role="assistant",
            blocks=[ToolCallBlock(tool_call_id="call-1", tool_name="updateWorkingMemory", tool_kwargs=update)],
        )
    return ChatMessage(role="assistant", content="Noted.")


async def main() -> None:
    config = MemoryConfig(
        semantic_recall=SemanticRecall(top_k=2, message_range=0),
        working_memory=WorkingMemory(enabled=True),  # resource scope: one profile per user
    )
    async with await AsyncMemory.connect(config=config) as mastra:  # no DSN: the embedded PostgreSQL
        # One set of blocks and tools serves every user: each call is scoped by its session.
        blocks = [
            WorkingMemoryBlock(async_memory=mastra),
            SemanticRecallBlock(async_memory=mastra, top_k=2, message_range=0),
        ]
        agent = FunctionAgent(
            tools=WorkingMemoryToolSpec(mastra).to_tool_list(),
            llm=MockFunctionCallingLLM(response_generator=model),
            system_prompt="You are a travel assistant.",
        )

        def memory_for(thread_id: str) -> Memory:
            store = MastraDBChatStore(resource_id="user-ada", async_memory=mastra)
            return Memory.from_defaults(session_id=thread_id, chat_store=store, memory_blocks=blocks)

        monday = memory_for("monday")
        await agent.run(user_msg="Hi, my name is Ada and I live in Lyon.", memory=monday)
        await agent.run(user_msg="I'm flying to Lisbon on May 3rd for a fado show.", memory=monday)
        print("Working memory after Monday:")
        print(await mastra.get_working_memory("monday", "user-ada"))

        rows = (await mastra.list_messages("monday")).messages
        print("Monday as Mastra rows:", [m.role for m in rows])

        print("Friday, a new thread; what the model is sent:")
        await agent.run(user_msg="Which city am I flying to in May?", memory=memory_for("friday"))
        for message in sent_to_model[-1]:
            text = (message.content or "").replace("\n", "\n    ")
            print(f"  [{message.role.value}] {text}")


asyncio.run(main())
