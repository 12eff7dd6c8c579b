"""Mastra's ``init()`` and our migrations on one schema, in either order: both sides keep working.

Mastra's ``PostgresStore.init()`` creates 43 ``mastra_*`` tables; our migrations create only the
four memory tables (plus our ledger). Whichever runs first, the other must neither fail nor
change what the first made.
"""

from __future__ import annotations

from typing import Any

from mastra_memory import Memory, Message
from mastra_memory.storage import latest_version

from . import as_mastra_message, as_mastra_thread, mastra_message, op
from .conftest import Db, Mastra, Ours

MEMORY_TABLES = ("mastra_threads", "mastra_messages", "mastra_resources", "mastra_observational_memory")
MASTRA_TABLE_COUNT = 43
NO_SEMANTIC_RECALL = {
    "lastMessages": 20,
    "semanticRecall": False,
    "workingMemory": {"enabled": True, "scope": "resource"},
    "generateTitle": False,
}


async def catalog(db: Db, schema: str) -> dict[str, Any]:
    """Tables, the memory tables' columns and every index of the schema."""
    tables = {
        r["relname"]
        for r in await db(
            schema,
            (
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
            ),
        )
    }
    columns = [
        tuple(r.values())
        for r in await db(
            schema,
            (
                "SELECT table_name, ordinal_position, column_name, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY(%s) "
                "ORDER BY table_name, ordinal_position"
            ),
            (list(MEMORY_TABLES),),
        )
    ]
    indexes = {
        r["indexname"]: (r["tablename"], r["indexdef"])
        for r in await db(
            schema, ("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
        )
    }
    constraints = {
        (r["conrelid"], r["conname"], r["def"])
        for r in await db(
            schema,
            (
                "SELECT conrelid::regclass::text AS conrelid, conname, pg_get_constraintdef(oid) AS def "
                "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace"
            ),
        )
    }
    return {"tables": tables, "columns": columns, "indexes": indexes, "constraints": constraints}


def _text(role: str, text: str, message_id: str, thread_id: str, resource_id: str, at: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "threadId": thread_id,
        "resourceId": resource_id,
        "role": role,
        "createdAt": at,
        "content": {"format": 2, "parts": [{"type": "text", "text": text}]},
    }


async def test_mastra_init_first_then_our_migration_changes_nothing_of_mastras(
    mastra: Mastra, db: Db, pg_dsn: str, schema: str
) -> None:
    await mastra(
        schema,
        [
            op("init"),
            op("createThread", threadId="t-mastra", resourceId="alice", title="From Mastra", metadata={"side": "ts"}),
            op(
                "saveMessages",
                messages=[
                    _text("user", "Hello from Mastra", "m-1", "t-mastra", "alice", "2025-01-01T10:00:00.001Z"),
                ],
            ),
        ],
    )
    before = await catalog(db, schema)
    assert len({t for t in before["tables"] if t.startswith("mastra_")}) == MASTRA_TABLE_COUNT
    assert "memory_messages_384" in before["tables"]

    memory = Memory.connect(pg_dsn, schema=schema, migrate=False)
    try:
        assert memory.migrate() == list(range(1, latest_version() + 1))
        assert memory.migrate() == []
        after = await catalog(db, schema)
        # Not one column, index or constraint of Mastra's changed; ours are only added beside them.
        assert after["columns"] == before["columns"]
        assert {k: v for k, v in after["indexes"].items() if k in before["indexes"]} == before["indexes"]
        assert before["constraints"] <= after["constraints"]
        added = (after["tables"] - before["tables"]) | (set(after["indexes"]) - set(before["indexes"]))
        assert "mastra_memory_migrations" in added
        assert all(name.startswith("mastra_memory_") for name in added), added

        # Our side reads and writes on Mastra's tables ...
        thread = memory.get_thread("t-mastra")
        assert thread is not None
        assert (thread.title, thread.metadata) == ("From Mastra", {"side": "ts"})
        assert [m.text for m in memory.recall("t-mastra").messages] == ["Hello from Mastra"]
        saved = memory.save_messages([Message.assistant("Hello from Python", id="m-2", thread_id="t-mastra")])
        memory.create_thread("alice", thread_id="t-python", title="From Python")
        memory.save_messages([Message.user("Python thread", id="m-3", thread_id="t-python")])
        ours_thread = memory.get_thread("t-python")
        assert ours_thread is not None

        # ... and Mastra (its lazy init running again over our migration) still works on them.
        got = await mastra(
            schema,
            [
                op("recall", threadId="t-mastra", resourceId="alice"),
                op("getThreadById", threadId="t-python"),
                op(
                    "saveMessages",
                    messages=[
                        _text("user", "Mastra again", "m-4", "t-mastra", "alice", "2030-01-01T00:00:00.000Z"),
                    ],
                ),
                op("listThreads", filter={"resourceId": "alice"}, orderBy={"field": "createdAt", "direction": "ASC"}),
            ],
        )
        assert [m["content"]["parts"][0]["text"] for m in got[0]["messages"]] == [
            "Hello from Mastra",
            "Hello from Python",
        ]
        assert mastra_message(got[0]["messages"][1]) == as_mastra_message(saved[0])
        assert got[1] == as_mastra_thread(ours_thread)
        assert [t["id"] for t in got[3]["threads"]] == ["t-mastra", "t-python"]
        assert [m.text for m in memory.recall("t-mastra").messages] == [
            "Hello from Mastra",
            "Hello from Python",
            "Mastra again",
        ]
        assert (await catalog(db, schema))["columns"] == before["columns"]
    finally:
        memory.close()


async def test_our_migration_first_then_mastra_with_and_without_init(
    mastra: Mastra, ours: Ours, db: Db, schema: str
) -> None:
    memory = await ours(schema)
    mine = await catalog(db, schema)
    our_tables = mine["tables"]
    assert {t for t in our_tables if not t.startswith("mastra_memory_")} == set(MEMORY_TABLES)
    await memory.create_thread("alice", thread_id="t-python", title="From Python", metadata={"side": "py"})
    saved = await memory.save_messages([Message.user("Hello from Python", id="m-1", thread_id="t-python")])
    thread = await memory.get_thread("t-python")

    # Mastra with disableInit: it must work on exactly the tables we made (it creates none). PgVector
    # obeys disableInit too and would not create its table, so semantic recall is off here.
    got = await mastra(
        schema,
        [
            op("getThreadById", threadId="t-python"),
            op("recall", threadId="t-python", resourceId="alice"),
            op("createThread", threadId="t-mastra", resourceId="alice", title="From Mastra"),
            op(
                "saveMessages",
                messages=[
                    _text("assistant", "Hello from Mastra", "m-2", "t-python", "alice", "2030-01-01T00:00:00.000Z"),
                    _text("user", "Mastra thread", "m-3", "t-mastra", "alice", "2030-01-01T00:00:01.000Z"),
                ],
            ),
            op("updateWorkingMemory", threadId="t-python", resourceId="alice", workingMemory="# Alice\n- tea"),
            op("listThreads", filter={"resourceId": "alice"}),
        ],
        disable_init=True,
        memory_options=NO_SEMANTIC_RECALL,
    )
    assert got[0] == as_mastra_thread(thread)
    assert [mastra_message(m) for m in got[1]["messages"]] == [as_mastra_message(saved[0])]
    assert got[5]["total"] == 2
    without_init = await catalog(db, schema)
    assert without_init["tables"] == our_tables
    assert without_init["columns"] == mine["columns"]
    assert [m.text for m in (await memory.recall("t-python")).messages] == ["Hello from Python", "Hello from Mastra"]
    assert (await memory.get_resource("alice")).working_memory == "# Alice\n- tea"

    # Then Mastra's full init over our tables: it adds its other tables and leaves ours alone.
    got = await mastra(
        schema,
        [
            op("init"),
            op("recall", threadId="t-python", resourceId="alice"),
            op(
                "saveMessages",
                messages=[
                    _text("user", "After init", "m-4", "t-mastra", "alice", "2030-01-01T00:00:02.000Z"),
                ],
            ),
            op("getResourceById", resourceId="alice"),
        ],
    )
    assert [m["id"] for m in got[1]["messages"]] == ["m-1", "m-2"]
    assert got[3]["workingMemory"] == "# Alice\n- tea"
    after = await catalog(db, schema)
    made_by_mastra = {t for t in after["tables"] - our_tables if t.startswith("mastra_")}
    assert len(made_by_mastra | set(MEMORY_TABLES)) == MASTRA_TABLE_COUNT
    assert after["columns"] == mine["columns"]
    assert {k: v for k, v in after["indexes"].items() if k in mine["indexes"]} == mine["indexes"]
    later = await memory.save_messages([Message.user("Python again", thread_id="t-mastra")])
    assert [m.id for m in (await memory.recall("t-mastra")).messages] == ["m-3", "m-4", later[0].id]
