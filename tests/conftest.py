"""Shared fixtures: a real PostgreSQL for every storage test, and one scenario suite for both shells.

- ``pg_dsn``: the embedded PostgreSQL 18 + pgvector (started once per test session in a temporary
  directory), or ``DATABASE_URL`` when set.
- ``pg15_dsn``: the machine's PostgreSQL 15 (``MASTRA_MEMORY_PG15_URL``, default
  ``postgresql://postgres@127.0.0.1:5432/test``); tests using it are skipped, with the reason
  printed, when it does not answer.
- ``mem``: a migrated, private schema per test, reached through ``Memory`` or ``AsyncMemory``
  (parametrized ``sync``/``async``, and ``pg15`` variants for the storage suite). Tests always
  ``await`` its methods; for the sync flavour the wrapper calls the blocking method directly.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import psycopg
import psycopg_pool
import pytest

from mastra_memory import AsyncMemory, Memory
from mastra_memory._connect import configure_async_connection, configure_connection
from mastra_memory.embedded import EmbeddedPostgres

from .support import drop_schema, fresh_schema

PG15_URL = os.environ.get("MASTRA_MEMORY_PG15_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """DSN of the PostgreSQL (with pgvector) that storage tests use."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with tempfile.TemporaryDirectory(prefix="mastra-memory-tests-") as tmp:
        server = EmbeddedPostgres(os.path.join(tmp, "pgdata"))
        yield server.start()
        server.stop()


@pytest.fixture(scope="session")
def pg15_dsn() -> str:
    """DSN of the machine's PostgreSQL 15 (no pgvector), or a skip saying why it is missing."""
    try:
        with psycopg.connect(PG15_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL 15 at {PG15_URL} does not answer ({exc}); set MASTRA_MEMORY_PG15_URL")
    return PG15_URL


def _pool_kwargs() -> dict[str, Any]:
    return {"kwargs": {"autocommit": True}, "min_size": 1, "max_size": 8, "open": False}


_pools: dict[str, Any] = {}


def _sync_pool(dsn: str) -> psycopg_pool.ConnectionPool[Any]:
    key = f"sync:{dsn}"
    if key not in _pools:
        pool = psycopg_pool.ConnectionPool(dsn, configure=configure_connection, **_pool_kwargs())
        pool.open(wait=True)
        _pools[key] = pool
    return _pools[key]  # type: ignore[no-any-return]


async def _async_pool(dsn: str) -> psycopg_pool.AsyncConnectionPool[Any]:
    key = f"async:{dsn}"
    if key not in _pools:
        pool = psycopg_pool.AsyncConnectionPool(dsn, configure=configure_async_connection, **_pool_kwargs())
        await pool.open(wait=True)
        _pools[key] = pool
    return _pools[key]  # type: ignore[no-any-return]


@pytest.fixture(scope="session", autouse=True)
async def _close_pools() -> AsyncIterator[None]:
    yield
    for pool in _pools.values():
        if isinstance(pool, psycopg_pool.AsyncConnectionPool):
            await pool.close()
        else:
            pool.close()
    _pools.clear()


class Awaitably:
    """Gives a sync ``Memory`` the awaitable face of ``AsyncMemory`` so one test body serves both."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.memory, name)
        if not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            return attr(*args, **kwargs)

        return call


async def make_memory(flavour: str, dsn: str, schema: str, **kwargs: Any) -> Any:
    """A migrated memory on ``schema``: an AsyncMemory, or a Memory behind :class:`Awaitably`."""
    if flavour == "async":
        memory = AsyncMemory(await _async_pool(dsn), schema=schema, **kwargs)
        await memory.migrate()
        return memory
    sync = Memory(_sync_pool(dsn), schema=schema, **kwargs)
    sync.migrate()
    return Awaitably(sync)


MemoryFactory = Callable[..., Awaitable[Any]]


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def mem_factory(flavour: str, pg_dsn: str) -> AsyncIterator[MemoryFactory]:
    """Make more memories (other configs or schemas) of this test's flavour; schemas are dropped after."""
    made: list[str] = []

    async def factory(schema: str | None = None, **kwargs: Any) -> Any:
        name = schema or fresh_schema()
        made.append(name)
        return await make_memory(flavour, pg_dsn, name, **kwargs)

    yield factory
    for name in made:
        drop_schema(pg_dsn, name)


@pytest.fixture(params=["sync", "async", "sync-pg15", "async-pg15"])
async def mem(request: pytest.FixtureRequest, pg_dsn: str) -> AsyncIterator[Any]:
    """A fresh, migrated schema reached through Memory or AsyncMemory, on PostgreSQL 18 or 15."""
    flavour, _, server = str(request.param).partition("-")
    dsn = request.getfixturevalue("pg15_dsn") if server == "pg15" else pg_dsn
    schema = fresh_schema()
    memory = await make_memory(flavour, dsn, schema)
    try:
        yield memory
    finally:
        drop_schema(dsn, schema)
