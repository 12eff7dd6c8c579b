"""Resources: resource-scoped working memory and metadata (Mastra's `resources.ts`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ._raw import UTC, concurrently, count, run

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def insert_resource(mem, resource_id, *, metadata_json, working_memory=None):
    """A resource row as Mastra left it; ``metadata_json`` is the raw jsonb text."""
    run(
        mem,
        'INSERT INTO mastra_resources (id, "workingMemory", metadata, "createdAt", "updatedAt", "createdAtZ", '
        '"updatedAtZ") VALUES (%s, %s, %s::jsonb, %s, %s, %s, %s)',
        (
            resource_id,
            working_memory,
            metadata_json,
            LONG_AGO.replace(tzinfo=None),
            LONG_AGO.replace(tzinfo=None),
            LONG_AGO,
            LONG_AGO,
        ),
    )


async def test_a_missing_resource_is_none(mem):
    assert await mem.get_resource("nobody") is None


async def test_updating_a_missing_resource_creates_it(mem):
    made = await mem.update_resource("user-1", working_memory="# Notes\n- likes tea", metadata={"plan": "pro"})
    assert (made.id, made.working_memory, made.metadata) == ("user-1", "# Notes\n- likes tea", {"plan": "pro"})
    assert made.created_at == made.updated_at
    assert await mem.get_resource("user-1") == made
    assert count(mem, "mastra_resources") == 1


async def test_a_resource_created_without_values_has_no_working_memory_and_empty_metadata(mem):
    made = await mem.update_resource("user-1")
    assert (made.working_memory, made.metadata) == (None, {})


async def test_working_memory_can_be_updated_alone_keeping_metadata(mem):
    await mem.update_resource("user-1", working_memory="old", metadata={"a": 1})
    updated = await mem.update_resource("user-1", working_memory="new")
    assert (updated.working_memory, updated.metadata) == ("new", {"a": 1})


async def test_metadata_can_be_updated_alone_keeping_working_memory(mem):
    await mem.update_resource("user-1", working_memory="kept", metadata={"a": 1, "nested": {"x": 1}})
    updated = await mem.update_resource("user-1", metadata={"b": 2, "nested": {"y": 2}})
    assert updated.working_memory == "kept"
    assert updated.metadata == {"a": 1, "b": 2, "nested": {"y": 2}}  # shallow merge


async def test_working_memory_none_clears_it_and_leaving_it_out_keeps_it(mem):
    await mem.update_resource("user-1", working_memory="text")
    assert (await mem.update_resource("user-1", metadata={"a": 1})).working_memory == "text"
    assert (await mem.update_resource("user-1", working_memory=None)).working_memory is None
    assert (await mem.get_resource("user-1")).working_memory is None


async def test_empty_working_memory_and_empty_metadata_are_allowed(mem):
    made = await mem.update_resource("user-1", working_memory="", metadata={})
    assert (made.working_memory, made.metadata) == ("", {})
    again = await mem.update_resource("user-1", metadata={})
    assert (again.working_memory, again.metadata) == ("", {})


async def test_complex_metadata_and_large_working_memory_round_trip(mem):
    metadata = {
        "prefs": {"langs": ["fr", "en"], "tz": "Europe/Paris", "flags": {"beta": True, "n": None}},
        "score": 1.5,
    }
    working_memory = "# Profile\n" + "\n".join(f"- fact {i}: {'ü' * 50}" for i in range(5000))
    await mem.update_resource("user-1", working_memory=working_memory, metadata=metadata)
    got = await mem.get_resource("user-1")
    assert (got.working_memory, got.metadata) == (working_memory, metadata)
    row = run(mem, "SELECT jsonb_typeof(metadata) AS kind FROM mastra_resources")[0]
    assert row["kind"] == "object"


async def test_updating_bumps_updated_at_and_keeps_created_at(mem):
    insert_resource(mem, "user-1", metadata_json='{"a": 1}')
    updated = await mem.update_resource("user-1", working_memory="x")
    assert updated.created_at == LONG_AGO
    assert updated.updated_at > LONG_AGO + timedelta(days=365)


async def test_concurrent_updates_all_succeed_and_lose_no_metadata_key(mem):
    results = await concurrently(
        mem,
        [
            lambda m, i=i: m.update_resource("user-1", working_memory=f"wm {i}", metadata={f"k{i}": i})
            for i in range(10)
        ],
    )
    assert len(results) == 10
    final = await mem.get_resource("user-1")
    assert final.metadata == {f"k{i}": i for i in range(10)}
    assert final.working_memory in {f"wm {i}" for i in range(10)}
    assert count(mem, "mastra_resources") == 1


async def test_metadata_mastra_double_encoded_as_a_json_string_reads_as_an_object(mem):
    insert_resource(mem, "empty", metadata_json='"{}"', working_memory="wm")
    insert_resource(mem, "full", metadata_json='"{\\"plan\\": \\"pro\\"}"')
    assert (
        run(mem, "SELECT jsonb_typeof(metadata) AS kind FROM mastra_resources WHERE id = 'empty'")[0]["kind"]
        == "string"
    )
    empty = await mem.get_resource("empty")
    assert (empty.metadata, empty.working_memory) == ({}, "wm")
    assert (await mem.get_resource("full")).metadata == {"plan": "pro"}


async def test_metadata_merges_into_a_double_encoded_value_and_is_stored_as_an_object(mem):
    insert_resource(mem, "user-1", metadata_json='"{\\"plan\\": \\"pro\\"}"')
    updated = await mem.update_resource("user-1", metadata={"seats": 3})
    assert updated.metadata == {"plan": "pro", "seats": 3}
    row = run(mem, "SELECT jsonb_typeof(metadata) AS kind FROM mastra_resources")[0]
    assert row["kind"] == "object"


async def test_null_metadata_from_mastra_reads_as_none_and_merges(mem):
    insert_resource(mem, "user-1", metadata_json=None)
    assert (await mem.get_resource("user-1")).metadata is None
    assert (await mem.update_resource("user-1", metadata={"a": 1})).metadata == {"a": 1}
