"""A LlamaIndex FunctionAgent with Mastra's memory: history, recall across threads, one tool.

Run: python docs/examples/llamaindex_agent.py   (embedded PostgreSQL, offline embedder, LlamaIndex's
offline mock LLM: no setup, no key). Needs ``pip install "mastra-memory[llama-index]"``.
"""

import asyncio

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.llms.mock import MockFunctionCallingLLMWithChatMemoryOfLastCall
from llama_index.core.tools import FunctionTool

from llama_index_mastra_memory import MastraMemory
from mastra_memory import AsyncMemory, MemoryConfig, SemanticRecall


def book_show(city: str = "Lisbon") -> str:
    """Book a show in a city."""
    return f"Booked a fado show in {city} for the evening of May 3rd."


def llm() -> MockFunctionCallingLLMWithChatMemoryOfLastCall:
    # Offline stand-in: calls every tool it is given, then answers; records what it was sent.
    # With a real model instead (pip install llama-index-llms-openai; OPENAI_API_KEY set):
    #     from llama_index.llms.openai import OpenAI
    #     return OpenAI(model="gpt-4o-mini")
    return MockFunctionCallingLLMWithChatMemoryOfLastCall()


async def main() -> None:
    config = MemoryConfig(last_messages=10, semantic_recall=SemanticRecall(top_k=2, message_range=1))
    async with await AsyncMemory.connect(config=config) as memory:  # no DSN: the embedded PostgreSQL
        print("Thread 'trip', turn 1:")
        agent = FunctionAgent(
            tools=[FunctionTool.from_defaults(book_show)], llm=llm(), system_prompt="You are a travel assistant."
        )
        trip = MastraMemory.from_defaults("trip", "user-ada", async_memory=memory)
        answer = await agent.run(user_msg="I'm flying to Lisbon on May 3rd. Book me a fado show.", memory=trip)
        print("  Answer:", answer)
        stored = (await memory.list_messages("trip")).messages
        print("Stored as Mastra rows:", [(m.role, [p["type"] for p in m.content.parts]) for m in stored])

        print("\nThread 'today', a new agent and memory object; the answer lives in thread 'trip':")
        model = llm()
        today = MastraMemory.from_defaults("today", "user-ada", async_memory=memory)
        await FunctionAgent(tools=[], llm=model, system_prompt="You are a travel assistant.").run(
            user_msg="Which city am I flying to in May?", memory=today
        )
        for message in model.last_chat_messages or []:
            print(f"  [{message.role.value}]", (message.content or "").replace("\n", "\n    "))


asyncio.run(main())
