"""MastraChatStore (BaseChatStore over Mastra threads) on the real database, sync and async."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from llama_index.core.base.llms.types import ChatMessage, TextBlock
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.storage.chat_store import BaseChatStore

from llama_index_mastra_memory import MastraChatStore
from mastra_memory import OwnershipError

from .conftest import Pair, turn


class Face:
    """One test body for both faces of the store: the sync methods, or their async twins."""

    def __init__(self, store: MastraChatStore, flavour: str) -> None:
        self.store, self.flavour = store, flavour

    async def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.flavour == "sync":
            return getattr(self.store, name)(*args, **kwargs)
        async_name = {"add_message": "async_add_message"}.get(name, "a" + name)
        return await getattr(self.store, async_name)(*args, **kwargs)


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest, pair: Pair) -> Face:
    store = MastraChatStore(resource_id="ada", memory=pair.sync, async_memory=pair.aio, title="Chat")
    return Face(store, str(request.param))


def test_it_is_a_chat_store_with_its_own_class_name(pair: Pair) -> None:
    store = MastraChatStore(resource_id="ada", memory=pair.sync)
    assert isinstance(store, BaseChatStore)
    assert MastraChatStore.class_name() == "MastraChatStore"
    with pytest.raises(TypeError, match="needs memory"):
        MastraChatStore(resource_id="ada")


async def test_add_get_and_threads_in_mastras_shape(call: Face, pair: Pair) -> None:
    assert await call("get_messages", "t1") == []
    for message in turn(1):
        await call("add_message", "t1", message)
    await call("add_messages", "t1", turn(2))
    assert await call("get_messages", "t1") == turn(1) + turn(2)
    thread = pair.sync.get_thread("t1")
    assert thread is not None and thread.resource_id == "ada" and thread.title == "Chat"
    rows = pair.sync.list_messages("t1", per_page=None).messages
    # Tool results are always folded into the assistant row holding their calls (Mastra's shape);
    # an assistant message added on its own starts a row (a batch keeps a whole turn in one).
    assert [r.role for r in rows] == ["user", "assistant", "assistant", "user", "assistant"]
    calls = [p["toolInvocation"] for p in rows[1].content.parts if p.get("type") == "tool-invocation"]
    assert calls == [
        {"state": "result", "toolCallId": "c1", "toolName": "calc", "args": {"n": 1}, "result": "result 1"}
    ]
    assert await call("get_keys") == ["t1"]
    assert await call("count_messages", "t1") == 8


async def test_last_n_reads_only_the_newest(call: Face) -> None:
    await call("add_messages", "t", turn(1) + turn(2) + turn(3))
    assert await call("get_messages", "t", limit=2) == turn(3)[-2:]
    assert await call("get_messages", "t", limit=5) == (turn(2) + turn(3))[-5:]
    assert await call("get_messages", "t", limit=0) == []


async def test_positional_deletes(call: Face) -> None:
    await call("add_messages", "t", turn(1) + turn(2))
    everything = turn(1) + turn(2)
    assert await call("delete_message", "t", 2) == everything.pop(2)  # a tool result inside a turn row
    assert await call("get_messages", "t") == everything
    assert await call("delete_message", "t", 0) == everything.pop(0)  # a whole user row
    assert await call("delete_last_message", "t") == everything.pop()
    assert await call("get_messages", "t") == everything
    assert await call("delete_message", "t", 99) is None
    assert await call("delete_message", "unknown", 0) is None


async def test_set_and_delete_all(call: Face) -> None:
    await call("add_messages", "t", turn(1))
    await call("set_messages", "t", turn(2))
    assert await call("get_messages", "t") == turn(2)
    assert await call("delete_messages", "t") == turn(2)
    assert await call("get_messages", "t") == []
    assert await call("delete_messages", "nope") is None


async def test_another_resources_thread_is_refused(call: Face, pair: Pair) -> None:
    pair.sync.create_thread("bob", thread_id="bobs")
    with pytest.raises(OwnershipError):
        await call("get_messages", "bobs")
    with pytest.raises(OwnershipError):
        await call("delete_message", "bobs", 0)
    with pytest.raises(OwnershipError):
        await call("set_messages", "bobs", turn(1))


async def test_concurrent_positional_deletes_remove_distinct_messages(pair: Pair) -> None:
    store = MastraChatStore(resource_id="ada", async_memory=pair.aio)
    await store.aadd_messages("t", [ChatMessage(role="user", content=str(i)) for i in range(6)])
    removed = await asyncio.gather(*(store.adelete_message("t", 0) for _ in range(3)))
    assert sorted(m.content or "" for m in removed if m) == ["0", "1", "2"]
    assert [m.content for m in await store.aget_messages("t")] == ["3", "4", "5"]


async def test_async_only_and_sync_only_stores(pair: Pair) -> None:
    aio = MastraChatStore(resource_id="ada", async_memory=pair.aio)
    await aio.async_add_message("t", ChatMessage(role="user", content="hi"))
    with pytest.raises(TypeError, match="only an AsyncMemory"):
        aio.get_messages("t")
    sync = MastraChatStore(resource_id="ada", memory=pair.sync)
    assert await sync.aget_messages("t") == [ChatMessage(role="user", content="hi")]  # via a worker thread


async def test_chat_memory_buffer_uses_it(pair: Pair) -> None:
    store = MastraChatStore(resource_id="ada", memory=pair.sync, async_memory=pair.aio)
    buffer = ChatMemoryBuffer.from_defaults(chat_store=store, chat_store_key="buf", token_limit=50)
    for n in range(5):
        buffer.put(ChatMessage(role="user", content=f"message number {n} " + "word " * 10))
        await buffer.aput(ChatMessage(role="assistant", content=f"reply {n}"))
    assert len(buffer.get_all()) == 10
    window = buffer.get()
    assert 0 < len(window) < 10 and window[-1] == ChatMessage(role="assistant", content="reply 4")
    assert [TextBlock(text="reply 4")] == (await buffer.aget())[-1].blocks
    buffer.reset()
    assert buffer.get_all() == []


async def test_a_lone_tool_result_never_rewrites_a_row_it_would_damage(pair: Pair) -> None:
    """A Mastra-written assistant row with a part LlamaIndex has no place for (a ``source``) is not folded."""
    from mastra_memory import Message

    pair.sync.create_thread("ada", thread_id="t")
    parts = [
        {"type": "step-start"},
        {"type": "source", "source": {"url": "https://example.com"}},
        {
            "type": "tool-invocation",
            "toolInvocation": {"state": "call", "toolCallId": "k1", "toolName": "f", "args": {}},
        },
    ]
    pair.sync.save_messages([Message.of("assistant", parts, id="mastra-row", thread_id="t")])
    store = MastraChatStore(resource_id="ada", memory=pair.sync)
    store.add_message("t", ChatMessage(role="tool", content="done", additional_kwargs={"tool_call_id": "k1"}))
    rows = pair.sync.list_messages("t", per_page=None).messages
    assert rows[0].id == "mastra-row" and rows[0].content.parts == parts  # untouched
    assert len(rows) == 2
    assert store.get_messages("t")[-1] == ChatMessage(
        role="tool", content="done", additional_kwargs={"tool_call_id": "k1"}
    )
