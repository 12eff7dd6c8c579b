"""Updating and bulk-deleting messages (Mastra's `messages-update.ts` and `messages-bulk-delete.ts`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from mastra_memory import InvalidInputError, Message, MessageUpdate, NotFoundError

from ._raw import UTC, add_vector, count, create_vector_table, run

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


async def _rich_message(mem, message_id="m-1", thread_id="t-1"):
    if await mem.get_thread(thread_id) is None:
        await mem.create_thread("user-1", thread_id=thread_id)
    [saved] = await mem.save_messages(
        [
            Message.assistant(
                {
                    "format": 2,
                    "parts": [{"type": "text", "text": "original"}],
                    "content": "original",
                    "metadata": {"keep": 1, "swap": "old"},
                },
                id=message_id,
                thread_id=thread_id,
                created_at=T0,
            )
        ]
    )
    return saved


def _age_threads(mem):
    run(mem, 'UPDATE mastra_threads SET "updatedAt" = %s, "updatedAtZ" = %s', (LONG_AGO.replace(tzinfo=None), LONG_AGO))


def stored_content(mem, message_id):
    return json.loads(run(mem, "SELECT content FROM mastra_messages WHERE id = %s", (message_id,))[0]["content"])


# --- updates --------------------------------------------------------------------------------


async def test_updating_the_role_changes_only_the_role(mem):
    await _rich_message(mem)
    [updated] = await mem.update_messages([MessageUpdate("m-1", role="user")])
    assert updated.role == "user"
    assert updated.text == "original"
    assert updated.created_at == T0
    assert stored_content(mem, "m-1")["metadata"] == {"keep": 1, "swap": "old"}


async def test_updating_the_type_changes_only_the_type(mem):
    await _rich_message(mem)
    [updated] = await mem.update_messages([MessageUpdate("m-1", type="text")])
    assert (updated.type, updated.role, updated.text) == ("text", "assistant", "original")


async def test_updating_only_content_metadata_merges_it_and_keeps_the_rest(mem):
    await _rich_message(mem)
    [updated] = await mem.update_messages([MessageUpdate("m-1", content={"metadata": {"swap": "new", "added": [1]}})])
    assert updated.content.metadata == {"keep": 1, "swap": "new", "added": [1]}
    assert updated.content.parts == [{"type": "text", "text": "original"}]
    assert updated.content.extra["content"] == "original"
    assert stored_content(mem, "m-1") == {
        "format": 2,
        "parts": [{"type": "text", "text": "original"}],
        "content": "original",
        "metadata": {"keep": 1, "swap": "new", "added": [1]},
    }


async def test_updating_only_the_content_mirror_keeps_metadata(mem):
    await _rich_message(mem)
    [updated] = await mem.update_messages([MessageUpdate("m-1", content={"content": "edited"})])
    assert updated.text == "edited"
    assert updated.content.metadata == {"keep": 1, "swap": "old"}
    assert updated.content.parts == [{"type": "text", "text": "original"}]


async def test_updating_parts_replaces_them(mem):
    await _rich_message(mem)
    parts = [{"type": "step-start"}, {"type": "text", "text": "rewritten"}]
    [updated] = await mem.update_messages([MessageUpdate("m-1", content={"parts": parts, "content": "rewritten"})])
    assert updated.content.parts == parts
    assert updated.text == "rewritten"
    assert updated.content.metadata == {"keep": 1, "swap": "old"}


async def test_content_metadata_is_added_to_a_message_that_had_none(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    [saved] = await mem.save_messages([Message.user("plain", thread_id="t-1")])
    [updated] = await mem.update_messages([MessageUpdate(saved.id, content={"metadata": {"a": 1}})])
    assert updated.content.metadata == {"a": 1}
    assert updated.text == "plain"


async def test_several_messages_update_in_one_call(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    saved = await mem.save_messages([Message.user(f"m{i}", id=f"m{i}", thread_id="t-1") for i in range(3)])
    updated = await mem.update_messages(
        [MessageUpdate("m0", content={"content": "zero"}), MessageUpdate("m2", role="assistant")]
    )
    assert [(m.id, m.text, m.role) for m in updated] == [("m0", "zero", "user"), ("m2", "m2", "assistant")]
    listed = (await mem.list_messages("t-1")).messages
    assert [(m.text, m.role) for m in listed] == [("zero", "user"), ("m1", "user"), ("m2", "assistant")]
    assert [m.created_at for m in listed] == [m.created_at for m in saved]


async def test_updating_bumps_the_threads_updated_at(mem):
    await _rich_message(mem)
    _age_threads(mem)
    await mem.update_messages([MessageUpdate("m-1", role="user")])
    assert (await mem.get_thread("t-1")).updated_at > LONG_AGO + timedelta(days=365)


async def test_moving_a_message_bumps_both_threads_and_takes_the_new_threads_resource(mem):
    await _rich_message(mem)
    await mem.create_thread("user-2", thread_id="t-2")
    await mem.create_thread("user-1", thread_id="t-3")
    _age_threads(mem)
    [moved] = await mem.update_messages([MessageUpdate("m-1", thread_id="t-2")])
    assert (moved.thread_id, moved.resource_id, moved.created_at) == ("t-2", "user-2", T0)
    assert (await mem.list_messages("t-1")).messages == []
    assert [m.id for m in (await mem.list_messages("t-2")).messages] == ["m-1"]
    for thread_id in ("t-1", "t-2"):
        assert (await mem.get_thread(thread_id)).updated_at > LONG_AGO + timedelta(days=365)
    assert (await mem.get_thread("t-3")).updated_at == LONG_AGO


async def test_moving_a_message_to_a_missing_thread_is_not_found_and_changes_nothing(mem):
    await _rich_message(mem, "m-1")
    await _rich_message(mem, "m-2")
    _age_threads(mem)
    with pytest.raises(NotFoundError, match="no-such-thread"):
        await mem.update_messages([MessageUpdate("m-1", role="user"), MessageUpdate("m-2", thread_id="no-such-thread")])
    assert [(m.id, m.role) for m in (await mem.list_messages("t-1")).messages] == [
        ("m-1", "assistant"),
        ("m-2", "assistant"),
    ]
    assert (await mem.get_thread("t-1")).updated_at == LONG_AGO


async def test_moving_an_unknown_id_to_a_missing_thread_is_skipped_like_any_unknown_id(mem):
    await _rich_message(mem)
    assert await mem.update_messages([MessageUpdate("nope", thread_id="no-such-thread")]) == []


async def test_updates_of_unknown_ids_are_skipped(mem):
    await _rich_message(mem)
    updated = await mem.update_messages([MessageUpdate("nope", role="user"), MessageUpdate("m-1", role="user")])
    assert [m.id for m in updated] == ["m-1"]
    assert await mem.update_messages([MessageUpdate("nope", role="user")]) == []
    assert count(mem, "mastra_messages") == 1


async def test_updating_an_empty_list_is_a_no_op(mem):
    assert await mem.update_messages([]) == []


async def test_the_same_id_twice_in_one_update_is_refused(mem):
    await _rich_message(mem)
    with pytest.raises(InvalidInputError, match="appears twice"):
        await mem.update_messages([MessageUpdate("m-1", role="user"), MessageUpdate("m-1", type="text")])
    assert (await mem.get_messages(["m-1"]))[0].role == "assistant"


async def test_updated_text_with_a_nul_character_round_trips(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    [saved] = await mem.save_messages([Message.user("before\x00after", thread_id="t-1")])
    [updated] = await mem.update_messages([MessageUpdate(saved.id, content={"metadata": {"seen": True}})])
    assert updated.content.parts == [{"type": "text", "text": "before\x00after"}]
    assert updated.content.metadata == {"seen": True}
    [loaded] = await mem.get_messages([saved.id])
    assert loaded.text == "before\x00after"


async def test_a_nul_character_in_new_text_round_trips(mem):
    await _rich_message(mem)
    [updated] = await mem.update_messages(
        [MessageUpdate("m-1", content={"parts": [{"type": "text", "text": "a\x00b"}], "content": "a\x00b"})]
    )
    assert updated.text == "a\x00b"
    assert (await mem.get_messages(["m-1"]))[0].content.parts == [{"type": "text", "text": "a\x00b"}]


async def test_control_characters_and_escape_lookalikes_survive_an_update(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    tricky = "\x00\x01\x000\x011 \\u0000 \\\x00 \\\\u0001 \x02\x1f end\x00"
    [saved] = await mem.save_messages([Message.user(tricky, thread_id="t-1")])
    [updated] = await mem.update_messages([MessageUpdate(saved.id, content={"metadata": {"note": tricky}})])
    assert updated.text == tricky
    assert updated.content.metadata == {"note": tricky}
    [loaded] = await mem.get_messages([saved.id])
    assert (loaded.text, loaded.content.metadata) == (tricky, {"note": tricky})


# --- bulk delete ----------------------------------------------------------------------------


async def test_several_messages_are_deleted_at_once(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages([Message.user(f"m{i}", id=f"m{i}", thread_id="t-1") for i in range(5)])
    assert await mem.delete_messages(["m1", "m3"]) == 2
    assert [m.id for m in (await mem.list_messages("t-1")).messages] == ["m0", "m2", "m4"]


async def test_deleting_no_ids_is_a_no_op(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages([Message.user("keep", thread_id="t-1")])
    assert await mem.delete_messages([]) == 0
    assert count(mem, "mastra_messages") == 1


async def test_deleting_unknown_ids_is_not_an_error(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages([Message.user("keep", id="keep", thread_id="t-1")])
    assert await mem.delete_messages(["nope", "also-nope"]) == 0
    assert await mem.delete_messages(["nope", "keep"]) == 1
    assert count(mem, "mastra_messages") == 0


async def test_deleting_spans_threads_and_bumps_each_of_them(mem):
    for thread_id in ("t-1", "t-2", "t-3"):
        await mem.create_thread("user-1", thread_id=thread_id)
        await mem.save_messages(
            [Message.user(f"{thread_id}-{i}", id=f"{thread_id}-{i}", thread_id=thread_id) for i in range(2)]
        )
    _age_threads(mem)
    assert await mem.delete_messages(["t-1-0", "t-2-1"]) == 2
    assert [m.id for m in (await mem.list_messages(["t-1", "t-2", "t-3"])).messages] == [
        "t-1-1",
        "t-2-0",
        "t-3-0",
        "t-3-1",
    ]
    assert (await mem.get_thread("t-1")).updated_at > LONG_AGO + timedelta(days=365)
    assert (await mem.get_thread("t-2")).updated_at > LONG_AGO + timedelta(days=365)
    assert (await mem.get_thread("t-3")).updated_at == LONG_AGO


async def test_a_large_batch_is_deleted_in_one_call(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    saved = await mem.save_messages([Message.user(f"m{i}", thread_id="t-1") for i in range(600)])
    assert await mem.delete_messages([m.id for m in saved[:550]]) == 550
    assert [m.id for m in (await mem.list_messages("t-1", per_page=None)).messages] == [m.id for m in saved[550:]]


async def test_deleting_messages_removes_their_vectors(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages([Message.user(x, id=x, thread_id="t-1") for x in ("a", "b")])
    table = create_vector_table(mem, "memory_messages_384")
    add_vector(mem, table, "a_0", {"message_id": "a", "thread_id": "t-1"})
    add_vector(mem, table, "a_1", {"message_id": "a", "thread_id": "t-1"})
    add_vector(mem, table, "b_0", {"message_id": "b", "thread_id": "t-1"})
    assert await mem.delete_messages(["a"]) == 1
    assert run(mem, "SELECT vector_id FROM memory_messages_384") == [{"vector_id": "b_0"}]
