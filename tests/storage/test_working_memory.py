"""Working memory as Mastra keeps it: where it lands, how updates apply, the tool and the context block."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from mastra_memory import (
    AsyncMemory,
    InvalidInputError,
    Memory,
    MemoryConfig,
    NotFoundError,
    OwnershipError,
    WorkingMemory,
    WorkingMemoryTemplate,
    working_memory_tool,
)
from mastra_memory.working_memory import DEFAULT_TEMPLATE, TOOL_NAME

from ..conftest import Awaitably
from ._raw import concurrently, count, run


class Address(BaseModel):
    city: str | None = None
    zip: str | None = None


class Profile(BaseModel):
    name: str | None = None
    age: int | None = None
    address: Address | None = None
    tags: list[str] | None = None


STRICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "mood": {"type": "string", "enum": ["happy", "sad"]},
        "prefs": {"type": "object", "properties": {"tea": {"type": "boolean"}, "lang": {"type": "string"}}},
        "pets": {"type": "array", "items": {"type": "object", "properties": {"kind": {"type": "string"}},
                                            "required": ["kind"]}},
    },
    "required": ["name"],
    "additionalProperties": True,
}
OPEN_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": {"type": "integer"}}


def cfg(**options: Any) -> MemoryConfig:
    return MemoryConfig(working_memory=WorkingMemory(enabled=True, **options))


def with_config(mem: Any, config: MemoryConfig) -> Any:
    """Another memory on ``mem``'s schema and server, with this config, of the same flavour."""
    if isinstance(mem, AsyncMemory):
        return AsyncMemory(mem.pool, schema=mem.schema, config=config)
    return Awaitably(Memory(mem.pool, schema=mem.schema, config=config))


def resource_row(mem: Any, resource_id: str) -> dict[str, Any] | None:
    found = run(mem, 'SELECT "workingMemory" AS wm, metadata FROM mastra_resources WHERE id = %s', (resource_id,))
    return found[0] if found else None


def thread_wm(mem: Any, thread_id: str) -> tuple[str | None, str | None]:
    """The thread's metadata.workingMemory and its jsonb type."""
    found = run(
        mem,
        "SELECT metadata->>'workingMemory' AS wm, jsonb_typeof(metadata->'workingMemory') AS kind "
        "FROM mastra_threads WHERE id = %s",
        (thread_id,),
    )
    return (found[0]["wm"], found[0]["kind"]) if found else (None, None)


def sync_or_async(mem: Any) -> Any:
    """The real shell behind the test wrapper (the tool handler takes Memory or AsyncMemory)."""
    return mem if isinstance(mem, AsyncMemory) else mem.memory


async def handle(mem: Any, tool: Any, thread_id: str, resource_id: str, args: Any) -> Any:
    result = tool.handle(sync_or_async(mem), thread_id, resource_id, args)
    return await result if isinstance(mem, AsyncMemory) else result


# --- configuration ------------------------------------------------------------------------------


def test_config_defaults_follow_mastra() -> None:
    wm = WorkingMemory()
    assert (wm.enabled, wm.scope, wm.template, wm.schema, wm.read_only) == (False, "resource", None, None, False)
    assert MemoryConfig().working_memory is None
    assert DEFAULT_TEMPLATE.startswith("\n# User Information\n- **First Name**: \n")
    assert wm.markdown_template == DEFAULT_TEMPLATE.strip()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"template": "# T", "schema": Profile}, "not both"),
        ({"scope": "user"}, "scope"),
        ({"schema": str}, "pydantic model class or a JSON Schema"),
        ({"schema": {"type": "array"}}, "JSON object"),
        ({"template": "# T", "version": "vnext", "schema": None, "scope": "thread"}, None),
        ({"schema": Profile, "version": "vnext"}, "Markdown templates only"),
    ],
)
def test_bad_config_is_refused(options: dict[str, Any], message: str | None) -> None:
    if message is None:
        WorkingMemory(enabled=True, **options)
        return
    with pytest.raises(InvalidInputError, match=message):
        WorkingMemory(enabled=True, **options)
    with pytest.raises(InvalidInputError, match="working_memory"):
        MemoryConfig(working_memory={"enabled": True})  # type: ignore[arg-type]


