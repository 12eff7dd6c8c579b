"""Resources (resource-scoped working memory and metadata) written on one side, read on the other."""

from __future__ import annotations

from typing import Any

from mastra_memory import Resource

from . import as_mastra_resource, op
from .conftest import Db, Mastra, Ours

THREAD_SCOPE = {"workingMemory": {"enabled": True, "scope": "thread"}}
KINDS = "SELECT id, jsonb_typeof(metadata) AS kind FROM mastra_resources ORDER BY id"


def kinds(rows: list[dict[str, Any]]) -> dict[str, str]:
    return {r["id"]: r["kind"] for r in rows}


async def test_mastra_writes_resources_we_read_them(mastra: Mastra, ours: Ours, db: Db, schema: str) -> None:
    got = await mastra(
        schema,
        [
            op("createThread", threadId="t-bob", resourceId="bob"),
            op("updateWorkingMemory", threadId="t-bob", resourceId="bob", workingMemory="# Bob\n- likes: chess\n"),
            op(
                "updateResource",
                resourceId="alice",
                workingMemory="# User Information\n- **First Name**: Alice\n",
                metadata={"plan": "pro", "seats": 3, "flags": {"beta": True}},
            ),
            op("updateResource", resourceId="dora", workingMemory="# Dora"),
            op("updateWorkingMemory", threadId="t-bob", workingMemory="thread notes", memoryConfig=THREAD_SCOPE),
            op("sql", text=KINDS),
            op("getResourceById", resourceId="bob"),
            op("getResourceById", resourceId="alice"),
            op("getResourceById", resourceId="dora"),
        ],
    )
    # Mastra double-encodes the metadata of every resource it creates: a jsonb *string* holding JSON.
    assert kinds(got[5]) == {"alice": "string", "bob": "string", "dora": "string"}
    memory = await ours(schema)
    bob, alice, dora = [await memory.get_resource(r) for r in ("bob", "alice", "dora")]
    assert isinstance(bob, Resource)
    assert isinstance(alice, Resource)
    assert isinstance(dora, Resource)
    assert (bob.working_memory, bob.metadata) == ("# Bob\n- likes: chess\n", {})
    assert alice.metadata == {"plan": "pro", "seats": 3, "flags": {"beta": True}}
    assert alice.working_memory == "# User Information\n- **First Name**: Alice\n"
    assert [as_mastra_resource(r) for r in (bob, alice, dora)] == got[6:9]
    # thread-scoped working memory lives in the thread's metadata
    thread = await memory.get_thread("t-bob")
    assert thread is not None
    assert thread.metadata == {"workingMemory": "thread notes"}

    # We write on Mastra's double-encoded row: the string is parsed and merged, and becomes an object.
    merged = await memory.update_resource("bob", metadata={"x": 1})
    assert (merged.working_memory, merged.metadata) == ("# Bob\n- likes: chess\n", {"x": 1})
    assert kinds(await db(schema, KINDS))["bob"] == "object"  # Mastra reads objects: see the next test


async def test_we_write_resources_mastra_reads_them(mastra: Mastra, ours: Ours, schema: str) -> None:
    memory = await ours(schema)
    await memory.create_thread("carol", thread_id="t-carol")
    carol = await memory.update_resource("carol", working_memory="# Carol\n- city: Lyon\n", metadata={"tier": 1})
    erin = await memory.update_resource("erin")
    await memory.update_resource("carol", metadata={"lang": "fr"})
    carol = await memory.update_resource("carol", working_memory="# Carol\n- city: Nice\n")
    assert carol.metadata == {"tier": 1, "lang": "fr"}

    got = await mastra(
        schema,
        [
            op("getResourceById", resourceId="carol"),
            op("getResourceById", resourceId="erin"),
            op("getWorkingMemory", threadId="t-carol", resourceId="carol"),
            op("getWorkingMemory", threadId="t-carol", resourceId="erin"),
            op("getResourceById", resourceId="nobody"),
            # Mastra's updates on our rows: metadata merges, working memory is replaced.
            op("updateResource", resourceId="carol", metadata={"tier": 2}),
            op("updateWorkingMemory", threadId="t-carol", resourceId="erin", workingMemory="# Erin"),
            op("sql", text=KINDS),
        ],
    )
    assert got[0] == as_mastra_resource(carol)
    assert got[1] == as_mastra_resource(erin)
    assert (got[1]["workingMemory"], got[1]["metadata"]) == (None, {})
    assert got[2] == "# Carol\n- city: Nice\n"
    assert got[3] is None
    assert got[4] is None
    # our rows hold real jsonb objects, never Mastra's double-encoded strings
    assert kinds(got[7]) == {"carol": "object", "erin": "object"}
    carol2, erin2 = await memory.get_resource("carol"), await memory.get_resource("erin")
    assert carol2 is not None
    assert erin2 is not None
    assert (carol2.working_memory, carol2.metadata) == ("# Carol\n- city: Nice\n", {"tier": 2, "lang": "fr"})
    assert (erin2.working_memory, erin2.metadata) == ("# Erin", {})
    assert as_mastra_resource(carol2) == got[5]
