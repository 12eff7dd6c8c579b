"""Working memory written by Mastra's ``updateWorkingMemory`` is read by ours, and the other way round."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from mastra_memory import MemoryConfig, WorkingMemory

from . import op
from .conftest import Db, Mastra

RESOURCE = {"workingMemory": {"enabled": True, "scope": "resource"}}
THREAD = {"workingMemory": {"enabled": True, "scope": "thread"}}
PROFILE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "city": {"type": "string"},
        "prefs": {"type": "object", "properties": {"tea": {"type": "boolean"}, "lang": {"type": "string"}}},
    },
}
SCHEMA_THREAD = {"workingMemory": {"enabled": True, "scope": "thread", "schema": PROFILE}}
NO_RECALL = {"lastMessages": 10, "semanticRecall": False, "generateTitle": False}

Factory = Callable[..., Awaitable[Any]]


async def test_resource_scope_both_ways(mastra: Mastra, mem_factory: Factory, schema: str) -> None:
    got = await mastra(
        schema,
        [
            op("createThread", threadId="t-m1", resourceId="alice"),
            op("updateWorkingMemory", threadId="t-m1", resourceId="alice", workingMemory="# Alice\n- from Mastra\n"),
            # thread metadata carrying working memory lands in the resource (Mastra's saveThread)
            op("createThread", threadId="t-m2", resourceId="bob", metadata={"workingMemory": "# Bob via metadata"}),
        ],
        memory_options={**NO_RECALL, **RESOURCE},
    )
    assert got[0]["id"] == "t-m1"
    ours = await mem_factory(schema, config=MemoryConfig(working_memory=WorkingMemory(enabled=True)))
    await ours.create_thread("alice", thread_id="t-p1")
    # a thread of ours reads what Mastra wrote from another thread of the same resource
    assert await ours.get_working_memory("t-p1", "alice") == "# Alice\n- from Mastra\n"
    assert "# Alice\n- from Mastra\n" in (await ours.context("t-p1", "alice")).system[0]
    assert await ours.get_working_memory("t-m2", "bob") == "# Bob via metadata"

    await ours.update_working_memory("t-p1", "alice", working_memory="# Alice\n- from Python\n")
    await ours.create_thread("carol", thread_id="t-p2", metadata={"workingMemory": "# Carol via metadata"})
    empty = WorkingMemory().markdown_template
    assert not (await ours.update_working_memory("t-p1", "alice", working_memory=empty)).saved
    got = await mastra(
        schema,
        [
            op("getWorkingMemory", threadId="t-m1", resourceId="alice"),
            op("getWorkingMemory", threadId="t-p2", resourceId="carol"),
            op("getWorkingMemoryTemplate"),
        ],
        memory_options={**NO_RECALL, **RESOURCE},
    )
    assert got[0] == "# Alice\n- from Python\n"
    assert got[1] == "# Carol via metadata"
    template = await ours.get_working_memory_template()
    assert got[2] == {"format": template.format, "content": template.content}


async def test_thread_scope_both_ways(mastra: Mastra, mem_factory: Factory, db: Db, schema: str) -> None:
    got = await mastra(
        schema,
        [
            op("createThread", threadId="t-m", resourceId="alice", metadata={"channel": "web"}),
            op("updateWorkingMemory", threadId="t-m", resourceId="alice", workingMemory="# t-m notes"),
            op("createThread", threadId="t-j", resourceId="alice"),
            op(
                "updateWorkingMemory",
                threadId="t-j",
                resourceId="alice",
                workingMemory='{"name":"Alice","prefs":{"tea":true}}',
                memoryConfig=SCHEMA_THREAD,
            ),
        ],
        memory_options={**NO_RECALL, **THREAD},
    )
    thread_scope = MemoryConfig(working_memory=WorkingMemory(enabled=True, scope="thread"))
    markdown = await mem_factory(schema, config=thread_scope)
    assert await markdown.get_working_memory("t-m", "alice") == "# t-m notes"
    assert await markdown.get_working_memory("t-j", "alice") == '{"name":"Alice","prefs":{"tea":true}}'
    await markdown.create_thread("alice", thread_id="t-p")
    await markdown.update_working_memory("t-p", "alice", working_memory="# t-p notes")
    await markdown.update_working_memory("t-m", "alice", working_memory="# t-m notes, by Python")

    # schema mode: we merge into the JSON Mastra stored; Mastra reads the merged JSON
    structured = await mem_factory(
        schema, config=MemoryConfig(working_memory=WorkingMemory(enabled=True, scope="thread", schema=PROFILE))
    )
    await structured.update_working_memory("t-j", working_memory={"city": "Lyon", "prefs": {"lang": "fr"}})
    got = await mastra(
        schema,
        [
            op("getWorkingMemory", threadId="t-p", resourceId="alice"),
            op("getWorkingMemory", threadId="t-m", resourceId="alice"),
            op("getThreadById", threadId="t-m"),
            op("getWorkingMemory", threadId="t-j", resourceId="alice", memoryConfig=SCHEMA_THREAD),
            op("getWorkingMemoryTemplate", memoryConfig=SCHEMA_THREAD),
            op("sql", text="SELECT count(*) AS n FROM mastra_resources"),
        ],
        memory_options={**NO_RECALL, **THREAD},
    )
    assert got[0] == "# t-p notes"
    assert got[1] == "# t-m notes, by Python"
    assert got[2]["metadata"] == {"channel": "web", "workingMemory": "# t-m notes, by Python"}
    assert json.loads(got[3]) == {"name": "Alice", "city": "Lyon", "prefs": {"tea": True, "lang": "fr"}}
    assert got[4]["format"] == "json"
    assert set(json.loads(got[4]["content"])["properties"]) == set(PROFILE["properties"])
    assert got[5] == [{"n": "0"}]  # thread scope never touches the resource table
    kinds = await db(schema, "SELECT jsonb_typeof(metadata->'workingMemory') AS k FROM mastra_threads ORDER BY id")
    assert {r["k"] for r in kinds} == {"string"}
