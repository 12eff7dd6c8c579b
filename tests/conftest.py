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


@pytest.fixture(scope="session")
async def _resources(pg_dsn: str) -> AsyncIterator[None]:
    """Owns the shared pools and schemas; depends on pg_dsn so it is torn down before the server stops."""
    yield
    for shared in _shared.values():
        drop_schema(shared.dsn, shared.schema)
    _shared.clear()
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
async def mem_factory(flavour: str, pg_dsn: str, _resources: None) -> AsyncIterator[MemoryFactory]:
    """Make more memories (other configs or schemas) of this test's flavour; schemas are dropped after."""
    made: list[str] = []

    async def factory(schema: str | None = None, **kwargs: Any) -> Any:
        name = schema or fresh_schema()
        made.append(name)
        return await make_memory(flavour, pg_dsn, name, **kwargs)

    yield factory
    for name in made:
        drop_schema(pg_dsn, name)


_RESET = """
DO $reset$ DECLARE r record; BEGIN
  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {schema} AND c.relkind IN ('r', 'p') AND NOT c.relname = ANY({tables}) LOOP
    EXECUTE format('DROP TABLE %I.%I CASCADE', {schema}, r.relname);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = {schema} AND NOT p.proname = ANY({functions}) LOOP
    EXECUTE format('DROP FUNCTION %s CASCADE', r.f);
  END LOOP;
END $reset$
"""


class SharedSchema:
    """One migrated schema per (flavour, server), emptied after each test instead of dropped.

    Creating, migrating and dropping a schema per test was about 70 % of the storage suite's time.
    After a test, whatever it added (tables, functions) is dropped and the memory tables are emptied.
    """

    def __init__(self, dsn: str, schema: str, memory: Any) -> None:
        self.dsn, self.schema, self.memory = dsn, schema, memory
        with psycopg.connect(dsn) as conn:
            self.tables = [
                r
                for (r,) in conn.execute(
                    "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE nspname = %s AND relkind IN ('r', 'p')",
                    (schema,),
                )
            ]
            self.functions = [
                r
                for (r,) in conn.execute(
                    "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE nspname = %s",
                    (schema,),
                )
            ]

    def reset(self) -> None:
        q = psycopg.sql.quote
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(
                _RESET.format(
                    schema=q(self.schema), tables=q(self.tables) + "::text[]", functions=q(self.functions) + "::text[]"
                )
            )  # type: ignore[arg-type]
            with conn.transaction():
                for table in self.tables:
                    if table != "mastra_memory_migrations":
                        conn.execute(
                            psycopg.sql.SQL("DELETE FROM {}").format(psycopg.sql.Identifier(self.schema, table))
                        )


_shared: dict[tuple[str, str], SharedSchema] = {}


@pytest.fixture(params=["sync", "async", "sync-pg15", "async-pg15"])
async def mem(request: pytest.FixtureRequest, pg_dsn: str, _resources: None) -> AsyncIterator[Any]:
    """A migrated, empty schema reached through Memory or AsyncMemory, on PostgreSQL 18 or 15."""
    flavour, _, server = str(request.param).partition("-")
    dsn = request.getfixturevalue("pg15_dsn") if server == "pg15" else pg_dsn
    key = (flavour, dsn)
    if key not in _shared:
        schema = fresh_schema()
        _shared[key] = SharedSchema(dsn, schema, await make_memory(flavour, dsn, schema))
    shared = _shared[key]
    try:
        yield shared.memory
    finally:
        shared.reset()
