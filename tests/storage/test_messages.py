"""Saving and reading messages (Mastra's `messages-list.ts` / `messages-paginated.ts` save checks)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from mastra_memory import (
    InvalidInputError,
    MemoryConfig,
    Message,
    MessageContent,
    NotFoundError,
    OwnershipError,
)

from ._raw import UTC, concurrently, count, run

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def texts(page_or_list):
    messages = page_or_list.messages if hasattr(page_or_list, "messages") else page_or_list
    return [m.text for m in messages]


async def test_saved_messages_come_back_with_ids_times_and_the_threads_resource(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    saved = await mem.save_messages(
        [Message.user("Hello", thread_id="t-1"), Message.assistant("Hi there", thread_id="t-1", id="a-1")]
    )
    assert [m.role for m in saved] == ["user", "assistant"]
    assert str(uuid.UUID(saved[0].id)) == saved[0].id
    assert saved[1].id == "a-1"
    assert all(m.resource_id == "user-1" and m.thread_id == "t-1" and m.type == "v2" for m in saved)
    assert all(m.created_at is not None and m.created_at.tzinfo is not None for m in saved)
    loaded = (await mem.list_messages("t-1")).messages
    assert [(m.id, m.role, m.text, m.created_at, m.resource_id) for m in loaded] == [
        (m.id, m.role, m.text, m.created_at, m.resource_id) for m in saved
    ]
    assert [m.content for m in loaded] == [m.content for m in saved]


async def test_saving_an_empty_list_is_a_no_op(mem):
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    await mem.save_thread("t-1", "user-1", created_at=long_ago, updated_at=long_ago)
    assert await mem.save_messages([]) == []
    assert count(mem, "mastra_messages") == 0
    assert (await mem.get_thread("t-1")).updated_at == long_ago


async def test_a_batch_keeps_its_order_with_strictly_increasing_times(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    saved = await mem.save_messages([Message.user(f"m{i}", thread_id="t-1") for i in range(6)])
    times = [m.created_at for m in saved]
    assert all(a < b for a, b in pairwise(times))
    assert texts(await mem.list_messages("t-1")) == [f"m{i}" for i in range(6)]


async def test_batches_saved_one_after_another_keep_increasing_times(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    saved = []
    for batch in range(4):
        saved += await mem.save_messages([Message.user(f"b{batch}-{i}", thread_id="t-1") for i in range(3)])
    times = [m.created_at for m in saved]
    assert all(a < b for a, b in pairwise(times))
    assert texts(await mem.list_messages("t-1", per_page=None)) == [m.text for m in saved]


async def test_an_explicit_created_at_is_kept_exactly(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    when = datetime(2024, 2, 29, 23, 59, 59, 123000, tzinfo=UTC)
    [saved] = await mem.save_messages([Message.user("leap", thread_id="t-1", created_at=when)])
    assert saved.created_at == when
    [loaded] = (await mem.list_messages("t-1")).messages
    assert loaded.created_at == when
    row = run(mem, 'SELECT "createdAt", "createdAtZ" FROM mastra_messages')[0]
    assert row == {"createdAt": when.replace(tzinfo=None), "createdAtZ": when}


async def test_a_naive_created_at_is_taken_as_utc(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    [saved] = await mem.save_messages([Message.user("x", thread_id="t-1", created_at=datetime(2024, 1, 1, 8, 0))])
    assert saved.created_at == datetime(2024, 1, 1, 8, 0, tzinfo=UTC)


async def test_a_message_without_time_comes_after_the_threads_newest_even_a_future_one(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    future = datetime.now(UTC) + timedelta(hours=1)
    await mem.save_messages([Message.user("from the future", thread_id="t-1", created_at=future)])
    [auto] = await mem.save_messages([Message.user("now", thread_id="t-1")])
    assert auto.created_at > future
    assert texts(await mem.list_messages("t-1")) == ["from the future", "now"]


async def test_concurrent_writers_to_one_thread_get_distinct_increasing_times(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    writers = [
        [
            (lambda m, w=w, b=b: m.save_messages([Message.user(f"w{w}-b{b}-{i}", thread_id="t-1") for i in range(3)]))
            for b in range(4)
        ]
        for w in range(10)
    ]
    results = await concurrently(mem, writers)
    saved = [m for per_writer in results for batch in per_writer for m in batch]
    assert len(saved) == 120
    times = [m.created_at for m in saved]
    assert len(set(times)) == 120
    for per_writer in results:
        mine = [m.created_at for batch in per_writer for m in batch]
        assert all(a < b for a, b in pairwise(mine)), "one writer's messages must be in save order"
    listed = (await mem.list_messages("t-1", per_page=None)).messages
    assert [m.id for m in listed] == [m.id for m in sorted(saved, key=lambda m: m.created_at)]
    assert (await mem.get_thread("t-1")).updated_at >= max(times)


async def test_concurrent_writers_to_different_threads_all_succeed(mem):
    for i in range(5):
        await mem.create_thread("user-1", thread_id=f"t-{i}")
    writers = [
        (lambda m, i=i: m.save_messages([Message.user(f"{i}-{k}", thread_id=f"t-{i}") for k in range(4)]))
        for i in range(5)
    ]
    await concurrently(mem, writers)
    for i in range(5):
        assert texts(await mem.list_messages(f"t-{i}")) == [f"{i}-{k}" for k in range(4)]


async def test_a_batch_naming_a_missing_thread_writes_nothing(mem):
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    await mem.save_thread("t-1", "user-1", created_at=long_ago, updated_at=long_ago)
    batch = [Message.user("ok", thread_id="t-1"), Message.user("lost", thread_id="no-such-thread")]
    with pytest.raises(NotFoundError, match="no-such-thread"):
        await mem.save_messages(batch)
    assert count(mem, "mastra_messages") == 0
    assert (await mem.get_thread("t-1")).updated_at == long_ago


async def test_a_batch_with_a_message_of_another_resource_writes_nothing(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    batch = [Message.user("ok", thread_id="t-1"), Message.user("intruder", thread_id="t-1", resource_id="user-2")]
    with pytest.raises(OwnershipError, match="user-2"):
        await mem.save_messages(batch)
    assert count(mem, "mastra_messages") == 0


async def test_a_batch_with_one_malformed_message_writes_nothing(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    bad = Message("user", MessageContent(parts=[{"type": "text"}]), thread_id="t-1")
    with pytest.raises(InvalidInputError, match=r"messages\[1\]\.content\.parts\[0\].*'text'"):
        await mem.save_messages([Message.user("ok", thread_id="t-1"), bad])
    assert count(mem, "mastra_messages") == 0


async def test_resaving_an_id_updates_the_message_instead_of_duplicating_it(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    [first] = await mem.save_messages([Message.user("draft", id="m-1", thread_id="t-1")])
    [again] = await mem.save_messages(
        [Message.assistant("final", id="m-1", thread_id="t-1", created_at=datetime(2000, 1, 1, tzinfo=UTC))]
    )
    assert count(mem, "mastra_messages") == 1
    [loaded] = (await mem.list_messages("t-1")).messages
    assert (loaded.role, loaded.text) == ("assistant", "final")
    assert loaded.created_at == first.created_at == again.created_at


async def test_resaving_an_id_moves_the_message_to_the_new_thread(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.create_thread("user-1", thread_id="t-2")
    [first] = await mem.save_messages([Message.user("wanderer", id="m-1", thread_id="t-1")])
    await mem.save_messages([Message.user("wanderer (moved)", id="m-1", thread_id="t-2")])
    assert (await mem.list_messages("t-1")).messages == []
    [moved] = (await mem.list_messages("t-2")).messages
    assert (moved.id, moved.thread_id, moved.text) == ("m-1", "t-2", "wanderer (moved)")
    assert moved.created_at == first.created_at
    assert count(mem, "mastra_messages") == 1


async def test_resaving_an_id_that_belongs_to_another_resource_is_refused(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.create_thread("user-2", thread_id="t-2")
    await mem.save_messages([Message.user("mine", id="m-1", thread_id="t-1")])
    with pytest.raises(OwnershipError, match="m-1"):
        await mem.save_messages([Message.user("stolen", id="m-1", thread_id="t-2")])
    [kept] = (await mem.list_messages("t-1")).messages
    assert (kept.text, kept.resource_id) == ("mine", "user-1")


async def test_when_a_batch_repeats_an_id_the_last_copy_wins(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    saved = await mem.save_messages(
        [Message.user("one", id="dup", thread_id="t-1"), Message.user("two", id="dup", thread_id="t-1")]
    )
    assert texts(saved) == ["two"]
    assert texts(await mem.list_messages("t-1")) == ["two"]


async def test_an_empty_or_blank_thread_id_is_refused_with_an_exact_message(mem):
    for bad in ("", "   ", "\t\n"):
        for call in (mem.list_messages, mem.recall):
            with pytest.raises(InvalidInputError) as info:
                await call(bad)
            assert str(info.value) == f"thread_id must be a non-empty string, got {bad!r}"


async def test_messages_are_listed_oldest_first_by_default_and_newest_first_on_request(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages(
        [Message.user(f"m{i}", thread_id="t-1", created_at=T0 + timedelta(seconds=i)) for i in range(4)]
    )
    assert texts(await mem.list_messages("t-1")) == ["m0", "m1", "m2", "m3"]
    assert texts(await mem.list_messages("t-1", direction="DESC")) == ["m3", "m2", "m1", "m0"]


async def test_messages_with_equal_times_are_ordered_by_id(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages([Message.user(i, id=i, thread_id="t-1", created_at=T0) for i in ("c", "a", "b")])
    assert texts(await mem.list_messages("t-1")) == ["a", "b", "c"]
    assert texts(await mem.list_messages("t-1", direction="DESC")) == ["c", "b", "a"]


async def test_several_threads_can_be_listed_together(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.create_thread("user-1", thread_id="t-2")
    await mem.create_thread("user-1", thread_id="t-3")
    for i, thread in enumerate(("t-1", "t-2", "t-1", "t-3")):
        await mem.save_messages([Message.user(f"{thread}/{i}", thread_id=thread, created_at=T0 + timedelta(seconds=i))])
    page = await mem.list_messages(["t-1", "t-2"])
    assert texts(page) == ["t-1/0", "t-2/1", "t-1/2"]
    assert page.total == 3


async def test_recall_returns_the_newest_messages_in_chronological_order(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages([Message.user(f"m{i}", thread_id="t-1") for i in range(15)])
    page = await mem.recall("t-1")
    assert texts(page) == [f"m{i}" for i in range(5, 15)]  # Mastra's default lastMessages is 10
    assert (page.total, page.page, page.per_page, page.has_more) == (15, 0, 10, True)
    three = await mem.recall("t-1", last_messages=3)
    assert texts(three) == ["m12", "m13", "m14"]
    everything = await mem.recall("t-1", last_messages=50)
    assert texts(everything) == [f"m{i}" for i in range(15)]
    assert (everything.total, everything.has_more) == (15, False)


async def test_recall_follows_the_configured_last_messages(mem_factory):
    memory = await mem_factory(config=MemoryConfig(last_messages=2))
    await memory.create_thread("user-1", thread_id="t-1")
    await memory.save_messages([Message.user(f"m{i}", thread_id="t-1") for i in range(5)])
    assert texts(await memory.recall("t-1")) == ["m3", "m4"]
    assert texts(await memory.recall("t-1", last_messages=4)) == ["m1", "m2", "m3", "m4"]


async def test_recall_with_history_off_is_empty_unless_a_count_is_given(mem_factory):
    memory = await mem_factory(config=MemoryConfig(last_messages=None))
    await memory.create_thread("user-1", thread_id="t-1")
    await memory.save_messages([Message.user(f"m{i}", thread_id="t-1") for i in range(3)])
    off = await memory.recall("t-1")
    assert (off.messages, off.total, off.page, off.per_page, off.has_more) == ([], 0, 0, 0, False)
    assert texts(await memory.recall("t-1", last_messages=2)) == ["m1", "m2"]


async def test_recall_of_a_thread_without_messages_is_empty(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    page = await mem.recall("t-1")
    assert (page.messages, page.total, page.has_more) == ([], 0, False)
    assert (await mem.recall("never-created", resource_id="user-1")).messages == []


async def test_asking_for_a_threads_messages_with_a_resource_that_does_not_own_it_is_refused(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages([Message.user("private", thread_id="t-1")])
    with pytest.raises(OwnershipError, match="t-1"):
        await mem.list_messages("t-1", resource_id="user-2")
    with pytest.raises(OwnershipError, match="t-1"):
        await mem.recall("t-1", resource_id="user-2")
    with pytest.raises(OwnershipError):
        await mem.list_messages("t-1", resource_id="user-2", per_page=0)
    assert texts(await mem.list_messages("t-1", resource_id="user-1")) == ["private"]
    assert texts(await mem.recall("t-1", resource_id="user-1")) == ["private"]