async def test_templates_are_reported_as_mastra_does(mem: Any) -> None:
    assert await mem.get_working_memory_template() is None  # off
    default = await with_config(mem, cfg()).get_working_memory_template()
    assert default == WorkingMemoryTemplate("markdown", DEFAULT_TEMPLATE.strip())
    custom = await with_config(mem, cfg(template="\n# Trip\n- Destination: \n")).get_working_memory_template()
    assert custom == WorkingMemoryTemplate("markdown", "# Trip\n- Destination:")
    schema = await with_config(mem, cfg(schema=Profile)).get_working_memory_template()
    assert schema.format == "json"
    assert json.loads(schema.content) == Profile.model_json_schema()
    assert json.loads((await with_config(mem, cfg(schema=STRICT_SCHEMA)).get_working_memory_template()).content) == (
        STRICT_SCHEMA
    )


async def test_working_memory_off_reads_nothing_and_refuses_updates(mem: Any) -> None:
    await mem.update_resource("alice", working_memory="# stored by someone else")
    await mem.create_thread("alice", thread_id="t1")
    assert await mem.get_working_memory("t1", "alice") is None
    with pytest.raises(InvalidInputError, match="working memory is off"):
        await mem.update_working_memory("t1", "alice", working_memory="# x")
    context = await mem.context("t1", "alice")
    assert context.system == []
    assert context.working_memory is None
    assert working_memory_tool(mem.config) is None


# --- resource scope -----------------------------------------------------------------------------


async def test_resource_scope_lands_in_the_resource_row_created_lazily(mem: Any) -> None:
    memory = with_config(mem, cfg())
    await memory.create_thread("alice", thread_id="t1")
    assert count(mem, "mastra_resources") == 0  # creating threads does not create the row
    assert await memory.get_working_memory("t1", "alice") is None
    saved = await memory.update_working_memory("t1", "alice", working_memory="# Alice\n- likes tea\n")
    assert (saved.saved, saved.working_memory, saved.message) == (True, "# Alice\n- likes tea\n", None)
    assert resource_row(mem, "alice") == {"wm": "# Alice\n- likes tea\n", "metadata": {}}
    assert thread_wm(mem, "t1") == (None, None)  # the thread is untouched
    # Markdown replaces the whole document.
    await memory.update_working_memory("t1", "alice", working_memory="# Alice\n- likes coffee\n")
    assert await memory.get_working_memory("t1", "alice") == "# Alice\n- likes coffee\n"
    assert (await memory.get_resource("alice")).working_memory == "# Alice\n- likes coffee\n"


async def test_resource_working_memory_is_shared_by_the_resources_threads_and_no_one_else(mem: Any) -> None:
    memory = with_config(mem, cfg())
    for thread, owner in (("a1", "alice"), ("a2", "alice"), ("b1", "bob")):
        await memory.create_thread(owner, thread_id=thread)
    await memory.update_working_memory("a1", "alice", working_memory="# from a1")
    assert await memory.get_working_memory("a2", "alice") == "# from a1"
    await memory.update_working_memory("a2", "alice", working_memory="# from a2")
    assert await memory.get_working_memory("a1", "alice") == "# from a2"
    assert "# from a2" in (await memory.context("a1", "alice")).system[0]
    assert await memory.get_working_memory("b1", "bob") is None
    # A thread that does not exist yet still reads its resource's document.
    assert await memory.get_working_memory("not-yet", "alice") == "# from a2"


async def test_resource_defaults_to_the_threads_owner_and_ownership_is_checked(mem: Any) -> None:
    memory = with_config(mem, cfg())
    await memory.create_thread("alice", thread_id="t1")
    await memory.update_working_memory("t1", working_memory="# owner's")
    assert await memory.get_working_memory("t1") == "# owner's"
    assert resource_row(mem, "alice")["wm"] == "# owner's"
    with pytest.raises(OwnershipError, match="belongs to resource alice"):
        await memory.update_working_memory("t1", "mallory", working_memory="# stolen")
    with pytest.raises(OwnershipError):
        await memory.get_working_memory("t1", "mallory")
    assert resource_row(mem, "mallory") is None
    with pytest.raises(NotFoundError, match="pass resource_id"):
        await memory.update_working_memory("ghost", working_memory="# x")
    assert await memory.get_working_memory("ghost") is None
    assert count(mem, "mastra_resources") == 1


