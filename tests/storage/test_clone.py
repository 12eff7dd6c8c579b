"""Cloning threads and the lineage helpers (Mastra's `cloneThread` and clone utilities)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest

from mastra_memory import ConflictError, InvalidInputError, Message, NotFoundError

from ._raw import UTC, counts

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


async def _source(mem, n=5, thread_id="src", resource_id="user-1"):
    await mem.create_thread(resource_id, thread_id=thread_id, title="Trip", metadata={"channel": "web"})
    return await mem.save_messages(
        [
            Message.of(
                "user" if i % 2 == 0 else "assistant",
                f"m{i}",
                id=f"{thread_id}-m{i}",
                thread_id=thread_id,
                created_at=T0 + timedelta(minutes=i),
            )
            for i in range(n)
        ]
    )


def texts(messages):
    return [m.text for m in messages]


async def test_cloning_copies_every_message_under_new_ids_keeping_times_and_content(mem):
    source = await _source(mem)
    result = await mem.clone_thread("src")
    clone = result.thread
    assert str(uuid.UUID(clone.id)) == clone.id
    assert (clone.resource_id, clone.title) == ("user-1", "Clone of Trip")
    assert texts(result.messages) == ["m0", "m1", "m2", "m3", "m4"]
    assert [m.created_at for m in result.messages] == [m.created_at for m in source]
    assert [m.role for m in result.messages] == [m.role for m in source]
    assert [m.content for m in result.messages] == [m.content for m in source]
    assert all(m.thread_id == clone.id and m.resource_id == "user-1" for m in result.messages)
    assert not {m.id for m in result.messages} & {m.id for m in source}
    assert result.message_id_map == {s.id: c.id for s, c in zip(source, result.messages, strict=True)}
    listed = (await mem.list_messages(clone.id)).messages
    assert [m.id for m in listed] == [m.id for m in result.messages]
    assert texts((await mem.list_messages("src")).messages) == ["m0", "m1", "m2", "m3", "m4"]
    assert await mem.get_thread(clone.id) == clone


async def test_a_clone_records_its_source_in_metadata(mem):
    await _source(mem)
    clone = (await mem.clone_thread("src", metadata={"purpose": "branch"})).thread
    assert clone.metadata["purpose"] == "branch"
    info = clone.metadata["clone"]
    assert info["sourceThreadId"] == "src"
    assert info["lastMessageId"] == "src-m4"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", info["clonedAt"])
    assert "channel" not in clone.metadata  # the source's metadata is not copied
    assert clone.is_clone
    assert (clone.clone_info.source_thread_id, clone.clone_info.last_message_id) == ("src", "src-m4")
    assert clone.clone_info.cloned_at == info["clonedAt"]


async def test_cloning_takes_a_custom_id_and_title(mem):
    await _source(mem)
    clone = (await mem.clone_thread("src", new_thread_id="branch-1", title="Branch")).thread
    assert (clone.id, clone.title) == ("branch-1", "Branch")


async def test_cloning_onto_a_taken_id_is_a_conflict_and_writes_nothing(mem):
    await _source(mem)
    await mem.create_thread("user-1", thread_id="taken")
    before = counts(mem)
    with pytest.raises(ConflictError, match="taken"):
        await mem.clone_thread("src", new_thread_id="taken")
    assert counts(mem) == before


async def test_cloning_a_missing_thread_is_not_found(mem):
    with pytest.raises(NotFoundError, match="ghost"):
        await mem.clone_thread("ghost")
    assert counts(mem)["mastra_threads"] == 0


async def test_a_message_limit_keeps_the_newest_messages(mem):
    await _source(mem)
    result = await mem.clone_thread("src", message_limit=2)
    assert texts(result.messages) == ["m3", "m4"]
    assert set(result.message_id_map) == {"src-m3", "src-m4"}


async def test_a_date_range_selects_messages_inclusively(mem):
    await _source(mem)
    result = await mem.clone_thread("src", start_date=T0 + timedelta(minutes=1), end_date=T0 + timedelta(minutes=3))
    assert texts(result.messages) == ["m1", "m2", "m3"]
    assert texts((await mem.clone_thread("src", start_date=T0 + timedelta(minutes=3))).messages) == ["m3", "m4"]
    assert texts((await mem.clone_thread("src", end_date=T0)).messages) == ["m0"]


async def test_message_ids_select_messages_of_the_source_only(mem):
    await _source(mem)
    await _source(mem, 2, thread_id="elsewhere")
    result = await mem.clone_thread("src", message_ids=["src-m4", "src-m1", "elsewhere-m0", "missing"])
    assert texts(result.messages) == ["m1", "m4"]
    assert result.thread.metadata["clone"]["lastMessageId"] == "src-m4"


async def test_filters_and_a_limit_combine(mem):
    await _source(mem)
    result = await mem.clone_thread(
        "src",
        start_date=T0 + timedelta(minutes=1),
        message_limit=2,
        message_ids=["src-m0", "src-m1", "src-m2", "src-m3"],
    )
    assert texts(result.messages) == ["m2", "m3"]


async def test_a_zero_limit_or_no_ids_clone_the_thread_without_messages(mem):
    await _source(mem)
    for kwargs in ({"message_limit": 0}, {"message_ids": []}):
        result = await mem.clone_thread("src", **kwargs)
        assert (result.messages, result.message_id_map) == ([], {})
        assert (await mem.list_messages(result.thread.id)).total == 0


async def test_cloning_to_another_resource_moves_the_thread_and_its_messages_there(mem):
    await _source(mem)
    result = await mem.clone_thread("src", resource_id="user-2")
    assert result.thread.resource_id == "user-2"
    assert {m.resource_id for m in result.messages} == {"user-2"}
    assert texts((await mem.list_messages_by_resource("user-2")).messages) == ["m0", "m1", "m2", "m3", "m4"]
    assert (await mem.list_threads(resource_id="user-2")).total == 1


async def test_cloning_a_thread_without_messages_gives_an_empty_clone(mem):
    await mem.create_thread("user-1", thread_id="empty", title="")
    result = await mem.clone_thread("empty")
    assert (result.messages, result.message_id_map) == ([], {})
    assert result.thread.title == ""  # as Mastra titles the clone of an untitled thread
    assert "lastMessageId" not in result.thread.metadata["clone"]
    assert result.thread.clone_info.last_message_id is None


async def test_a_negative_message_limit_is_refused(mem):
    await _source(mem)
    with pytest.raises(InvalidInputError, match="message_limit must be an integer >= 0"):
        await mem.clone_thread("src", message_limit=-1)
    assert counts(mem)["mastra_threads"] == 1


async def test_a_plain_thread_is_not_a_clone(mem):
    thread = await mem.create_thread("user-1", thread_id="plain", metadata={"clone": "not an object"})
    assert not thread.is_clone
    assert thread.clone_info is None
    assert await mem.get_source_thread("plain") is None
    assert await mem.get_source_thread("missing") is None


async def test_the_source_of_a_clone_is_found(mem):
    await _source(mem)
    clone = (await mem.clone_thread("src", new_thread_id="c1")).thread
    source = await mem.get_source_thread(clone.id)
    assert source == await mem.get_thread("src")


async def test_the_source_of_a_clone_whose_source_was_deleted_is_none(mem):
    await _source(mem)
    await mem.clone_thread("src", new_thread_id="c1")
    await mem.delete_thread("src")
    assert await mem.get_source_thread("c1") is None
    assert [t.id for t in await mem.get_clone_history("c1")] == ["c1"]


async def test_clones_of_a_thread_are_listed_oldest_first_and_by_resource(mem):
    await _source(mem)
    await mem.clone_thread("src", new_thread_id="c1")
    await mem.clone_thread("src", new_thread_id="c2", resource_id="user-2")
    await mem.clone_thread("c1", new_thread_id="grandchild")
    assert [t.id for t in await mem.list_clones("src")] == ["c1", "c2"]
    assert [t.id for t in await mem.list_clones("src", resource_id="user-2")] == ["c2"]
    assert await mem.list_clones("grandchild") == []


async def test_clone_history_walks_from_the_original_to_the_thread(mem):
    await _source(mem)
    await mem.clone_thread("src", new_thread_id="c1")
    await mem.clone_thread("c1", new_thread_id="c2")
    await mem.clone_thread("c2", new_thread_id="c3")
    assert [t.id for t in await mem.get_clone_history("c3")] == ["src", "c1", "c2", "c3"]
    assert [t.id for t in await mem.get_clone_history("src")] == ["src"]
    assert await mem.get_clone_history("missing") == []
    assert (await mem.get_source_thread("c3")).id == "c2"


async def test_lineage_helpers_stop_on_a_cycle_in_clone_metadata(mem):
    await mem.create_thread("u", thread_id="a", metadata={"clone": {"sourceThreadId": "b", "clonedAt": "x"}})
    await mem.create_thread("u", thread_id="b", metadata={"clone": {"sourceThreadId": "a", "clonedAt": "x"}})
    assert [t.id for t in await mem.get_clone_history("a")] == ["b", "a"]
    assert (await mem.get_source_thread("a")).id == "b"
    assert [t.id for t in await mem.list_clones("a")] == ["b"]
