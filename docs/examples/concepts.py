"""The concepts in one run: a resource, its threads, message parts, working memory, and recall.

Run: python docs/examples/concepts.py   (embedded PostgreSQL, offline embedder: no setup, no key)
"""

from mastra_memory import Memory, MemoryConfig, Message, SemanticRecall, WorkingMemory

config = MemoryConfig(
    last_messages=10,  # message history: the thread's newest 10 messages
    semantic_recall=SemanticRecall(top_k=3, message_range=1, scope="resource"),  # across the user's threads
    working_memory=WorkingMemory(enabled=True, scope="resource"),  # one profile per user
)

with Memory.connect(config=config) as memory:
    # A resource is whoever the memory belongs to (here a user); threads are its conversations.
    monday = memory.create_thread("user-lin", thread_id="lin-monday", title="Garden")
    memory.save_messages(
        [
            Message.user("My tomatoes keep splitting after rain.", thread_id=monday.id),
            # One assistant message holds a whole turn: a tool call, its result, then the answer.
            Message.assistant(
                [
                    {
                        "type": "tool-invocation",
                        "toolInvocation": {
                            "state": "result",
                            "toolCallId": "call_1",
                            "toolName": "forecast",
                            "args": {"city": "Ghent"},
                            "result": "heavy rain on Thursday",
                        },
                    },
                    {"type": "text", "text": "Water evenly; heavy rain is due on Thursday, so pick ripe ones first."},
                ],
                thread_id=monday.id,
            ),
        ]
    )
    # Working memory: a document the model keeps about the user (through the updateWorkingMemory tool).
    memory.update_working_memory(monday.id, working_memory="# User Information\n- **Location**: Ghent\n")

    # A new conversation of the same user: history is empty, but recall and working memory carry over.
    friday = memory.create_thread("user-lin", thread_id="lin-friday", title="Weekend")
    ctx = memory.context(friday.id, "user-lin", query="Why are my tomatoes splitting?")
    print("working memory:", ctx.working_memory.splitlines()[1] if ctx.working_memory else None)
    for hit in ctx.hits:
        where = "this thread" if hit.same_thread else f"thread {hit.message.thread_id}"
        print(f"recalled #{hit.rank} from {where}: {hit.message.role}: {hit.message.text}")
    turn = memory.list_messages(monday.id).messages[1]
    print("parts of the assistant turn:", [part["type"] for part in turn.content.parts])
    print("tokens:", ctx.diagnostics.tokens)