async def test_resource_scope_keeps_metadata_and_reads_mastras_double_encoded_rows(mem: Any) -> None:
    memory = with_config(mem, cfg())
    run(
        mem,
        'INSERT INTO mastra_resources (id, "workingMemory", metadata, "createdAt", "updatedAt") '
        "VALUES ('bob', '# Bob', to_jsonb('{\"plan\":\"pro\"}'::text), now(), now())",
    )
    assert await memory.get_working_memory("t", "bob") == "# Bob"
    await memory.update_working_memory("t", "bob", working_memory="# Bob v2")
    row = await memory.get_resource("bob")
    assert (row.working_memory, row.metadata) == ("# Bob v2", {"plan": "pro"})


# --- thread scope -------------------------------------------------------------------------------


async def test_thread_scope_lands_in_thread_metadata_beside_other_keys(mem: Any) -> None:
    memory = with_config(mem, cfg(scope="thread"))
    before = await memory.create_thread("alice", thread_id="t1", metadata={"tags": ["x"], "workingMemory": 5})
    await memory.create_thread("alice", thread_id="t2")
    saved = await memory.update_working_memory("t1", "alice", working_memory="# t1 notes")
    assert saved.saved
    thread = await memory.get_thread("t1")
    assert thread.metadata == {"tags": ["x"], "workingMemory": "# t1 notes"}
    assert thread.updated_at > before.updated_at  # as Mastra's updateThread
    assert thread_wm(mem, "t1") == ("# t1 notes", "string")
    assert await memory.get_working_memory("t1") == "# t1 notes"
    assert await memory.get_working_memory("t2", "alice") is None  # per thread
    assert count(mem, "mastra_resources") == 0
    with pytest.raises(NotFoundError, match="does not exist"):
        await memory.update_working_memory("ghost", "alice", working_memory="# x")
    with pytest.raises(OwnershipError):
        await memory.update_working_memory("t1", "bob", working_memory="# x")
    assert await memory.get_working_memory("t1") == "# t1 notes"
    assert await memory.get_working_memory("ghost") is None


# --- the empty template -------------------------------------------------------------------------


async def test_the_empty_template_never_wipes_real_data(mem: Any) -> None:
    for scope in ("resource", "thread"):
        memory = with_config(mem, cfg(scope=scope))
        thread = f"t-{scope}"
        await memory.create_thread("alice", thread_id=thread)
        # With nothing stored, the template may be written (Mastra does).
        first = await memory.update_working_memory(thread, "alice", working_memory=DEFAULT_TEMPLATE)
        assert first.saved
        # ... and with only the template stored, it may be written again.
        assert (await memory.update_working_memory(thread, "alice", working_memory=DEFAULT_TEMPLATE.strip())).saved
        data = DEFAULT_TEMPLATE.replace("**First Name**: ", "**First Name**: Alice")
        await memory.update_working_memory(thread, "alice", working_memory=data)
        reformatted = "  " + DEFAULT_TEMPLATE.replace("\n", "\n\n").replace(": ", ":\t") + "\n"
        for empty in (DEFAULT_TEMPLATE, DEFAULT_TEMPLATE.strip(), reformatted):
            refused = await memory.update_working_memory(thread, "alice", working_memory=empty)
            assert not refused.saved
            assert "empty template" in refused.message
        assert await memory.get_working_memory(thread, "alice") == data


async def test_a_custom_template_is_guarded_too(mem: Any) -> None:
    memory = with_config(mem, cfg(template="# Trip\n- Destination: \n"))
    await memory.update_working_memory("t", "alice", working_memory="# Trip\n- Destination: Paris\n")
    assert not (await memory.update_working_memory("t", "alice", working_memory="# Trip\n- Destination:")).saved
    # The default template is just text here.
    assert (await memory.update_working_memory("t", "alice", working_memory=DEFAULT_TEMPLATE)).saved


# --- schema mode: merge rules -------------------------------------------------------------------


