"""A LangChain v1 agent with Mastra's memory: history, recall across threads, one tool.

Run: python docs/examples/langchain_agent.py   (embedded PostgreSQL, offline embedder, a scripted
fake chat model: no setup, no key). Needs ``pip install "mastra-memory[langchain]"``.
"""

from dataclasses import dataclass
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from langchain_mastra_memory import MastraMemoryMiddleware
from mastra_memory import Memory, MemoryConfig, SemanticRecall


class ScriptedModel(GenericFakeChatModel):
    """Offline stand-in for a real chat model: replies from a script and shows what it was sent."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> "ScriptedModel":
        return self

    def _generate(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        print(f"  [model sees {len(messages)} messages; system prompt:]")
        print("   ", messages[0].text.replace("\n", "\n    "))
        return super()._generate(messages, *args, **kwargs)


def scripted(*replies: AIMessage) -> ScriptedModel:
    return ScriptedModel(messages=iter(replies))
    # With a real model instead (pip install langchain-openai; OPENAI_API_KEY set):
    #     from langchain_openai import ChatOpenAI
    #     return ChatOpenAI(model="gpt-4o-mini")


@tool
def book_show(city: str) -> str:
    """Book a show in a city."""
    return f"Booked a fado show in {city} for the evening of May 3rd."


@dataclass
class UserContext:
    resource_id: str  # whose memory: Mastra's resourceId


config = MemoryConfig(last_messages=10, semantic_recall=SemanticRecall(top_k=2, message_range=1))

with Memory.connect(config=config) as memory:  # no DSN: the embedded PostgreSQL
    memory_middleware = MastraMemoryMiddleware(memory)
    ada = UserContext(resource_id="user-ada")

    print("Thread 'trip', turn 1:")
    agent = create_agent(
        scripted(
            AIMessage("", tool_calls=[{"name": "book_show", "args": {"city": "Lisbon"}, "id": "call_1"}]),
            AIMessage("Done: a fado show in Lisbon on May 3rd."),
        ),
        tools=[book_show],
        system_prompt="You are a travel assistant.",
        middleware=[memory_middleware],
        context_schema=UserContext,
    )
    agent.invoke(
        {"messages": [{"role": "user", "content": "I'm flying to Lisbon on May 3rd. Book me a fado show."}]},
        {"configurable": {"thread_id": "trip"}},
        context=ada,
    )
    stored = memory.list_messages("trip").messages
    print("Stored as Mastra rows:", [(m.role, [p["type"] for p in m.content.parts]) for m in stored])

    print("\nThread 'today', a new agent; the answer lives in thread 'trip':")
    agent = create_agent(
        scripted(AIMessage("You are flying to Lisbon.")),
        system_prompt="You are a travel assistant.",
        middleware=[MastraMemoryMiddleware(memory)],
        context_schema=UserContext,
    )
    result = agent.invoke(
        {"messages": [{"role": "user", "content": "Which city am I flying to in May?"}]},
        {"configurable": {"thread_id": "today"}},
        context=ada,
    )
    print("Answer:", result["messages"][-1].text)
