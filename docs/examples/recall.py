"""Recall across conversations: what an agent gets before its next model call.

Run: python docs/examples/recall.py   (embedded PostgreSQL, offline embedder: no setup, no key)
"""

from mastra_memory import Memory, MemoryConfig, Message, SemanticRecall

config = MemoryConfig(last_messages=4, semantic_recall=SemanticRecall(top_k=2, message_range=1))

with Memory.connect(config=config) as memory:
    # Last week's conversation with this user...
    trip = memory.create_thread("user-ada", title="Trip planning")
    memory.save_messages(
        [
            Message.user("I'm flying to Lisbon on May 3rd for a conference.", thread_id=trip.id),
            Message.assistant("Great! Lisbon is lovely in May.", thread_id=trip.id),
            Message.user("Remind me to book a fado show while I'm there.", thread_id=trip.id),
            Message.assistant("I'll keep the fado show in mind.", thread_id=trip.id),
        ]
    )
    # ...and today's, in a new thread. The question's answer lives in the old one.
    today = memory.create_thread("user-ada", title="Today")
    question = "Which city am I flying to in May?"
    memory.save_messages([Message.user(question, thread_id=today.id)])

    ctx = memory.context(today.id, "user-ada", query=question)
    for block in ctx.system:  # recalled messages from other threads arrive as one system block
        print(block)
    for message in ctx.messages:  # this thread's history, oldest first
        print(f"{message.role}: {message.text}")
    print(f"recalled {len(ctx.hits)} message(s); context: {ctx.tokens} tokens in one SQL statement")
