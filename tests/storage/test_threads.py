"""Threads: create, get, save, update and delete (Mastra's storage suite, `threads.ts`)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest

from mastra_memory import ConflictError, Message, MessageUpdate, NotFoundError, StorageError

from ._raw import UTC, add_vector, concurrently, count, create_vector_table, insert_thread, run


async def test_a_thread_round_trips_with_its_id_resource_title_and_metadata(mem):
    made = await mem.create_thread("user-1", thread_id="t-1", title="Trip", metadata={"k": "v", "n": {"b": [1, 2]}})
    got = await mem.get_thread("t-1")
    assert got == made
    assert (got.id, got.resource_id, got.title, got.metadata) == (
        "t-1",
        "user-1",
        "Trip",
        {"k": "v", "n": {"b": [1, 2]}},
    )
    assert got.created_at.tzinfo is not None
    assert got.created_at == got.updated_at
    row = run(mem, "SELECT jsonb_typeof(metadata) AS kind FROM mastra_threads WHERE id = 't-1'")[0]
    assert row["kind"] == "object"  # a jsonb object, not a JSON string


async def test_getting_a_missing_thread_gives_none(mem):
    assert await mem.get_thread("no-such-thread") is None


async def test_create_thread_makes_a_uuid_id_and_an_empty_title_by_default(mem):
    thread = await mem.create_thread("user-1")
    assert str(uuid.UUID(thread.id)) == thread.id
    assert thread.title == ""
    assert thread.metadata is None
    row = run(mem, "SELECT title, metadata FROM mastra_threads WHERE id = %s", (thread.id,))[0]
    assert row == {"title": "", "metadata": None}


async def test_creating_a_thread_with_a_taken_id_is_a_conflict_and_changes_nothing(mem):
    await mem.create_thread("user-1", thread_id="t-1", title="first")
    with pytest.raises(ConflictError, match="t-1"):
        await mem.create_thread("user-2", thread_id="t-1", title="second")
    got = await mem.get_thread("t-1")
    assert (got.resource_id, got.title) == ("user-1", "first")


async def test_save_thread_inserts_then_overwrites_every_field(mem):
    created = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    first = await mem.save_thread(
        "t-1", "user-1", title="one", metadata={"a": 1}, created_at=created, updated_at=created
    )
    assert (first.created_at, first.updated_at) == (created, created)
    later = created + timedelta(days=1)
    second = await mem.save_thread("t-1", "user-2", title="two", metadata={"b": 2}, created_at=later, updated_at=later)
    assert (second.resource_id, second.title, second.metadata) == ("user-2", "two", {"b": 2})
    assert (second.created_at, second.updated_at) == (later, later)
    assert count(mem, "mastra_threads") == 1
    assert await mem.get_thread("t-1") == second
    defaulted = await mem.save_thread("t-2", "user-1")  # times default to now
    assert defaulted.created_at == defaulted.updated_at > later


async def test_update_thread_changes_the_title_and_shallow_merges_metadata(mem):
    await mem.create_thread(
        "user-1", thread_id="t-1", title="old", metadata={"keep": 1, "nested": {"a": 1}, "swap": "x"}
    )
    updated = await mem.update_thread("t-1", title="new", metadata={"swap": "y", "nested": {"b": 2}, "added": True})
    assert updated.title == "new"
    # shallow: "nested" is replaced as a whole, untouched keys stay
    assert updated.metadata == {"keep": 1, "nested": {"b": 2}, "swap": "y", "added": True}
    assert await mem.get_thread("t-1") == updated


async def test_update_thread_can_change_only_the_title_or_only_the_metadata(mem):
    await mem.create_thread("user-1", thread_id="t-1", title="old", metadata={"a": 1})
    only_title = await mem.update_thread("t-1", title="new")
    assert (only_title.title, only_title.metadata) == ("new", {"a": 1})
    only_meta = await mem.update_thread("t-1", metadata={"b": 2})
    assert (only_meta.title, only_meta.metadata) == ("new", {"a": 1, "b": 2})
    await mem.create_thread("user-1", thread_id="bare")
    assert (await mem.update_thread("bare", metadata={"a": 1})).metadata == {"a": 1}


async def test_thread_metadata_stored_as_a_json_string_reads_and_merges_as_an_object(mem):
    insert_thread(mem, id="t-1", resource_id="u", metadata='"{\\"a\\": 1}"', created_at=datetime(2024, 1, 1))
    insert_thread(mem, id="t-2", resource_id="u", metadata='"{}"', created_at=datetime(2024, 1, 1))
    assert (await mem.get_thread("t-1")).metadata == {"a": 1}
    assert (await mem.update_thread("t-1", metadata={"b": 2})).metadata == {"a": 1, "b": 2}
    assert (await mem.update_thread("t-2", metadata={"b": 2})).metadata == {"b": 2}
    kinds = run(mem, "SELECT jsonb_typeof(metadata) AS kind FROM mastra_threads ORDER BY id")
    assert kinds == [{"kind": "object"}, {"kind": "object"}]


async def test_update_thread_bumps_updated_at_and_keeps_created_at(mem):
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    await mem.save_thread("t-1", "user-1", created_at=long_ago, updated_at=long_ago)
    updated = await mem.update_thread("t-1", title="x")
    assert updated.created_at == long_ago
    assert updated.updated_at > long_ago + timedelta(days=365)
    row = run(mem, 'SELECT "updatedAt", "updatedAtZ" FROM mastra_threads WHERE id = %s', ("t-1",))[0]
    assert row["updatedAt"].replace(tzinfo=UTC) == row["updatedAtZ"] == updated.updated_at


async def test_updating_a_missing_thread_is_not_found(mem):
    with pytest.raises(NotFoundError, match="no-such"):
        await mem.update_thread("no-such", title="x")
    assert count(mem, "mastra_threads") == 0


async def test_concurrent_metadata_updates_all_succeed_and_lose_no_key(mem):
    await mem.create_thread("user-1", thread_id="t-1", metadata={"base": 0})
    results = await concurrently(mem, [lambda m, i=i: m.update_thread("t-1", metadata={f"k{i}": i}) for i in range(10)])
    assert len(results) == 10
    final = await mem.get_thread("t-1")
    assert final.metadata == {"base": 0, **{f"k{i}": i for i in range(10)}}


async def test_large_metadata_and_special_characters_in_titles_round_trip(mem):
    title = "Ünïcødé ✓ 🚀 — 'quotes' \"double\" \\back\\slash; DROP TABLE x; -- $1 %s {x} \t\n"
    metadata = {f"key_{i}": {"text": "x" * 200, "list": list(range(20)), "emoji": "🦜"} for i in range(300)}
    await mem.create_thread("user-1", thread_id="t-1", title=title, metadata=metadata)
    got = await mem.get_thread("t-1")
    assert got.title == title
    assert got.metadata == metadata


async def test_get_thread_and_list_threads_report_the_same_timestamps(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    naive = datetime(2024, 5, 6, 7, 8, 9, 123000)
    insert_thread(mem, id="t-old", resource_id="user-1", created_at=naive, created_at_z=None, updated_at_z=None)
    listed = {t.id: t for t in (await mem.list_threads(resource_id="user-1")).threads}
    for thread_id in ("t-1", "t-old"):
        got = await mem.get_thread(thread_id)
        assert (got.created_at, got.updated_at) == (listed[thread_id].created_at, listed[thread_id].updated_at)
    assert listed["t-old"].created_at == naive.replace(tzinfo=UTC)


async def test_the_z_columns_are_preferred_over_the_naive_ones(mem):
    naive = datetime(2024, 1, 1, 0, 0, 0)
    aware = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
    insert_thread(mem, id="t-1", resource_id="u", created_at=naive, created_at_z=aware, updated_at_z=aware)
    got = await mem.get_thread("t-1")
    assert got.created_at == got.updated_at == aware


async def test_deleting_a_thread_removes_it_and_its_messages_only(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.create_thread("user-1", thread_id="t-2")
    await mem.save_messages([Message.user(f"m{i}", thread_id="t-1") for i in range(3)])
    await mem.save_messages([Message.user("other", id="keep", thread_id="t-2")])
    assert await mem.delete_thread("t-1") is True
    assert await mem.get_thread("t-1") is None
    assert run(mem, "SELECT id FROM mastra_messages") == [{"id": "keep"}]
    assert (await mem.get_thread("t-2")) is not None


async def test_deleting_a_missing_thread_reports_false(mem):
    assert await mem.delete_thread("no-such") is False


async def test_deleting_a_thread_removes_its_rows_from_every_message_vector_table(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.create_thread("user-1", thread_id="t-2")
    for table in (create_vector_table(mem, "memory_messages_384"), create_vector_table(mem, "memory_messages", 3)):
        add_vector(mem, table, f"{table}-a", {"thread_id": "t-1", "message_id": "m1"})
        add_vector(mem, table, f"{table}-b", {"thread_id": "t-1", "message_id": "m2"})
        add_vector(mem, table, f"{table}-c", {"thread_id": "t-2", "message_id": "m3"})
    other = create_vector_table(mem, "other_vectors", 3)  # not a message-vector table: left alone
    add_vector(mem, other, "o-a", {"thread_id": "t-1"})
    assert await mem.delete_thread("t-1") is True
    assert run(mem, "SELECT vector_id FROM memory_messages_384") == [{"vector_id": "memory_messages_384-c"}]
    assert run(mem, "SELECT vector_id FROM memory_messages") == [{"vector_id": "memory_messages-c"}]
    assert count(mem, "other_vectors") == 1


async def test_a_failing_vector_cleanup_leaves_the_thread_and_its_messages_in_place(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages([Message.user("hello", thread_id="t-1")])
    table = create_vector_table(mem, "memory_messages_384")
    add_vector(mem, table, "v-1", {"thread_id": "t-1"})
    # a trigger that refuses deletes stands in for any failure inside the one transaction
    run(
        mem,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'vector delete refused'; END$$",
    )
    run(mem, "CREATE TRIGGER refuse BEFORE DELETE ON memory_messages_384 FOR EACH ROW EXECUTE FUNCTION refuse()")
    with pytest.raises(StorageError, match="vector delete refused"):
        await mem.delete_thread("t-1")
    assert await mem.get_thread("t-1") is not None
    assert count(mem, "mastra_messages") == 1
    assert count(mem, "memory_messages_384") == 1


async def test_saving_updating_and_deleting_messages_bump_the_threads_updated_at(mem):
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    recent = long_ago + timedelta(days=365)
    await mem.save_thread("t-1", "user-1", created_at=long_ago, updated_at=long_ago)

    def age() -> None:
        run(
            mem,
            'UPDATE mastra_threads SET "updatedAt" = %s, "updatedAtZ" = %s',
            (long_ago.replace(tzinfo=None), long_ago),
        )

    [saved] = await mem.save_messages([Message.user("hi", thread_id="t-1")])
    thread = await mem.get_thread("t-1")
    assert thread.updated_at > recent
    assert thread.updated_at >= saved.created_at
    assert thread.created_at == long_ago
    age()
    await mem.update_messages([MessageUpdate(saved.id, content={"metadata": {"seen": True}})])
    assert (await mem.get_thread("t-1")).updated_at > recent
    age()
    assert await mem.delete_messages([saved.id]) == 1
    assert (await mem.get_thread("t-1")).updated_at > recent


async def test_stringified_json_message_content_is_not_double_encoded(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    text = json.dumps({"answer": 42, "items": ["a", "b"]})
    [saved] = await mem.save_messages([Message.user(text, thread_id="t-1")])
    raw = run(mem, "SELECT content FROM mastra_messages WHERE id = %s", (saved.id,))[0]["content"]
    stored = json.loads(raw)
    assert stored == {"format": 2, "parts": [{"type": "text", "text": text}]}
    [loaded] = (await mem.recall("t-1")).messages
    assert loaded.text == text
    assert json.loads(loaded.text) == {"answer": 42, "items": ["a", "b"]}
