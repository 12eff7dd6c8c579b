"""MastraMemory (BaseMemory) on the real database: reads, writes, recall, working memory, isolation,
serialisation, sync and async. Recall uses HashEmbedder."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from llama_index.core.base.llms.types import ChatMessage, MessageRole

from llama_index_mastra_memory import MastraMemory
from mastra_memory import InvalidInputError, MemoryConfig, Message, OwnershipError, SemanticRecall, WorkingMemory
from mastra_memory.embedding import HashEmbedder

from .conftest import Pair, turn

T0_TEXTS = [
    "I adopted a beagle puppy named Biscuit last week",
    "Beagles are lovely dogs, congratulations on Biscuit",
    "We are going hiking in the Alps in July",
    "Pack good boots for the Alps",
]


def recall_config(**kwargs: Any) -> MemoryConfig:
    return MemoryConfig(last_messages=4, semantic_recall=SemanticRecall(message_range=0, top_k=2), **kwargs)


def seed(pair: Pair, thread_id: str, resource_id: str, texts: list[str]) -> None:
    from tests.langchain.conftest import T0  # one fixed clock for seeded rows

    pair.sync.create_thread(resource_id, thread_id=thread_id)
    pair.sync.save_messages(
        [
            Message.of(
                "user" if i % 2 == 0 else "assistant", text, thread_id=thread_id, created_at=T0 + timedelta(minutes=i)
            )
            for i, text in enumerate(texts)
        ]
    )


async def test_sync_surface(pair: Pair) -> None:
    memory = MastraMemory.from_defaults("t", "ada", memory=pair.sync, title="Chat")
    assert memory.get() == [] and memory.get_all() == []
    memory.put(turn(1)[0])
    memory.put_messages(turn(1)[1:] + turn(2))
    assert memory.get_all() == turn(1) + turn(2)
    assert memory.get() == turn(1) + turn(2)  # no blocks configured: history only (last 10 rows)
    first, second = memory.get(), memory.get()
    first[0].blocks.clear()  # agents edit what they get in place
    assert second == memory.get() == turn(1) + turn(2)
    memory.set(turn(3))
    assert memory.get_all() == turn(3)
    memory.reset()
    assert memory.get_all() == []
    thread = pair.sync.get_thread("t")
    assert thread is not None and thread.title == "Chat"
    assert await memory.aget_all() == []  # async calls on a blocking Memory run in a worker thread


async def test_async_surface(pair: Pair) -> None:
    memory = MastraMemory.from_defaults("t", "ada", async_memory=pair.aio, last_messages=2)
    await memory.aput(turn(1)[0])
    await memory.aput_messages(turn(1)[1:] + turn(2))
    assert await memory.aget_all() == turn(1) + turn(2)
    assert await memory.aget() == turn(2)  # last 2 rows: the user row and the assistant turn row
    await memory.aset(turn(3))
    assert await memory.aget_all() == turn(3)
    await memory.areset()
    assert await memory.aget_all() == []
    with pytest.raises(TypeError, match="only an AsyncMemory"):
        memory.get()


async def test_one_round_trip_per_batch(pair: Pair) -> None:
    memory = MastraMemory.from_defaults("t", "ada", async_memory=pair.aio)
    await memory.aput(ChatMessage(role="user", content="hi"))
    rows = (await pair.aio.list_messages("t", per_page=None)).messages
    await memory.aput_messages(turn(1)[1:])
    after = (await pair.aio.list_messages("t", per_page=None)).messages
    assert len(after) == len(rows) + 1  # a whole agent turn is one assistant row


async def test_an_agent_turn_and_a_read_are_one_statement_each(pair: Pair) -> None:
    """Counted at the driver: every statement goes through a cursor of the pool's connections."""
    import psycopg
    import psycopg_pool

    from mastra_memory import AsyncMemory
    from mastra_memory._connect import configure_async_connection

    executed: list[str] = []

    class CountingCursor(psycopg.AsyncCursor[Any]):
        async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            executed.append(str(query)[:40])
            return await super().execute(query, params, **kwargs)

    pool = psycopg_pool.AsyncConnectionPool(
        pair.dsn,
        kwargs={"autocommit": True, "cursor_factory": CountingCursor},
        configure=configure_async_connection,
        min_size=1,
        max_size=2,
        open=False,
    )
    await pool.open(wait=True)
    try:
        memory = MastraMemory.from_defaults("t", "ada", async_memory=AsyncMemory(pool, schema=pair.schema))
        await memory.aput(ChatMessage(role="user", content="first, creating the thread"))
        executed.clear()
        await memory.aput(ChatMessage(role="user", content="question"))
        await memory.aput_messages(turn(1)[1:])  # FunctionAgent's end of turn
        assert len(executed) == 2
        executed.clear()
        await memory.aget()
        assert len(executed) == 1
    finally:
        await pool.close()


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_recall_across_threads_of_one_resource_and_never_another(pair_factory: Any, flavour: str) -> None:
    pair = await pair_factory(config=recall_config(), embedder=HashEmbedder())
    seed(pair, "pets", "ada", T0_TEXTS)
    seed(pair, "bobs-pets", "bob", ["My beagle is called Rex and he is a beagle", "Rex the beagle is cute"])
    ada = MastraMemory.from_defaults(
        "new", "ada", memory=pair.sync, async_memory=pair.aio if flavour == "async" else None
    )
    bob = MastraMemory.from_defaults(
        "new-bob", "bob", memory=pair.sync, async_memory=pair.aio if flavour == "async" else None
    )
    question = ChatMessage(role="user", content="What is my beagle called?")
    if flavour == "sync":
        ada.put(question)
        bob.put(question)
        got_ada, got_bob = ada.get(), bob.get()
    else:
        await asyncio.gather(ada.aput(question), bob.aput(question))
        got_ada, got_bob = await asyncio.gather(ada.aget(), bob.aget())
    assert got_ada[0].role == MessageRole.SYSTEM and "Biscuit" in (got_ada[0].content or "")
    assert "Rex" not in (got_ada[0].content or "")
    assert got_bob[0].role == MessageRole.SYSTEM and "Rex" in (got_bob[0].content or "")
    assert "Biscuit" not in (got_bob[0].content or "")
    assert got_ada[1:] == [question] and got_bob[1:] == [question]
    # An explicit input is the query (agents pass it on later calls of a turn); history is unchanged.
    assert ada.get(input="hiking boots")[-1] == question


