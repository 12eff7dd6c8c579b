"""Quick start: save a conversation and read it back, on the embedded PostgreSQL (no setup).

Run: python docs/examples/quickstart.py
"""

from mastra_memory import Memory, Message

with Memory.connect() as memory:  # no DSN: the embedded PostgreSQL, started on demand
    thread = memory.create_thread("user-ada", title="Trip planning")
    memory.save_messages(
        [
            Message.user("I'm flying to Lisbon on May 3rd. Remind me to book a fado show.", thread_id=thread.id),
            Message.assistant("Noted: Lisbon on May 3rd, and a fado show to book.", thread_id=thread.id),
            Message.user("Also, I'm vegetarian.", thread_id=thread.id),
        ]
    )

    # What an agent loads before its next model call: the newest messages, oldest first.
    history = memory.recall(thread.id, resource_id="user-ada", last_messages=10)
    for message in history.messages:
        print(f"{message.created_at:%H:%M:%S.%f} {message.role:>9}: {message.text}")

    # Threads of a user, newest first, with the total count.
    page = memory.list_threads(resource_id="user-ada")
    print(f"user-ada has {page.total} thread(s); this one holds {history.total} message(s)")
