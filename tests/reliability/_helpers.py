"""Helpers of the reliability suite: memories on a given server, background calls, waiting for locks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import psycopg

from mastra_memory import AsyncMemory, Memory

from ..conftest import Awaitably


async def connect(flavour: str, dsn: str, **options: Any) -> Any:
    """A memory that owns its pool (``Memory.connect``/``AsyncMemory.connect``), awaitable either way."""
    if flavour == "async":
        return await AsyncMemory.connect(dsn, **options)
    return Awaitably(Memory.connect(dsn, **options))


def start(mem: Any, call: Callable[[Any], Any]) -> asyncio.Future[Any]:
    """Run ``call(memory)`` in the background: a task for AsyncMemory, an OS thread for Memory
    (whose blocking call would otherwise stall the event loop)."""
    if isinstance(mem, AsyncMemory):
        return asyncio.ensure_future(call(mem))
    return asyncio.ensure_future(asyncio.to_thread(call, mem.memory))


async def wait_for_lock_waiters(dsn: str, n: int, schema: str, limit: float = 20.0) -> None:
    """Poll until ``n`` statements naming ``schema`` wait for a lock (racing operations parked);
    other sessions on a shared server do not count."""
    give_up = time.monotonic() + limit
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND strpos(query, %s) > 0",
                (f'"{schema}"',),
            ).fetchone()
            if row is not None and row[0] >= n:
                return
            if time.monotonic() > give_up:
                raise AssertionError(f"{n} session(s) never started waiting for a lock")
            await asyncio.sleep(0.02)


def sql_count(dsn: str, schema: str, statement: str, *params: Any) -> int:
    """One ``count(*)`` in the memory's schema, over a connection of its own."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(schema)))
        row = conn.execute(statement.encode(), params).fetchone()
    assert row is not None
    return int(row[0])