async def test_schema_updates_deep_merge_as_mastra_does(mem: Any) -> None:
    for scope in ("resource", "thread"):
        memory = with_config(mem, cfg(schema=Profile, scope=scope))
        thread = f"t-{scope}"
        await memory.create_thread("alice", thread_id=thread)
        await memory.update_working_memory(
            thread, "alice", working_memory={"name": "Alice", "address": {"city": "Lyon"}, "tags": ["a", "b"]}
        )
        merged = await memory.update_working_memory(
            thread, "alice", working_memory={"age": 30, "address": {"zip": "69001"}, "tags": ["c"], "name": None}
        )
        want = {"age": 30, "address": {"city": "Lyon", "zip": "69001"}, "tags": ["c"]}
        assert json.loads(merged.working_memory) == want  # objects merge, None deletes, lists replace
        stored = await memory.get_working_memory(thread, "alice")
        assert json.loads(stored) == want
        # An object update replaces a scalar; None on a missing key is a no-op; {} changes nothing.
        await memory.update_working_memory(
            thread, "alice", working_memory='{"address": {"city": null, "zip": "69002"}, "name": null}'
        )
        await memory.update_working_memory(thread, "alice", working_memory={})
        assert json.loads(await memory.get_working_memory(thread, "alice")) == {
            "age": 30, "address": {"zip": "69002"}, "tags": ["c"]
        }
    # Stored as JSON text: the resource column, and a JSON *string* inside thread metadata.
    assert json.loads(resource_row(mem, "alice")["wm"])["age"] == 30
    text, kind = thread_wm(mem, "t-thread")
    assert kind == "string"
    assert json.loads(text)["address"] == {"zip": "69002"}


async def test_merge_handles_nesting_types_and_strange_keys(mem: Any) -> None:
    memory = with_config(mem, cfg(schema=OPEN_SCHEMA | {"additionalProperties": True}))
    first = {"a": "scalar", "b": [1, {"x": 1}], "c": {"d": {"e": 1}}}
    await memory.update_working_memory("t", "u", working_memory=first)
    await memory.update_working_memory(
        "t", "u",
        working_memory={"a": {"now": "object"}, "b": {"0": "was a list"}, "c": {"d": {"f": [None]}, "g": None},
                        "weird key/with \"quotes\"": {"{}": 1}, "0": 2},
    )
    assert json.loads(await memory.get_working_memory("t", "u")) == {
        "a": {"now": "object"},
        "b": {"0": "was a list"},
        "c": {"d": {"e": 1, "f": [None]}},
        "weird key/with \"quotes\"": {"{}": 1},
        "0": 2,
    }
    await memory.update_working_memory(
        "t", "u", working_memory={"weird key/with \"quotes\"": None, "a,b": None, "c": {"d": {"e": None}}}
    )
    assert json.loads(await memory.get_working_memory("t", "u")) == {
        "a": {"now": "object"}, "b": {"0": "was a list"}, "c": {"d": {"f": [None]}}, "0": 2
    }


async def test_stored_text_that_is_not_json_is_replaced_by_the_merge(mem: Any) -> None:
    """Mastra's tool parses the stored text, and on failure starts from an empty object."""
    await mem.update_resource("alice", working_memory="# Markdown from when the agent had a template")
    memory = with_config(mem, cfg(schema=Profile))
    saved = await memory.update_working_memory("t", "alice", working_memory={"name": "Alice"})
    assert json.loads(saved.working_memory) == {"name": "Alice"}
    await mem.update_resource("alice", working_memory='["a", "list"]')
    assert json.loads((await memory.update_working_memory("t", "alice", working_memory={"age": 2})).working_memory) == {
        "age": 2
    }


async def test_concurrent_schema_updates_lose_nothing(mem: Any) -> None:
    """Every update sets its own key at the same time; one statement each, so all survive."""
    writers = 24
    for scope in ("resource", "thread"):
        memory = with_config(mem, cfg(schema=OPEN_SCHEMA, scope=scope))
        thread = f"race-{scope}"
        if scope == "thread":
            await memory.create_thread("racer", thread_id=thread)
        calls = [
            (lambda m, i=i, t=thread: m.update_working_memory(t, "racer", working_memory={f"k{i:02d}": i}))
            for i in range(writers)
        ]
        results = await concurrently(memory, calls)
        assert all(r.saved for r in results)
        stored = json.loads(await memory.get_working_memory(thread, "racer"))
        assert stored == {f"k{i:02d}": i for i in range(writers)}, scope
    assert count(mem, "mastra_resources") == 1  # the lazily created row, once


