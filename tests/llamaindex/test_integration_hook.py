"""``mastra_memory.integration``, the core's public hook the LlamaIndex adapter is built on: one
plan written from its pieces runs atomically through both shells. (It lives here because this
adapter is its first user; it imports nothing of LlamaIndex.)"""

from __future__ import annotations

import asyncio

import pytest

from mastra_memory import InvalidInputError, Message, SemanticRecall
from mastra_memory.integration import (
    Begin,
    Commit,
    Plan,
    Store,
    delete_messages,
    last_messages,
    lock_thread,
    run_async,
    run_sync,
    store_of,
    thread_messages,
    with_recall,
)

from .conftest import Pair


def drop_newest(s: Store, thread_id: str, resource_id: str) -> Plan[int]:
    """The module docstring's example: read and delete under the thread lock."""
    yield Begin()
    if not (yield from lock_thread(s, thread_id)):
        yield Commit()
        return 0
    newest = yield from last_messages(s, thread_id, resource_id, 1)
    deleted = yield from delete_messages(s, [m.id for m in newest if m.id])
    yield Commit()
    return deleted


async def test_one_plan_runs_on_both_shells_and_concurrent_runs_do_not_collide(pair: Pair) -> None:
    pair.sync.create_thread("ada", thread_id="t")
    pair.sync.save_messages([Message.user(str(i), thread_id="t") for i in range(5)])
    assert run_sync(pair.sync, drop_newest(store_of(pair.sync), "t", "ada")) == 1
    results = await asyncio.gather(
        *(run_async(pair.aio, drop_newest(store_of(pair.aio), "t", "ada")) for _ in range(3))
    )
    assert results == [1, 1, 1]  # each run waited for the lock, then saw the previous one's delete
    left = run_sync(pair.sync, thread_messages(store_of(pair.sync), "t", "ada"))
    assert [m.text for m in left] == ["0"]
    assert run_sync(pair.sync, drop_newest(store_of(pair.sync), "missing", "ada")) == 0


async def test_with_recall_needs_an_embedder_and_leaves_the_memory_alone(pair: Pair) -> None:
    with pytest.raises(InvalidInputError, match="no embedder"):
        with_recall(store_of(pair.sync), SemanticRecall(top_k=2))
    with pytest.raises(InvalidInputError, match="SemanticRecall"):
        with_recall(store_of(pair.sync), {"top_k": 2})  # type: ignore[arg-type]
    assert pair.sync.config.recall is None
