"""Pools when connections die or run out: what the timeout says, and callers' own pools.

- A pool that times out says why: the database could not be reached (with the server's reason),
  or every connection stayed busy (then raising max_size is the advice). Seen with a real server
  that is stopped and with a pool that is really exhausted.
- A pool the caller passes to ``Memory(pool)`` / ``AsyncMemory(pool)`` keeps its configuration,
  yet connections the server killed (``pg_terminate_backend``) never fail a call: each connection
  taken gets the same dead-connection check our own pools make.

Stops use a private embedded PostgreSQL of this module (the session's shared server keeps running).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import psycopg_pool
import pytest

from mastra_memory import AsyncMemory, Memory, Message, PoolTimeoutError
from mastra_memory._connect import configure_async_connection, configure_connection
from mastra_memory.embedded import EmbeddedPostgres

from ..conftest import Awaitably
from ._helpers import connect, start, wait_for_lock_waiters

DOWN = "could not connect to the database"


@pytest.fixture
def schema(pg_dsn: str) -> Iterator[str]:
    name = f"pools_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(psycopg.sql.Identifier(name)))


async def callers_memory(flavour: str, dsn: str, schema: str, **pool_options: Any) -> tuple[Any, Any]:
    """A memory over a pool the test owns (plain psycopg_pool settings, no check callback)."""
    options: dict[str, Any] = {"kwargs": {"autocommit": True}, "min_size": 2, "max_size": 2, **pool_options}
    if flavour == "async":
        apool = psycopg_pool.AsyncConnectionPool(dsn, configure=configure_async_connection, open=False, **options)
        await apool.open(wait=True)
        amem = AsyncMemory(apool, schema=schema)
        await amem.migrate()
        return amem, apool
    pool = psycopg_pool.ConnectionPool(dsn, configure=configure_connection, open=False, **options)
    pool.open(wait=True)
    mem = Memory(pool, schema=schema)
    mem.migrate()
    return Awaitably(mem), pool


async def close(pool: Any) -> None:
    if isinstance(pool, psycopg_pool.AsyncConnectionPool):
        await pool.close()
    else:
        pool.close()


async def kill_sessions(dsn: str, app: str) -> None:
    """pg_terminate_backend every session of ``app`` and wait until they are gone."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            (app,),
        ).fetchone()
        assert killed is not None and killed[0] >= 1
        for _ in range(1000):  # it only signals them
            if admin.execute(
                "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = %s", (app,)
            ).fetchone() == (True,):
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the killed sessions never went away")


@pytest.fixture
async def stopped_later(server: EmbeddedPostgres) -> AsyncIterator[EmbeddedPostgres]:
    """The private server, started again after the test whatever happened."""
    yield server
    await asyncio.to_thread(server.start)


async def test_a_stopped_database_times_out_saying_it_cannot_connect(
    stopped_later: EmbeddedPostgres, flavour: str
) -> None:
    server = stopped_later
    mem = await connect(flavour, server.start(), schema=f"pools_{uuid.uuid4().hex[:8]}", timeout=1.0)
    try:
        await mem.create_thread("ada", thread_id="t")
        await asyncio.to_thread(server.stop)
        with pytest.raises(PoolTimeoutError) as info:
            await mem.get_thread("t")
        message = str(info.value)
        assert message.startswith(DOWN), message
        assert "No such file or directory" in message or "Connection refused" in message  # the server's reason
        assert "max_size" not in message  # a bigger pool would not help
    finally:
        await mem.close()


async def test_an_exhausted_pool_times_out_saying_every_connection_is_busy(
    pg_dsn: str, flavour: str, schema: str
) -> None:
    mem = await connect(flavour, pg_dsn, schema=schema, min_size=1, max_size=1, timeout=0.5)
    try:
        await mem.create_thread("ada", thread_id="t")
        with psycopg.connect(pg_dsn) as blocker:  # the one pooled connection gets stuck behind this lock
            blocker.execute(
                psycopg.sql.SQL("SELECT 1 FROM {} WHERE id = 't' FOR UPDATE").format(
                    psycopg.sql.Identifier(schema, "mastra_threads")
                )
            )
            stuck = start(mem, lambda m: m.save_messages([Message.user("hi", thread_id="t")]))
            await wait_for_lock_waiters(pg_dsn, 1, schema)
            with pytest.raises(PoolTimeoutError) as info:
                await mem.get_thread("t")
            blocker.rollback()
        await stuck
        message = str(info.value)
        assert "all 1 of the pool's connections (max_size 1) stayed busy" in message, message
        assert "raise max_size" in message
        assert DOWN not in message
    finally:
        await mem.close()


async def test_killed_connections_of_a_callers_pool_never_fail_a_call(
    pg_dsn: str, flavour: str, schema: str
) -> None:
    app = f"mm-callers-{uuid.uuid4().hex[:8]}"
    mem, pool = await callers_memory(flavour, f"{pg_dsn}&application_name={app}", schema)
    try:
        await mem.create_thread("ada", thread_id="t")
        for round_ in range(2):
            await kill_sessions(pg_dsn, app)
            for n in range(3):  # every call after the kill works, the first one too
                await mem.save_messages([Message.user(f"r{round_} n{n}", thread_id="t")])
        assert len((await mem.list_messages("t", per_page=None)).messages) == 6
        assert pool.max_size == 2 and pool.min_size == 2  # the caller's settings are left as they were
    finally:
        await close(pool)


async def test_a_callers_pool_on_a_stopped_database_says_it_cannot_connect(
    stopped_later: EmbeddedPostgres, flavour: str
) -> None:
    server = stopped_later
    mem, pool = await callers_memory(flavour, server.start(), f"pools_{uuid.uuid4().hex[:8]}", timeout=1.0)
    try:
        await mem.create_thread("ada", thread_id="t")
        await asyncio.to_thread(server.stop)
        with pytest.raises(PoolTimeoutError, match=DOWN):
            await mem.get_thread("t")
    finally:
        await close(pool)