# --- bad input ----------------------------------------------------------------------------------


async def test_schema_updates_that_do_not_fit_are_refused_with_every_field_listed(mem: Any) -> None:
    memory = with_config(mem, cfg(schema=STRICT_SCHEMA))
    await memory.update_working_memory("t", "alice", working_memory={"name": "Alice", "prefs": {"tea": True}})
    bad = {"name": 5, "mood": "angry", "prefs": {"tea": "yes"}, "pets": [{"name": "Rex"}]}
    with pytest.raises(InvalidInputError) as caught:
        await memory.update_working_memory("t", "alice", working_memory=bad)
    message = str(caught.value)
    for field in ("memory.name", "memory.mood", "memory.prefs.tea", "memory.pets[0].kind"):
        assert field in message, message
    assert "nothing was saved" in message
    assert json.loads(await memory.get_working_memory("t", "alice")) == {"name": "Alice", "prefs": {"tea": True}}
    # Partial updates: required fields may be left out of an update, and None removes one.
    await memory.update_working_memory("t", "alice", working_memory={"prefs": {"lang": "fr"}, "name": None})
    assert json.loads(await memory.get_working_memory("t", "alice")) == {"prefs": {"tea": True, "lang": "fr"}}
    for not_an_object in (["a"], "not json", "[1]", 3):
        with pytest.raises(InvalidInputError, match=r"JSON object|not valid JSON"):
            await memory.update_working_memory("t", "alice", working_memory=not_an_object)
    closed = with_config(mem, cfg(schema={**STRICT_SCHEMA, "additionalProperties": False}))
    with pytest.raises(InvalidInputError, match=r"memory\.nickname: is not a field of the schema"):
        await closed.update_working_memory("t", "alice", working_memory={"nickname": "Al"})


async def test_markdown_given_as_an_object_is_refused_clearly(mem: Any) -> None:
    memory = with_config(mem, cfg())
    for value in ({"name": "Alice"}, ["a"], None, 5):
        with pytest.raises(InvalidInputError, match="one string holding the whole document"):
            await memory.update_working_memory("t", "alice", working_memory=value)
    with pytest.raises(InvalidInputError, match="NUL"):
        await memory.update_working_memory("t", "alice", working_memory="a\x00b")
    with pytest.raises(InvalidInputError, match="thread_id"):
        await memory.update_working_memory("", "alice", working_memory="# x")
    assert count(mem, "mastra_resources") == 0


# --- thread metadata → resource row -------------------------------------------------------------


async def test_working_memory_in_thread_metadata_lands_in_the_resource_row(mem: Any) -> None:
    memory = with_config(mem, cfg())
    await memory.create_thread("alice", thread_id="t1", metadata={"workingMemory": "# via create", "k": 1})
    assert resource_row(mem, "alice") == {"wm": "# via create", "metadata": {}}
    assert (await memory.get_thread("t1")).metadata == {"workingMemory": "# via create", "k": 1}  # kept, as Mastra
    await memory.update_thread("t1", metadata={"workingMemory": "# via update"})
    assert await memory.get_working_memory("t1", "alice") == "# via update"
    await memory.save_thread("t2", "bob", metadata={"workingMemory": "# via save"})
    assert await memory.get_working_memory("t2", "bob") == "# via save"
    # Not copied: empty or non-string values, a failed create, a missing thread.
    await memory.update_thread("t1", metadata={"workingMemory": ""})
    await memory.update_thread("t1", metadata={"workingMemory": {"an": "object"}})
    assert await memory.get_working_memory("t1", "alice") == "# via update"
    with pytest.raises(Exception, match="already exists"):
        await memory.create_thread("alice", thread_id="t1", metadata={"workingMemory": "# lost"})
    with pytest.raises(NotFoundError):
        await memory.update_thread("ghost", metadata={"workingMemory": "# lost"})
    assert await memory.get_working_memory("t1", "alice") == "# via update"
    assert count(mem, "mastra_resources") == 2


