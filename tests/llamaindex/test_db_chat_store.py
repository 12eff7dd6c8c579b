"""MastraDBChatStore: the AsyncDBChatStore contract, and LlamaIndex's own Memory on it, on the real database."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.memory import Memory
from llama_index.core.storage.chat_store.base_db import AsyncDBChatStore, MessageStatus

from llama_index_mastra_memory import MastraDBChatStore, SemanticRecallBlock, from_mastra
from mastra_memory import InvalidInputError, MemoryConfig, OwnershipError, SemanticRecall
from mastra_memory.embedding import HashEmbedder

from .conftest import Pair, turn

ACTIVE, ARCHIVED = MessageStatus.ACTIVE, MessageStatus.ARCHIVED


def store(pair: Pair, resource_id: str = "ada") -> MastraDBChatStore:
    return MastraDBChatStore(resource_id=resource_id, async_memory=pair.aio)


async def test_the_contract_with_statuses(pair: Pair) -> None:
    s = store(pair)
    assert isinstance(s, AsyncDBChatStore) and MastraDBChatStore.class_name() == "MastraDBChatStore"
    assert await s.get_messages("t") == [] and await s.count_messages("t") == 0
    await s.add_message("t", turn(1)[0])
    await s.add_messages("t", turn(1)[1:] + turn(2))
    assert await s.get_messages("t") == turn(1) + turn(2)
    assert await s.count_messages("t") == 8
    assert await s.get_messages("t", limit=3, offset=4) == turn(2)[:3]

    assert await s.archive_oldest_messages("t", 4) == turn(1)
    assert await s.get_messages("t") == turn(2)
    assert await s.get_messages("t", status=ARCHIVED) == turn(1)
    assert await s.get_messages("t", status=None) == turn(1) + turn(2)
    assert await s.count_messages("t", status=ARCHIVED) == 4
    # Mastra still sees the whole thread, one row per side of each turn.
    rows = (await pair.aio.list_messages("t", per_page=None)).messages
    assert from_mastra(rows) == turn(1) + turn(2) and len(rows) == 4

    # Archiving inside an assistant row: that row keeps how many of its messages are archived.
    assert await s.archive_oldest_messages("t", 2) == turn(2)[:2]
    assert await s.get_messages("t") == turn(2)[2:]
    await s.add_message("t", ChatMessage(role="user", content="later"))
    assert await s.get_messages("t") == [*turn(2)[2:], ChatMessage(role="user", content="later")]

    assert await s.delete_oldest_messages("t", 1) == turn(2)[2:3]
    assert await s.get_messages("t", status=None) == [
        *turn(1),
        *turn(2)[:2],
        turn(2)[3],
        ChatMessage(role="user", content="later"),
    ]
    assert await s.delete_message("t", 0) == turn(1)[0]  # positional, over every status
    await s.delete_messages("t", status=ARCHIVED)
    assert await s.get_messages("t", status=None) == [turn(2)[3], ChatMessage(role="user", content="later")]
    await s.delete_messages("t")
    assert await s.get_messages("t", status=None) == [] and await s.get_keys() == ["t"]


async def test_set_refusals_and_ownership(pair: Pair) -> None:
    s = store(pair)
    await s.set_messages("t", turn(1), status=ARCHIVED)
    assert await s.get_messages("t") == [] and await s.get_messages("t", status=ARCHIVED) == turn(1)
    await s.add_messages("t", turn(2), status=ARCHIVED)  # archived after archived: fine
    await s.add_messages("t", turn(3))
    with pytest.raises(InvalidInputError, match="archived messages can only come before"):
        await s.add_messages("t", turn(4), status=ARCHIVED)
    await s.set_messages("t", turn(4))
    assert await s.get_messages("t", status=None) == turn(4)
    for bad in (
        lambda: s.get_messages("t", status="gone"),
        lambda: s.get_messages("t", limit=-1),
        lambda: s.archive_oldest_messages("t", -2),
    ):
        with pytest.raises(InvalidInputError):
            await bad()
    pair.sync.create_thread("bob", thread_id="bobs")
    with pytest.raises(OwnershipError):
        await s.get_messages("bobs")
    with pytest.raises(OwnershipError):
        await s.add_messages("bobs", turn(1))
    with pytest.raises(TypeError, match="AsyncMemory"):
        MastraDBChatStore(resource_id="ada", async_memory=pair.sync)  # type: ignore[arg-type]


async def test_concurrent_archiving_never_takes_a_message_twice(pair: Pair) -> None:
    """LlamaIndex's SQL store picks "the oldest n" outside a lock; here two callers get distinct ones."""
    s = store(pair)
    await s.add_messages("t", [ChatMessage(role="user", content=str(i)) for i in range(6)])
    taken = await asyncio.gather(*(s.archive_oldest_messages("t", 2) for _ in range(3)))
    assert sorted(m.content or "" for batch in taken for m in batch) == [str(i) for i in range(6)]
    assert await s.count_messages("t") == 0 and await s.count_messages("t", status=ARCHIVED) == 6


