"""Retention: sweep old or idle threads, and delete everything of one user (account deletion).

Run: python docs/examples/retention.py   (embedded PostgreSQL; nothing else needed)
"""

from datetime import datetime, timedelta, timezone

from mastra_memory import Memory, MemoryConfig, Message, WorkingMemory

config = MemoryConfig(working_memory=WorkingMemory(enabled=True))

with Memory.connect(config=config) as memory:
    # A conversation from two years ago, one from today, and another user's.
    long_ago = datetime.now(timezone.utc) - timedelta(days=730)
    memory.save_thread("2023-trip", "user-ada", title="Old trip", created_at=long_ago, updated_at=long_ago)
    memory.create_thread("user-ada", thread_id="today")
    memory.save_messages([Message.user("Book me a table for two", thread_id="today")])
    memory.update_working_memory("today", working_memory="# User\n- **First Name**: Ada\n")
    memory.create_thread("user-bob", thread_id="bobs-thread")

    # What would a 1-year idle sweep delete? Then do it.
    preview = memory.sweep_threads(idle_for=timedelta(days=365), dry_run=True)
    print(f"would sweep {preview.thread_ids}")
    swept = memory.sweep_threads(idle_for=timedelta(days=365))
    print(f"swept {swept.threads} thread(s), {swept.messages} message(s)")

    # Ada asks for her account to be deleted: threads, messages, vectors, working memory,
    # observations — all of it, in one transaction. Bob's data stays.
    gone = memory.delete_resource("user-ada")
    print(
        f"deleted resource {gone.resource_id}: {gone.threads} thread(s), {gone.messages} message(s), "
        f"working memory removed: {gone.resource}"
    )
    print("left:", [t.id for t in memory.list_threads().threads])