async def test_thread_metadata_stays_in_the_thread_for_thread_scope_or_when_off(mem: Any) -> None:
    await with_config(mem, cfg(scope="thread")).create_thread("alice", thread_id="t1", metadata={"workingMemory": "#1"})
    await mem.create_thread("bob", thread_id="t2", metadata={"workingMemory": "# off"})
    assert count(mem, "mastra_resources") == 0
    assert await with_config(mem, cfg(scope="thread")).get_working_memory("t1") == "#1"


# --- read-only, the tool, the context -----------------------------------------------------------


async def test_read_only_shows_the_data_without_a_tool(mem: Any) -> None:
    writer = with_config(mem, cfg())
    await writer.create_thread("alice", thread_id="t1")
    await writer.update_working_memory("t1", "alice", working_memory="# Alice\n- from Lyon")
    reader = with_config(mem, cfg(read_only=True))
    assert working_memory_tool(reader.config) is None
    block = (await reader.context("t1", "alice")).system[0]
    assert block.startswith("WORKING_MEMORY_SYSTEM_INSTRUCTION (READ-ONLY):")
    assert "# Alice\n- from Lyon" in block
    assert TOOL_NAME not in block
    tool = working_memory_tool(writer.config)
    with pytest.raises(InvalidInputError, match="read-only"):
        await handle(reader, tool, "t1", "alice", {"memory": "# x"})
    empty = with_config(mem, cfg(read_only=True, scope="thread"))
    assert "No working memory data available." in (await empty.context("t1", "alice")).system[0]


def test_markdown_tool_definition() -> None:
    tool = working_memory_tool(cfg())
    assert tool is not None
    assert tool.name == "updateWorkingMemory"
    assert tool.input_schema == {
        "type": "object",
        "properties": {"memory": {"type": "string", "description": tool.input_schema["properties"]["memory"][
            "description"]}},
        "required": ["memory"],
        "additionalProperties": False,
    }
    assert "whole" in tool.input_schema["properties"]["memory"]["description"]
    assert "WHOLE" in tool.description
    assert working_memory_tool(MemoryConfig()) is None
    assert working_memory_tool(WorkingMemory(enabled=True)) == tool


def test_schema_tool_definition_allows_partial_updates() -> None:
    tool = working_memory_tool(cfg(schema=Profile))
    assert tool is not None
    memory = tool.input_schema["properties"]["memory"]
    assert set(memory["properties"]) == {"name", "age", "address", "tags"}
    assert "required" not in json.dumps(memory)
    # references still resolve once the schema is nested under "memory"
    address_ref = memory["properties"]["address"]["anyOf"][0]["$ref"]
    node: Any = tool.input_schema
    for part in address_ref[2:].split("/"):
        node = node[part]
    assert set(node["properties"]) == {"city", "zip"}
    assert "merged" in tool.description
    strict = working_memory_tool(cfg(schema=STRICT_SCHEMA))
    assert strict is not None
    assert "required" not in strict.input_schema["properties"]["memory"]


async def test_tool_calls_create_the_thread_and_apply_updates(mem: Any) -> None:
    for scope in ("resource", "thread"):
        memory = with_config(mem, cfg(scope=scope))
        tool = working_memory_tool(memory.config)
        thread = f"tool-{scope}"
        assert await handle(memory, tool, thread, "alice", {"memory": "# Alice\n- tea"}) == {"success": True}
        created = await memory.get_thread(thread)
        assert (created.resource_id, created.title) == ("alice", "")
        assert await memory.get_working_memory(thread, "alice") == "# Alice\n- tea"
        refused = await handle(memory, tool, thread, "alice", {"memory": DEFAULT_TEMPLATE})
        assert refused["success"] is False
        assert "empty template" in refused["message"]
        with pytest.raises(InvalidInputError, match="not a dict"):
            await handle(memory, tool, thread, "alice", {"memory": {"name": "Alice"}})
        with pytest.raises(InvalidInputError, match="needs `memory`"):
            await handle(memory, tool, thread, "alice", {})
        with pytest.raises(OwnershipError):
            await handle(memory, tool, thread, "mallory", {"memory": "# x"})
        assert await memory.get_working_memory(thread, "alice") == "# Alice\n- tea"


