"""Title generation, the token limiter and the tool-call filter.

Run: python docs/examples/processors.py   (embedded PostgreSQL; the chat model is a scripted stand-in,
so it runs offline: use LangChainChatModel(ChatOpenAI(...)) or LlamaIndexLLM(OpenAI(...)) for a real one)
"""

from collections.abc import Sequence

from mastra_memory import (
    BackgroundTitles,
    Memory,
    MemoryConfig,
    Message,
    TitleGeneration,
    filter_tool_calls,
    limit_tokens,
)
from mastra_memory.models import ChatTurn


class ScriptedTitleModel:
    """Stands in for an LLM: answers like a chatty one would, so the cleaning shows."""

    model_id = "scripted-title-model"

    def complete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        first_user_message = messages[-1].content
        if "Lisbon" in first_user_message:
            return '**Title:** "Packing for Lisbon in May."'
        return "Dinner ideas"


config = MemoryConfig(generate_title=TitleGeneration(model=ScriptedTitleModel()))

with Memory.connect(config=config) as memory:
    memory.create_thread("user-ada", thread_id="trip")
    weather = {
        "state": "result", "toolCallId": "call-1", "toolName": "weather",
        "args": {"city": "Lisbon", "month": "May"}, "result": {"high_c": 22, "rain_days": 6},
    }
    memory.save_messages([
        Message.user("I'm flying to Lisbon in May. What should I pack?", thread_id="trip"),
        Message.assistant(
            [{"type": "step-start"}, {"type": "tool-invocation", "toolInvocation": weather},
             {"type": "text", "text": "Light layers and a rain jacket: about 22 C with some rain."}],
            thread_id="trip",
        ),
        Message.user("Any tips for the beach?", thread_id="trip"),
        Message.assistant("Bring sunscreen; the Atlantic stays cold until July.", thread_id="trip"),
        Message.user("And where should we have dinner?", thread_id="trip"),
    ])

    # 1. Title generation: from the first user message, cleaned, at most 80 characters.
    thread = memory.generate_title("trip")
    print(f"Title: {thread.title}")
    memory.update_thread("trip", title="Lisbon with Clara")  # a title someone chose...
    print(f"Kept: {memory.generate_title('trip').title}")  # ...is never overwritten

    # In an agent it runs after the turn is saved, in the background (a daemon thread here).
    memory.create_thread("user-ada", thread_id="food")
    memory.save_messages([Message.user("Give me dinner ideas for tonight", thread_id="food")])
    titles = BackgroundTitles(memory)
    titles.start("food", resource_id="user-ada")
    titles.join()  # a script waits before exiting; an agent never does
    print(f"Background title: {memory.get_thread('food').title}")

    # 2. The tool-call filter and the token limiter, applied to the assembled context.
    ctx = memory.context("trip", "user-ada")
    print(f"Context: {len(ctx.messages)} messages, {ctx.tokens} tokens")
    quiet = filter_tool_calls(ctx)
    tools_left = sum(len(m.content.tool_invocations()) for m in quiet.messages)
    print(f"Without tool calls: {len(quiet.messages)} messages, {tools_left} tool calls")
    short = limit_tokens(quiet, 40)
    print("Within 40 tokens:", [m.text for m in short.messages])
