"""Connections: DSNs and callers' pools, lazy opening, closing, and clear errors when the database is away."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import psycopg_pool
import pytest

from mastra_memory import AsyncMemory, Memory, Message, NotFoundError, PoolTimeoutError, SchemaError, StorageError
from mastra_memory._connect import configure_connection
from tests.support import drop_schema, fresh_schema


@pytest.fixture
def schema(pg_dsn: str) -> Iterator[str]:
    name = fresh_schema()
    yield name
    drop_schema(pg_dsn, name)


def test_connect_without_migrating_opens_the_pool_only_on_first_use(pg_dsn: str, schema: str) -> None:
    memory = Memory.connect(pg_dsn, schema=schema, migrate=False)
    assert memory.pool.closed
    with pytest.raises(SchemaError, match="migrate"):
        memory.get_thread("t1")  # opens the pool; the tables are not there yet
    assert not memory.pool.closed
    memory.migrate()
    assert memory.get_thread("t1") is None
    memory.close()
    assert memory.pool.closed


async def test_async_memory_is_a_context_manager_that_closes_its_pool(pg_dsn: str, schema: str) -> None:
    async with await AsyncMemory.connect(pg_dsn, schema=schema) as memory:
        thread = await memory.create_thread("r1")
        assert (await memory.get_thread(thread.id)) == thread
    assert memory.pool.closed


def test_a_callers_pool_is_used_and_left_open(pg_dsn: str, schema: str) -> None:
    with psycopg_pool.ConnectionPool(pg_dsn, kwargs={"autocommit": True}, min_size=1, max_size=2) as pool:
        with Memory(pool, schema=schema) as memory:
            memory.migrate()
            memory.create_thread("r1", thread_id="t1")
        assert not pool.closed
        with pool.connection() as conn:
            assert conn.execute(f'SELECT count(*) FROM "{schema}".mastra_threads').fetchone() == (1,)


def test_a_pool_without_autocommit_still_commits_each_operation(pg_dsn: str, schema: str) -> None:
    with psycopg_pool.ConnectionPool(pg_dsn, min_size=1, max_size=1, configure=configure_connection) as pool:
        memory = Memory(pool, schema=schema)
        memory.migrate()
        thread = memory.create_thread("r1")
        memory.save_messages([Message.user("kept", thread_id=thread.id)])
        with pytest.raises(NotFoundError):
            memory.save_messages([Message.user("x", thread_id="missing")])
        assert [m.text for m in memory.recall(thread.id).messages] == ["kept"]
    with psycopg.connect(pg_dsn) as conn:  # seen from another connection: really committed
        assert conn.execute(f'SELECT count(*) FROM "{schema}".mastra_messages').fetchone() == (1,)


def test_an_exhausted_pool_raises_a_clear_timeout(pg_dsn: str, schema: str) -> None:
    with Memory.connect(pg_dsn, schema=schema, min_size=1, max_size=1, timeout=0.3) as memory:
        held = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with memory.pool.connection():
                held.set()
                release.wait(5)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(5)
        try:
            with pytest.raises(PoolTimeoutError, match="max_size"):
                memory.get_thread("t1")
        finally:
            release.set()
            holder.join()
        assert memory.get_thread("t1") is None  # the pool recovers once the connection is back


def test_an_unreachable_database_is_a_storage_error_not_a_driver_error() -> None:
    with pytest.raises(StorageError, match="Connection refused") as info:
        Memory.connect("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", timeout=1.0)
    assert not isinstance(info.value, psycopg.Error)


async def test_an_unreachable_database_is_reported_the_same_way_by_async_memory() -> None:
    with pytest.raises(StorageError, match="Connection refused"):
        await AsyncMemory.connect("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", timeout=1.0)