async def test_schema_tool_calls_merge(mem: Any) -> None:
    memory = with_config(mem, cfg(schema=Profile, scope="thread"))
    tool = working_memory_tool(memory.config)
    assert await handle(memory, tool, "t", "alice", {"memory": {"name": "Alice", "tags": ["x"]}}) == {"success": True}
    assert await handle(memory, tool, "t", "alice", {"memory": '{"age": 40}'}) == {"success": True}
    unchanged = await handle(memory, tool, "t", "alice", {"memory": None})
    assert unchanged["success"] is True
    assert json.loads(await memory.get_working_memory("t", "alice")) == {"name": "Alice", "tags": ["x"], "age": 40}
    with pytest.raises(InvalidInputError, match=r"memory\.age: expected integer"):
        await handle(memory, tool, "t", "alice", {"memory": {"age": "forty"}})


async def test_vnext_tool_appends_and_replaces(mem: Any) -> None:
    memory = with_config(mem, cfg(template="# Notes\n", version="vnext"))
    tool = working_memory_tool(memory.config)
    assert tool is not None
    assert set(tool.input_schema["properties"]) == {"newMemory", "searchString", "updateReason"}
    assert (await handle(memory, tool, "t", "alice", {"newMemory": "# Notes\n"}))["success"] is False  # template
    assert (await handle(memory, tool, "t", "alice", {"newMemory": "- likes tea"}))["success"] is True
    assert (await handle(memory, tool, "t", "alice", {"newMemory": "- lives in Lyon"}))["success"] is True
    assert (await handle(memory, tool, "t", "alice", {"newMemory": "likes tea"}))["success"] is False  # duplicate
    fixed = {"newMemory": "- likes green tea", "searchString": "- likes tea", "updateReason": "clarify-existing-memory"}
    assert (await handle(memory, tool, "t", "alice", fixed))["success"] is True
    assert await memory.get_working_memory("t", "alice") == "- likes green tea\n- lives in Lyon"
    no_search = await handle(memory, tool, "t", "alice", {"newMemory": "x", "updateReason": "clarify-existing-memory"})
    assert no_search["success"] is False
    # In resource scope, "irrelevant" memory is not pruned: the text is appended instead.
    prune = {"newMemory": "- moved", "searchString": "- lives in Lyon", "updateReason": "replace-irrelevant-memory"}
    assert (await handle(memory, tool, "t", "alice", prune))["success"] is True
    assert await memory.get_working_memory("t", "alice") == "- likes green tea\n- lives in Lyon\n- moved"
    assert "searchString" in (await memory.context("t", "alice")).system[0]


async def test_context_carries_the_working_memory_block_first(mem: Any) -> None:
    memory = with_config(mem, cfg())
    await memory.create_thread("alice", thread_id="t1")
    empty = await memory.context("t1", "alice")
    assert len(empty.system) == 1
    assert empty.working_memory is None
    block = empty.system[0]
    assert block.startswith("WORKING_MEMORY_SYSTEM_INSTRUCTION:")
    assert f"<working_memory_template>\n{DEFAULT_TEMPLATE.strip()}\n</working_memory_template>" in block
    assert "<working_memory_data>\nNo working memory data available.\n</working_memory_data>" in block
    assert "WHOLE document" in block
    await memory.update_working_memory("t1", "alice", working_memory="# Alice\n- tea")
    full = await memory.context("t1", "alice")
    assert full.working_memory == "# Alice\n- tea"
    assert "<working_memory_data>\n# Alice\n- tea\n</working_memory_data>" in full.system[0]
    assert full.diagnostics.tokens["system"] > 0
    # Thread scope reads the thread's document, not the resource's.
    threaded = with_config(mem, cfg(scope="thread", schema=Profile))
    await threaded.update_working_memory("t1", working_memory={"name": "Alice"})
    ctx = await threaded.context("t1", "alice")
    assert json.loads(ctx.working_memory) == {"name": "Alice"}
    assert '{"name":"","age":0,' not in ctx.system[0]  # Optional fields show their default (null)
    assert '"address":null' in ctx.system[0]
    assert "only the fields that change" in ctx.system[0]