async def test_working_memory_is_the_system_message(pair_factory: Any) -> None:
    pair = await pair_factory(config=MemoryConfig(working_memory=WorkingMemory(enabled=True)))
    pair.sync.create_thread("ada", thread_id="t")
    pair.sync.update_working_memory("t", "ada", working_memory="# User\n- Name: Ada Lovelace")
    memory = MastraMemory.from_defaults("t", "ada", memory=pair.sync)
    memory.put(ChatMessage(role="user", content="hi"))
    got = memory.get()
    assert got[0].role == MessageRole.SYSTEM and "Ada Lovelace" in (got[0].content or "")
    assert got[1:] == [ChatMessage(role="user", content="hi")]
    # insert_method="user": the same text in front of the newest user turn, nothing stored changes.
    as_user = MastraMemory.from_defaults("t", "ada", memory=pair.sync, insert_method="user")
    got = as_user.get()
    assert [m.role for m in got] == [MessageRole.USER]
    assert "Ada Lovelace" in got[0].blocks[0].text and got[0].blocks[-1].text == "hi"  # type: ignore[union-attr]
    assert as_user.get_all() == [ChatMessage(role="user", content="hi")]
    with pytest.raises(ValueError, match="insert_method"):  # pydantic's ValidationError
        MastraMemory.from_defaults("t", "ada", memory=pair.sync, insert_method="middle")