async def test_llamaindex_memory_on_it_archives_and_recalls(pair_factory: Any) -> None:
    """Memory(chat_store=...) with a tiny budget: its waterfall archives in Mastra's rows, and the
    recall block finds every message at once (it was embedded when it was put)."""
    pair: Pair = await pair_factory(
        config=MemoryConfig(semantic_recall=SemanticRecall(top_k=2, message_range=0)), embedder=HashEmbedder()
    )
    s = store(pair)
    recall = SemanticRecallBlock(async_memory=pair.aio, top_k=2, message_range=0, scope="thread")
    memory = Memory.from_defaults(
        session_id="trip",
        chat_store=s,
        memory_blocks=[recall],
        token_limit=60,
        chat_history_token_ratio=0.5,
        token_flush_size=10,
    )
    for n in range(6):
        await memory.aput_messages(
            [
                ChatMessage(role="user", content=f"Day {n}: we visit museum number {n} in Lisbon"),
                ChatMessage(role="assistant", content=f"Noted, museum {n}."),
            ]
        )
    active = await s.get_messages("trip")
    archived = await s.get_messages("trip", status=ARCHIVED)
    assert archived and active and len(active) + len(archived) == 12
    assert active[0].role == "user"  # Memory keeps whole turns active
    assert archived + active == await memory.aget_all()
    await memory.aput(ChatMessage(role="user", content="Which museum on day 0?"))
    got = await memory.aget()
    assert "Day 0: we visit museum number 0" in (got[0].content or "")  # recalled from the archived part


async def test_archiving_keeps_rows_mastra_wrote_as_they_are(pair: Pair) -> None:
    """A status change only adds a count to the row's metadata: parts LlamaIndex has no place for
    (a ``source``) survive, and Mastra still reads the same row."""
    from mastra_memory import Message

    pair.sync.create_thread("ada", thread_id="t")
    parts = [{"type": "text", "text": "See the guide."}, {"type": "source", "source": {"url": "https://example.com"}}]
    pair.sync.save_messages(
        [
            Message.of("user", "Where should I eat?", id="u1", thread_id="t"),
            Message.of("assistant", parts, id="a1", thread_id="t"),
        ]
    )
    s = store(pair)
    assert [m.content for m in await s.archive_oldest_messages("t", 2)] == ["Where should I eat?", "See the guide."]
    row = next(m for m in pair.sync.list_messages("t", per_page=None).messages if m.id == "a1")
    assert row.content.parts == parts and row.content.metadata == {"llama_index": {"archived": 1}}
    # What comes next is active; deleting the active messages leaves the archived ones.
    await s.add_message("t", ChatMessage(role="user", content="And tomorrow?"))
    assert [m.content for m in await s.get_messages("t")] == ["And tomorrow?"]
    await s.delete_messages("t", status=ACTIVE)
    assert [m.content for m in await s.get_messages("t", status=None)] == ["Where should I eat?", "See the guide."]