async def test_serialises_without_secrets_and_reconnects_by_name_or_env(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    MastraMemory.register_connection("main", memory=pair.sync, async_memory=pair.aio)
    memory = MastraMemory.from_defaults("t", "ada", connection="main")
    await memory.aput(ChatMessage(role="user", content="hi"))
    data = memory.to_dict()
    assert data == {
        "thread_id": "t",
        "resource_id": "ada",
        "connection": "main",
        "dsn_env": "DATABASE_URL",
        "schema_name": "public",
        "last_messages": None,
        "top_k": None,
        "title": "",
        "insert_method": "system",
        "class_name": "MastraMemory",
    }
    again = MastraMemory.from_dict(data)
    assert again.get_all() == [ChatMessage(role="user", content="hi")]
    # From an environment variable: only its name is stored.
    monkeypatch.setenv("MASTRA_TEST_DSN", pair.dsn)
    by_env = MastraMemory.from_defaults("t", "ada", dsn_env="MASTRA_TEST_DSN", schema_name=pair.schema)
    assert pair.dsn not in str(by_env.to_dict())
    try:
        assert by_env.get_all() == [ChatMessage(role="user", content="hi")]
        assert await by_env.aget_all() == [ChatMessage(role="user", content="hi")]
    finally:
        MastraMemory.close_connections()
        await MastraMemory.aclose_connections()
    with pytest.raises(InvalidInputError, match="NOPE_DSN"):
        MastraMemory.from_defaults("t", "ada", dsn_env="NOPE_DSN").get()
    with pytest.raises(InvalidInputError, match="no connection registered"):
        MastraMemory.from_defaults("t", "ada", connection="unknown").get()


async def test_sync_put_from_worker_threads_as_chat_engines_do(pair: Pair) -> None:
    memory = MastraMemory.from_defaults("t", "ada", memory=pair.sync)
    memory.put(ChatMessage(role="user", content="start"))
    workers = [threading.Thread(target=memory.put, args=(ChatMessage(role="user", content=f"w{i}"),)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(m.content or "" for m in memory.get_all()) == ["start", "w0", "w1", "w2", "w3"]


async def test_thread_management(pair: Pair) -> None:
    for flavour in ("sync", "async"):
        memory = MastraMemory.from_defaults(f"{flavour}-t", "ada", memory=pair.sync, async_memory=pair.aio)
        if flavour == "sync":
            assert memory.get_thread() is None and memory.delete_thread() is False
            thread = memory.update_thread(title="Trip", metadata={"topic": "travel"})
            other = memory.for_thread(f"{flavour}-other")
            other.put(ChatMessage(role="user", content="hi"))
            listed = [t.id for t in memory.list_threads()]
        else:
            assert await memory.aget_thread() is None and await memory.adelete_thread() is False
            thread = await memory.aupdate_thread(title="Trip", metadata={"topic": "travel"})
            other = memory.for_thread(f"{flavour}-other")
            await other.aput(ChatMessage(role="user", content="hi"))
            listed = [t.id for t in await memory.alist_threads()]
        assert thread.title == "Trip" and thread.metadata == {"topic": "travel"} and thread.resource_id == "ada"
        assert other.thread_id == f"{flavour}-other" and other.get_all() == [ChatMessage(role="user", content="hi")]
        assert memory.get_all() == []  # for_thread does not touch the original's thread
        assert {f"{flavour}-t", f"{flavour}-other"} <= set(listed)
        assert (memory.delete_thread() if flavour == "sync" else await memory.adelete_thread()) is True
        assert pair.sync.get_thread(f"{flavour}-t") is None
    pair.sync.create_thread("bob", thread_id="bobs")
    with pytest.raises(OwnershipError):
        MastraMemory.from_defaults("bobs", "ada", memory=pair.sync).delete_thread()
    assert pair.sync.get_thread("bobs") is not None


async def test_a_chat_store_gives_its_threads_as_a_db_store(pair: Pair) -> None:
    from llama_index.core.memory import Memory

    from llama_index_mastra_memory import MastraChatStore

    store = MastraChatStore(resource_id="ada", memory=pair.sync, async_memory=pair.aio)
    store.add_messages("t", turn(1))
    memory = Memory.from_defaults(session_id="t", chat_store=store.as_db_store())
    assert await memory.aget_all() == turn(1)
    await memory.aput(ChatMessage(role="user", content="more"))
    assert store.get_messages("t") == [*turn(1), ChatMessage(role="user", content="more")]
    with pytest.raises(TypeError, match="async"):
        MastraChatStore(resource_id="ada", memory=pair.sync).as_db_store()
